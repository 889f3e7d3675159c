# Flywheel developer entry points. `make demo` runs everything locally with no root, apt or
# Docker (embedded PostgreSQL + Valkey under ./var/); `make test` needs a real PostgreSQL and
# Redis (defaults below; override with DATABASE_URL=... REDIS_URL=... in the environment).

PYTHON ?= python3.11
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
# Empty: pip's configured index. Outside this project's machines, use the CPU wheels
# (https://download.pytorch.org/whl/cpu) unless you want the CUDA build.
TORCH_INDEX_URL ?=

DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/flywheel
REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

LINT_PATHS := flywheel annotation training loop webhooks tinyworld client tests bench gunicorn.conf.py
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) frontend/index.html \
	frontend/package.json frontend/tsconfig.json frontend/vite.config.ts
# The API's payload types, generated from the OpenAPI schema (drf-spectacular, no server or
# database needed) by openapi-typescript; committed, and checked to be current by test-frontend.
API_TYPES := frontend/src/generated/api.d.ts
API_SCHEMA = DATABASE_URL='$(DATABASE_URL)' FLYWHEEL_ALLOW_INSECURE_KEY=1 $(VENV_PYTHON) manage.py spectacular --file

.PHONY: install frontend demo services simulate test test-frontend api-types check-api-types lint clean-data

install: $(VENV)/.installed

# torch first: otherwise a transitive requirement pulls the registry's default (CUDA) build.
$(VENV)/.installed: pyproject.toml
	test -x $(VENV_PYTHON) || $(PYTHON) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install torch==2.13.0 $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(VENV_PYTHON) -m pip install -e '.[dev]'
	touch $@

frontend: frontend/dist/index.html

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.installed $(FRONTEND_SOURCES)
	cd frontend && npm run build
	touch $@

demo: install frontend
	$(VENV_PYTHON) -m flywheel.local

# While `make demo` runs: five simulated annotators rank the demo project's open sets (by the
# tiny world's hidden rule, 10 % noise); the loop then starts the next round by itself.
simulate: install
	@$(VENV_PYTHON) -m flywheel.local check
	$(VENV_PYTHON) manage.py simulate_annotators --project demo --n 5 --noise 0.1

# Embedded PostgreSQL + Valkey only, URLs in var/local.env; Ctrl-C stops them.
services: install
	$(VENV_PYTHON) -m flywheel.local services

# Tests use their own var dir, so a running `make demo` (var/local.env) never leaks into them.
test: install frontend test-frontend
	DATABASE_URL='$(DATABASE_URL)' REDIS_URL='$(REDIS_URL)' HF_HUB_OFFLINE=1 \
		FLYWHEEL_ALLOW_INSECURE_KEY=1 FLYWHEEL_CONN_MAX_AGE=0 FLYWHEEL_TORCH_THREADS=1 FLYWHEEL_VAR_DIR='$(CURDIR)/var/test' \
		FLYWHEEL_WARM_AT_BOOT=0 \
		$(VENV)/bin/pytest -n 2 --maxschedchunk 2 --durations 20 $(PYTEST_ARGS)

test-frontend: frontend/node_modules/.installed check-api-types
	cd frontend && npm test

# After a change to an API's serializers: regenerate the TypeScript types, then commit them.
api-types: install frontend/node_modules/.installed
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
		$(API_SCHEMA) "$$tmp/schema.yml" && \
		frontend/node_modules/.bin/openapi-typescript "$$tmp/schema.yml" -o $(API_TYPES)

# Fails when the committed types are not what the current serializers generate.
check-api-types: install frontend/node_modules/.installed
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
		$(API_SCHEMA) "$$tmp/schema.yml" && \
		frontend/node_modules/.bin/openapi-typescript "$$tmp/schema.yml" -o "$$tmp/api.d.ts" >/dev/null && \
		if ! diff -u $(API_TYPES) "$$tmp/api.d.ts"; then \
			echo "$(API_TYPES) is out of date with the API: run 'make api-types' and commit it."; exit 1; \
		fi

lint: install
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

# Deletes all local data: the embedded databases, Valkey's queue, trained models, SECRET_KEY.
clean-data:
	@if [ -e var/local.env ]; then \
		echo "var/local.env exists: stop 'python -m flywheel.local' first (or delete the file if none runs)."; \
		exit 1; \
	fi
	rm -rf var
