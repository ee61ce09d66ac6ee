# pocopool — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint install system-deps bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: system-deps $(STAMP)

# Debian packages the project needs (bubblewrap for the sandbox runtime).
system-deps:
	@bash scripts/system-deps.sh

demo: install
	@bash scripts/demo.sh

# ruff (lint and format) and mypy, configured in pyproject.toml; `make test` runs them first.
lint: install
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mypy

# Four pytest processes: most e2e time is waiting for real deadlines (docs/decisions.md 60, 140).
test: lint
	$(PY) -m pytest -q -p no:cacheprovider -n 4 --dist worksteal

test-fast: install
	$(PY) -m pytest -q -p no:cacheprovider -m "not e2e"

bench: install
	$(VENV)/bin/pip install --quiet -e '.[bench]'
	@bash bench/run_all.sh

clean:
	rm -rf $(VENV) demo-home .pytest_cache build *.egg-info src/*.egg-info
