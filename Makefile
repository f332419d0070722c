# GradeCraft. `make run` serves the demo; `make test` runs the whole suite, `make test-fast` the
# part that needs no service (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The test suite runs on the real services: PostgreSQL and Redis on this machine.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/gradecraft
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
# The clock guard (tests/conftest.py): the PostgreSQL suite runs with the wall clock 400 days
# ahead, so a test that only passes on the day it was written fails at once.
TEST_CLOCK_SHIFT_DAYS ?= 400
# What needs a service: PostgreSQL (marker `postgres`), Redis and a Celery worker (`worker`),
# Chromium (`browser`). `make test-fast` leaves those out and runs on SQLite.
FAST_TESTS := not browser and not worker and not postgres

.PHONY: install run up up-worker test test-fast lint bench bench-evaluate services clean messages

$(VENV)/.installed: requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	touch $@

install: $(VENV)/.installed

# The demo asks for development mode (DEBUG, which turns the demo world on) for itself only:
# the settings default to production's posture.
run: export DEBUG = True
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py evaluate_history --months 12 --if-missing
	$(PY) manage.py collectstatic --noinput -v0
	@$(PY) manage.py demo_banner --url http://$(HOST):$(PORT)/
	$(PY) manage.py runserver $(HOST):$(PORT)

# The production process layout without Docker: gunicorn, WORKERS Celery workers (2) and one
# beat (honcho, Procfile) on the local PostgreSQL and Redis (scripts/up.sh, ops/local.env).
up: install
	WORKERS=$(or $(WORKERS),2) bash scripts/up.sh

# One more worker beside a running `make up` (same settings, same broker and database).
up-worker: install
	bash scripts/up.sh --worker

services:
	bash scripts/ensure-services.sh

# The pages' Korean catalogue: extract the strings, then (after translating the new ones in
# locale/ko/LC_MESSAGES/django.po) compile. Needs GNU gettext; the compiled .mo is committed,
# so running the app or the tests never does. (Development settings: no secret key needed.)
messages: export DEBUG = True
messages: install
	$(PY) manage.py makemessages -l ko --no-location --no-obsolete \
		--ignore=.venv --ignore=tests --ignore=bench --ignore=staticfiles --ignore=demo
	$(PY) manage.py compilemessages -l ko --ignore=.venv

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# The whole suite on PostgreSQL (tasks eager in-process, except the worker tests, which start
# real Celery workers on the Redis broker); then the tests marked `sqlite` (the metric engine)
# again on SQLite, the embedded default, which must compute identical results.
test: install services lint
	DATABASE_URL=$(TEST_DATABASE_URL) WORKER_TEST_BROKER_URL=$(TEST_BROKER_URL) \
		GRADECRAFT_TEST_CLOCK_SHIFT_DAYS=$(TEST_CLOCK_SHIFT_DAYS) $(VENV)/bin/pytest $(PYTEST_ARGS)
	env -u DATABASE_URL $(VENV)/bin/pytest -q -p no:cacheprovider -m sqlite

# Everything that needs no service, on SQLite with eager tasks and the clock shifted like
# `make test`'s: no PostgreSQL, Redis or Chromium, no lint. Under a minute.
test-fast: install
	env -u DATABASE_URL -u CELERY_BROKER_URL GRADECRAFT_TEST_CLOCK_SHIFT_DAYS=$(TEST_CLOCK_SHIFT_DAYS) \
		$(VENV)/bin/pytest -q -p no:cacheprovider -m "$(FAST_TESTS)" $(PYTEST_ARGS)

bench: install services
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m bench.ingest

# The evaluation engine against a hand-written SQL floor on a generated marketplace in its own
# scratch database: make bench-evaluate [SCALE=XS|S|L] [BENCH_ARGS=--keep-data]
bench-evaluate: install services
	$(PY) -m bench.evaluate --scale $(or $(SCALE),S) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
