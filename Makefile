# Two commands on a fresh machine:  `make run`  and  `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

.PHONY: install run test check lint types screenshots bench
install: $(BIN)/.installed

## Set up, load the demo council (once) and start the app on SQLite at http://localhost:8501
run: install
	$(BIN)/tandem db upgrade
	$(BIN)/tandem demo
	$(BIN)/streamlit run app.py

## Set up (Python packages, Chromium, LibreOffice, local PostgreSQL) and run every test
test: install
	bash scripts/test-setup.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	. ./.test-env && $(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

## Before every commit (under two minutes): lint, types, and the SQLite tests without the
## browser and the slow ones. `make test` (or CI) runs everything on SQLite and PostgreSQL.
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	TANDEM_TEST_BACKENDS=sqlite TANDEM_TEST_QUICK=1 $(BIN)/pytest -q -n 2 -m "not browser and not slow" --ignore=tests/browser

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

types: install
	$(BIN)/mypy

## Run the browser tests and copy their screenshots into docs/screenshots/ for the README
## (the tests themselves write only to the ignored test-artifacts/screenshots/).
screenshots: install
	bash scripts/test-setup.sh
	. ./.test-env && $(BIN)/pytest -q -m browser tests/browser
	cp test-artifacts/screenshots/*.png docs/screenshots/

bench: install
	$(BIN)/tandem bench
