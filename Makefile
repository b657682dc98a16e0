# The two commands a new user needs: `make run` and `make test`. Both create and use .venv/.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Running needs the project's own dependencies only; the test, benchmark and profiling tools come with
# `make test`, `make bench` and `make soak` (the "dev" extra).
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres install migrate clean bench soak lint

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

# Start the service on its embedded defaults: SQLite under var/, e-mail into var/mail/, SMS and push into
# var/outbox/, the demo tenant seeded, API and pages on http://$(HOST):$(PORT) with the delivery worker inside.
run: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

# The whole suite on SQLite, then again on PostgreSQL (started from Debian's package by scripts/postgres.sh;
# required when CI=true, skipped with the reason elsewhere when it cannot be had). The lint step goes first: it
# takes seconds.
test: lint test-sqlite test-postgres

test-sqlite: $(DEV_STAMP)
	env -u DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS)

test-postgres: $(DEV_STAMP)
	bash scripts/postgres.sh run $(PY) -m pytest $(PYTEST_ARGS)

# ruff (the rule set in pyproject.toml) and mypy with django-stubs on notifications/ and notification_service/.
lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check notifications notification_service bench tests manage.py
	$(VENV)/bin/mypy

# Throughput and latency on the real Kafka broker and PostgreSQL; appends the results to bench/README.md.
bench: $(DEV_STAMP)
	bash scripts/postgres.sh run $(PY) bench/run.py $(BENCH_ARGS)

# Ten minutes at a steady rate; resident memory of the consumer and worker must stay flat.
soak: $(DEV_STAMP)
	bash scripts/postgres.sh run $(PY) bench/soak.py $(SOAK_ARGS)

clean:
	rm -rf var/ .pytest_cache
