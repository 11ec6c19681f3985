# The two commands: `make run` (demo on http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test test-postgres install dev lint translations translations-update clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml tests/e2e/package-lock.json | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	@if command -v npm >/dev/null; then npm ci --prefix tests/e2e --silent --no-audit --no-fund; \
	else echo "NOTICE: npm not found; the browser tests will skip their accessibility audit"; fi
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed translations

dev: $(VENV)/.dev-installed translations

translations: | $(BIN)/python
	@if [ -d quizapp/translations ]; then $(BIN)/pybabel compile -d quizapp/translations; fi

translations-update: | $(BIN)/python
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		-o quizapp/translations/messages.pot quizapp
	$(BIN)/pybabel update -i quizapp/translations/messages.pot -d quizapp/translations \
		--no-location --ignore-obsolete

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@echo "Serving on http://127.0.0.1:8000 (Ctrl+C to stop)"
	$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

test: dev
	$(BIN)/pytest $(PYTEST_ARGS)

# The same suite on PostgreSQL: a throwaway cluster from Debian's postgresql package.
PG_DIR ?= /tmp/quizapp-pg-test
test-postgres: dev
	@url=$$(scripts/pg-test-server.sh start $(PG_DIR)) && \
	QUIZAPP_TEST_DATABASE_URL=$$url $(BIN)/pytest $(PYTEST_ARGS); status=$$?; \
	scripts/pg-test-server.sh stop $(PG_DIR); exit $$status

lint: dev
	$(BIN)/ruff check quizapp tests
	$(BIN)/ruff format --check quizapp tests

clean:
	rm -rf $(VENV) instance/*.sqlite* .pytest_cache
