# Everything installs itself: `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
RUN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup web chromium demo test test-fast test-browser lint typecheck synth bench bench-large bench-duplicates bench-hostile bench-sync bench-rollback bench-repository bench-page clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --extra local --quiet
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The import page (web/): its own tools from its own lock, built into web/dist, which
# `customer-import local up` serves.
WEB_SOURCES := web/index.html web/sign-in.html web/vite.config.ts web/tsconfig.json \
	$(wildcard web/src/*.ts web/src/*.css web/public/*)

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web/dist/.built: web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run --silent build
	touch $@

web: web/dist/.built

# The browser tests drive Debian's Chromium (CI runs as root on Debian).
CHROMIUM := /usr/bin/chromium
APT_GET := DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo -E )apt-get

$(CHROMIUM):
	$(APT_GET) install -y chromium chromium-driver \
		|| { $(APT_GET) update && $(APT_GET) install -y chromium chromium-driver; }

chromium: $(CHROMIUM)

setup: $(VENV)/.synced node_modules/.installed web

samples/techman_5500.csv: $(VENV)/.synced local/customer_import_local/sample.py
	$(RUN)/customer-import sample --customers 5500 --out $@

demo: setup samples/techman_5500.csv
	$(RUN)/customer-import run samples/techman_5500.csv --source techman --org demo --account main

test: setup chromium lint typecheck
	$(RUN)/pytest

test-fast: setup chromium
	$(RUN)/pytest -m "not slow" -x

test-browser: setup chromium
	$(RUN)/pytest tests/browser

lint: $(VENV)/.synced
	$(RUN)/ruff check .
	$(RUN)/ruff format --check .

typecheck: $(VENV)/.synced
	$(RUN)/mypy

synth: setup
	npx cdk synth --quiet
	@echo "template: cdk.out/CustomerImportStack.template.json"

samples/techman_77319.csv: $(VENV)/.synced local/customer_import_local/sample.py
	$(RUN)/customer-import sample --customers 77319 --out $@

bench: setup samples/techman_5500.csv
	$(RUN)/python -m bench.prepare_bench samples/techman_5500.csv
	$(RUN)/python -m bench.import_bench samples/techman_5500.csv --runs 3
	$(RUN)/python -m bench.import_bench samples/techman_5500.csv --memory

# Each step's bytes/s on a row of 140,000 fields, ~29 MB of long rows and the sample (issue 15).
bench-hostile: setup samples/techman_5500.csv
	$(RUN)/python -m bench.linearity_bench samples/techman_5500.csv

# 99,999 rows, 28.9 MiB (77,319 customers): the import page accepts 100,000 rows and 30 MiB.
bench-large: setup samples/techman_77319.csv
	$(RUN)/python -m bench.prepare_bench samples/techman_77319.csv --repeat 1
	$(RUN)/python -m bench.import_bench samples/techman_77319.csv --no-floor

# The nightly sync (5 % changed, 1 % new, 1 % gone) beside the first import (issue 16).
bench-sync: setup samples/techman_5500.csv
	$(RUN)/python -m bench.sync_bench samples/techman_5500.csv

# The rollback of the 5,500 import beside the import's own time (issue 18).
bench-rollback: setup samples/techman_5500.csv
	$(RUN)/python -m bench.rollback_bench samples/techman_5500.csv

bench-duplicates: setup samples/techman_5500.csv
	$(RUN)/python -m bench.duplicates_bench samples/techman_5500.csv --existing 50000

# The customer repository's creates beside plain BatchWriteItem of the same items (issue #16).
bench-repository: setup samples/techman_5500.csv
	$(RUN)/python -m bench.repository_bench samples/techman_5500.csv --customers 1100 5500

# The import page in headless Chromium: drop to first preview row, the bar's lag (issue 20).
bench-page: setup chromium samples/techman_5500.csv
	$(RUN)/python -m bench.page_bench samples/techman_5500.csv

clean:
	rm -rf $(VENV) $(TOOLS) node_modules cdk.out .local .pytest_cache .mypy_cache .ruff_cache \
		web/node_modules web/dist tests/browser/screenshots
