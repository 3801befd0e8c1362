# Kehu CRM — `make run` serves the app, `make test` runs the whole suite. Both set up first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run test setup assets lint format typecheck migrate demo worker bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

kehu/static/vendor/.built: node_modules/.package-lock.json scripts/build-assets.mjs
	node scripts/build-assets.mjs

assets: kehu/static/vendor/.built

setup: $(VENV)/.deps assets

migrate: setup
	$(BIN)/python manage.py migrate --noinput -v0

demo: migrate
	$(BIN)/python manage.py seed_demo --if-empty

run: demo
	$(BIN)/python manage.py collectstatic --noinput -v0
	@echo "Kehu CRM on http://$(HOST):$(PORT)  (demo accounts: admin, manager1, sales1, sales2, sales3, service1, finance1 / demo1234)"
	HOST=$(HOST) $(BIN)/honcho -f Procfile start -p $(PORT)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: setup
	$(BIN)/mypy kehu/*/services.py kehu/*/selectors.py kehu/org/scope.py kehu/org/authz.py kehu/customers/throttle.py kehu/pool/rules.py

bench: setup  # against DATABASE_URL's seeded database (see bench/README.md)
	$(BIN)/python bench/customer_list.py
	$(BIN)/python bench/pool_claim.py
	$(BIN)/python bench/import_export.py
	$(BIN)/python bench/documents.py
	$(BIN)/python bench/portrait.py

clean:
	rm -rf $(VENV) node_modules kehu/static/vendor staticfiles
