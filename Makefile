# ektp — `make demo` runs the demo district, `make test` the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
EKTP := $(VENV)/bin/ektp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help demo test lint format migrations-check pytest browser proxy bench clean install

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: $(VENV)/.synced ## Create .venv from the lock file (installs uv with pip if missing)

demo: install ## Migrate, load regions, seed Pesawaran if empty, serve app + worker on :8000
	$(EKTP) migrate --no-input -v 0
	$(EKTP) regions load
	$(EKTP) seed --region 18.09 --seed 42 --if-empty
	@$(EKTP) demo_logins --url http://$(HOST):$(PORT)/
	@echo "ektp berjalan di http://$(HOST):$(PORT)/  (Ctrl-C untuk berhenti)"
	@trap 'kill 0' INT TERM EXIT; \
	  $(EKTP) db_worker --interval 1 & \
	  (while true; do $(EKTP) daily >/dev/null || true; sleep 3600; done) & \
	  $(EKTP) serve --host $(HOST) --port $(PORT)

test: install lint migrations-check pytest ## ruff, migrations check, the whole pytest suite

lint: install ## ruff lint + format check
	$(VENV)/bin/ruff check src tests bench tools
	$(VENV)/bin/ruff format --check src tests bench tools

format: install ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix src tests bench tools
	$(VENV)/bin/ruff format src tests bench tools

migrations-check: install ## Fail when models and migrations drift
	$(EKTP) makemigrations --check --dry-run

browser: ## Debian's chromium for the browser tests (apt-get install when missing)
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser tests"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq chromium >/dev/null 2>&1 || \
	  { apt-get update -qq; apt-get install -y -qq chromium >/dev/null; } || \
	  echo "could not install chromium: the browser tests will say so"; }

proxy: ## Debian's nginx for the test behind a reverse proxy (apt-get install when missing)
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  echo "installing Debian nginx for the reverse-proxy test"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq nginx-light >/dev/null 2>&1 || \
	  { apt-get update -qq; apt-get install -y -qq nginx-light >/dev/null; } || \
	  echo "could not install nginx: the reverse-proxy test will say so"; }

pytest: install browser proxy ## The pytest suite (DATABASE_URL=postgres://… for PostgreSQL)
	@set +e; $(VENV)/bin/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest: no tests were collected — treated as a failure"; exit 1; fi; \
	exit $$rc

bench: install ## Run the benchmarks in bench/
	$(VENV)/bin/python bench/seed.py

clean: ## Remove the venv, the tools and var/
	rm -rf $(VENV) .tools var
