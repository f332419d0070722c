# GradeCraft. `make run` serves the demo; `make test` runs the whole suite (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The test suite runs on the real services: PostgreSQL and Redis on this machine.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/gradecraft
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run test lint bench services clean

$(VENV)/.installed: requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py evaluate_history --months 12 --if-missing
	$(PY) manage.py collectstatic --noinput -v0
	@$(PY) manage.py demo_banner --url http://$(HOST):$(PORT)/
	$(PY) manage.py runserver $(HOST):$(PORT)

services:
	bash scripts/ensure-services.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

test: install services lint
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: install services
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m bench.ingest

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
