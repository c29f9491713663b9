# Two commands on a fresh machine:  `make run`  and  `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

.PHONY: install run test lint bench
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
	. ./.test-env && $(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: install
	$(BIN)/tandem bench
