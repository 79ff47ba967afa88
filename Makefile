# The two commands the README opens with: `make demo` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM ?= /usr/bin/chromium
NODE_DIR := tests/e2e/servers

.PHONY: demo test lint unit e2e compat install test-deps chromium node bench clean

# Installing compiles the per-entry core with mypyc (setup.py: about a minute; pure Python when it
# cannot). An edit to setup.py or to a module in these folders (a superset of what it compiles)
# reinstalls; until then the package runs its sources, not a stale build.
BUILD_INPUTS := setup.py $(wildcard cors_audit/*.py cors_audit/rules/*.py cors_audit/sources/*.py) \
	cors_audit/report/json_out.py

$(VENV)/.installed: pyproject.toml $(BUILD_INPUTS)
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $@

# One build, not two: the test extras install the package as well.
$(VENV)/.test-installed: pyproject.toml $(BUILD_INPUTS)
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

## make demo: analyze the bundled real capture and write the reports into reports/
demo: $(VENV)/.installed
	$(VENV)/bin/cors-audit report examples/demo.har \
		--html reports/demo.html --json reports/demo.json --sarif reports/demo.sarif
	@echo "open reports/demo.html"

chromium:
	@[ -x $(CHROMIUM) ] || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@$(CHROMIUM) --version 2>/dev/null | head -1

node: $(NODE_DIR)/node_modules/.installed

$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

test-deps: $(VENV)/.test-installed chromium node

## make test: install what the tests need (Python packages, Debian's chromium, npm packages) and run them all
test: test-deps lint
	@# the compiled build is what users get; a compile that fell back to pure Python fails here
	@$(PY) -c "import cors_audit, os, sys; sys.exit(0 if cors_audit.COMPILED or os.environ.get('CORS_AUDIT_PURE') \
		else 'make test: the mypyc build fell back to pure Python; pip install -v -e . shows why')"
	$(PY) -m pytest
	CORS_AUDIT_PURE=1 $(PY) -m pytest -q -p no:cacheprovider tests/unit

## make lint: ruff over the package, addon, benchmarks and tests; mypy over the package (STYLE.md: both clean)
lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check cors_audit addons benchmarks tests
	$(VENV)/bin/mypy

unit: $(VENV)/.test-installed
	$(PY) -m pytest tests/unit

e2e: test-deps
	$(PY) -m pytest tests/e2e

## make compat: the unit suite on Python 3.12+, where pip resolves mitmproxy 12 (skipped without one)
PY312 ?= $(firstword $(shell command -v python3.13 python3.12 2>/dev/null | grep -v shims) \
	$(wildcard $(HOME)/.pyenv/versions/3.1[23]*/bin/python3))
compat:
	@if [ -z "$(PY312)" ]; then echo "compat: no Python 3.12+ found; skipped"; exit 0; fi; \
	set -e; $(PY312) -m venv .venv-compat; \
	.venv-compat/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"; \
	.venv-compat/bin/python -c "import sys, mitmproxy.version as v; import cors_audit; print('compat: Python', sys.version.split()[0], 'mitmproxy', v.VERSION, 'compiled' if cors_audit.COMPILED else 'pure')"; \
	.venv-compat/bin/python -m pytest -q -p no:cacheprovider tests/unit

## make bench: the performance issue's measurements (about 20 minutes; numbers, never assertions)
bench: $(VENV)/.test-installed
	$(PY) benchmarks/bench_har.py --scaling --inputs 4
	@command -v ab >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq apache2-utils >/dev/null; }
	$(PY) benchmarks/bench_addon.py --ab --requests 50000 --rounds 1
	$(PY) benchmarks/bench_addon.py --requests 20000 --rounds 2
	$(PY) benchmarks/bench_addon.py --traffic plain --requests 20000 --rounds 2
	@command -v valgrind >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq valgrind >/dev/null; }
	$(PY) benchmarks/bench_addon.py --callgrind --requests 500 --warmup 200 --rounds 1

clean:
	rm -rf $(VENV) .venv-compat $(NODE_DIR)/node_modules .pytest_cache
