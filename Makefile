# The README's commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/steppingstones
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo serve test test-sqlite test-postgres test-e2e lint browser bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Set up, load the synthetic demo study and serve it on http://127.0.0.1:8000/
demo: install
	$(BIN)/steppingstones demo

serve: install
	$(BIN)/steppingstones serve

## Everything: lint and types, unit and database tests on SQLite and PostgreSQL, browser tests.
test: install browser lint test-sqlite test-postgres test-e2e

test-sqlite: install
	@echo "== tests on SQLite"
	env -u DATABASE_URL $(BIN)/pytest -m "not e2e" -q

test-postgres: install
	@if $(BIN)/python -m tests.pg_available "$(TEST_DATABASE_URL)"; then \
		echo "== tests on PostgreSQL ($(TEST_DATABASE_URL))"; \
		DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/pytest -m "not e2e" -q; \
	else \
		echo "== SKIPPED the PostgreSQL run: no server answers at $(TEST_DATABASE_URL) (set TEST_DATABASE_URL)"; \
	fi

test-e2e: install browser
	@echo "== browser tests (Debian chromium via Playwright)"
	env -u DATABASE_URL $(BIN)/pytest -m e2e -q

## Debian's chromium for the browser tests (installed when missing and we may).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else echo "chromium is missing: sudo apt-get install chromium"; exit 1; fi; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy src

bench: install
	$(BIN)/pip install --quiet -e '.[test,bench]'
	@for script in bench/*.py; do [ -e "$$script" ] || continue; $(BIN)/python "$$script"; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
