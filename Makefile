# Parcours — routine tasks. `make run` and `make test` are the two commands of README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/parcours
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve install install-dev test test-sqlite test-postgres lint migrations-check \
        chromium demo lock vendor clean

run: install ## install, migrate, load the demo territory, serve with worker and scheduler
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	HOST=$(HOST) PORT=$(PORT) bash scripts/serve.sh

serve: install
	HOST=$(HOST) PORT=$(PORT) bash scripts/serve.sh

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.lock | $(PY)
	$(PIP) install -q -r requirements.lock
	@touch $@

$(VENV)/.installed-dev: requirements-dev.lock | $(PY)
	$(PIP) install -q -r requirements-dev.lock
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

chromium: ## Debian's chromium for the browser tests (installed when missing and root)
	@bash scripts/ensure-chromium.sh

lint: install-dev
	$(VENV)/bin/ruff check .

migrations-check: install-dev
	env -u DATABASE_URL PARCOURS_TESTING=1 $(PY) manage.py makemigrations --check --dry-run

test-sqlite: install-dev chromium
	$(VENV)/bin/pytest

test-postgres: install-dev chromium
	@if [ -n "$$DATABASE_URL" ]; then url="$$DATABASE_URL"; \
	elif $(PY) scripts/port_open.py 127.0.0.1 5432; then url="$(PG_TEST_URL)"; \
	else echo "PostgreSQL: DATABASE_URL unset and nothing answers on 127.0.0.1:5432 — PostgreSQL run skipped."; exit 0; fi; \
	echo "== pytest on PostgreSQL"; DATABASE_URL="$$url" $(VENV)/bin/pytest

test: install-dev chromium lint migrations-check ## lint, migrations check, pytest on SQLite then PostgreSQL
	@echo "== pytest on SQLite"
	@env -u DATABASE_URL $(VENV)/bin/pytest
	@$(MAKE) --no-print-directory test-postgres

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo

lock: install-dev ## re-pin requirements*.lock from pyproject.toml
	$(PIP) install -q pip-tools
	$(VENV)/bin/pip-compile -q --strip-extras --no-header --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
	$(VENV)/bin/pip-compile -q --strip-extras --no-header --allow-unsafe --no-emit-index-url --no-emit-find-links --extra dev -o requirements-dev.lock pyproject.toml

vendor: ## download the front-end assets from the npm registry into static/vendor
	bash scripts/vendor.sh

clean:
	rm -rf $(VENV) var/static
