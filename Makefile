# Harbour: `make run` serves the demo on http://127.0.0.1:8000; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HARBOUR := $(BIN)/harbour
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PYTEST_ARGS ?=

.PHONY: install install-dev run test lint types pytest migrate demo lock bench clean messages

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install-dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.lock
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	touch $@

migrate: install
	$(HARBOUR) migrate --noinput

demo: migrate
	$(HARBOUR) demo

run: export HARBOUR_DEMO_MODE = 1
run: demo
	$(HARBOUR) serve --with-worker

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: install-dev
	$(BIN)/mypy

pytest: install-dev
	HARBOUR_ENV=test $(BIN)/pytest $(PYTEST_ARGS)

test: lint types pytest

messages: install-dev
	cd src/harbour && ../../$(HARBOUR) makemessages -l fr --no-obsolete --no-location --ignore 'static/*' && ../../$(HARBOUR) compilemessages

lock:
	$(BIN)/pip-compile --quiet --strip-extras --output-file requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --extra dev --output-file requirements-dev.lock pyproject.toml

bench: install-dev
	for b in bench/*.py; do $(BIN)/python $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
