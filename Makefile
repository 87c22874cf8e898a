# The README's two commands: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup peers demo test lint unit notebooks bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("bodhi_nb needs Python 3.11+, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

# Real test peers (the local Hub server ships in bodhi_nb.testing; later issues add
# oidc-provider, llama.cpp and Chromium here).
peers: setup

demo: setup
	$(PY) notebooks/run.py notebooks/00-status.ipynb
	$(VENV)/bin/bodhi status

lint: setup
	$(VENV)/bin/ruff check bodhi_nb tests bench notebooks
	$(VENV)/bin/mypy

unit: setup peers
	$(PY) -m pytest tests

notebooks: setup
	BODHI_HOME=$$(mktemp -d) $(PY) -m pytest --nbval-lax -p no:cacheprovider notebooks/

test: lint unit notebooks

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
