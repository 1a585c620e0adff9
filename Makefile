# opsgraph: `make run` serves the demo, `make test` checks everything.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# GraphiQL's pinned browser files (package.json, package-lock.json), installed by npm and
# copied into opsgraph/static/vendor/ (git-ignored); rebuilt when the lock file changes
NPM    ?= $(shell command -v npm 2>/dev/null)
VENDOR := opsgraph/static/vendor
ASSETS_STAMP := $(VENDOR)/.installed-$(shell cksum package-lock.json | cut -d' ' -f1)

.PHONY: help install assets run migrate test lint format schema bench load clean

help:
	@echo "make run      start opsgraph with an embedded PostgreSQL and demo data on :8000"
	@echo "make migrate  migrate the configured database to this version (OPSGRAPH_DATABASE_URL,"
	@echo "              or the embedded PostgreSQL in .opsgraph when it is unset)"
	@echo "make test     lint (ruff, mypy, import layers) and the whole test suite with coverage"
	@echo "make assets   install GraphiQL's files for /graphql with npm (make run and make test do it)"
	@echo "make lint | format | schema | bench | load | clean"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
		{ echo "opsgraph needs Python 3.11 or newer ($(PYTHON) is older); set PYTHON=python3.x"; exit 1; }
	@test -x $(BIN)/python || { echo "creating $(VENV) (a Python virtual environment)"; $(PYTHON) -m venv $(VENV); }
	@echo "installing opsgraph and its dependencies into $(VENV) (first run: about a minute)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@
	@echo "installed: $(BIN)/opsgraph"

install: $(STAMP)

ifeq ($(NPM),)
assets:
	@echo "npm not found: /graphql will explain how to get GraphiQL (install Node.js, then make assets)"
else
assets: $(ASSETS_STAMP)

$(ASSETS_STAMP): package.json package-lock.json
	@echo "installing GraphiQL's files with npm (package-lock.json) into $(VENDOR)"
	@$(NPM) ci --no-audit --no-fund --loglevel=error
	@$(NPM) run --silent vendor
	@touch $@
endif

run: install
	@$(MAKE) --no-print-directory assets || \
		echo "make assets failed: /graphql will explain how to get GraphiQL; serving anyway"
	@echo "starting opsgraph: embedded PostgreSQL in .opsgraph, migrations, demo data"
	@$(BIN)/opsgraph serve --migrate --seed-demo

# Alembic migrations up to this version's head, on OPSGRAPH_DATABASE_URL (or, unset, the
# embedded PostgreSQL in .opsgraph); `make run` migrates by itself
migrate: install
	$(BIN)/opsgraph migrate

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# the suite in parallel workers (pytest-xdist, one per core; TEST_WORKERS=0 runs it in one
# process), each with databases of its own
TEST_WORKERS ?= auto

test: lint assets
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup \
		--cov --cov-report=term-missing:skip-covered $(PYTEST_ARGS)

schema: install
	$(BIN)/opsgraph export-schema --output schema.graphql

bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

load: install
	$(BIN)/python -m bench.load $(LOAD_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* htmlcov \
		node_modules $(VENDOR)
