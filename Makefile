# make run  - install, migrate, seed the demo city and serve on http://127.0.0.1:5000
# make test - install what the tests need and run the suite on SQLite, and on PostgreSQL
#             too when TEST_DATABASE_URL is set
# make bench - run the benchmarks in bench/ (each exits non-zero when over its limits)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# Test processes (pytest-xdist): one per core; each gets its own database copy or schema.
TEST_WORKERS ?= auto
export FLASK_APP := wsgi

.PHONY: run test bench install install-test lint translations serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.run-installed

install: $(VENV)/.run-installed
install-test: $(VENV)/.test-installed

run: install
	@scripts/system-deps.sh fonts
	MEDIATION_CONFIG=development $(BIN)/flask db upgrade
	MEDIATION_CONFIG=development $(BIN)/flask seed-demo
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	MEDIATION_CONFIG=development $(BIN)/flask run --host $(HOST) --port $(PORT)

test: install-test
	@scripts/system-deps.sh --required fonts browser pdf
	$(BIN)/ruff check .
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest -n $(TEST_WORKERS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== PostgreSQL: $$TEST_DATABASE_URL =="; \
		$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser"; \
	fi

bench: install
	@scripts/system-deps.sh --required fonts pdf
	@for script in bench/*.py; do \
		echo "== $$script"; \
		$(BIN)/python $$script || exit 1; \
	done

# make bench-scale DB=postgresql://postgres@127.0.0.1:5432/scale_1m - bench/scale.py on one
#   database seeded by flask seed-scale, then the table of every result in bench/results/
# make load DB=... [RUN_TIME=10m] - the load scenario of bench/load/ (installs locust first)
.PHONY: bench-scale load
RUN_TIME ?= 10m

bench-scale: install
	$(BIN)/python bench/scale.py $(DB)
	$(BIN)/python bench/scale_table.py

$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[bench]'
	@touch $@ $(VENV)/.run-installed

load: $(VENV)/.bench-installed
	$(BIN)/python bench/load/run.py $(DB) --run-time $(RUN_TIME)

lint: install-test
	$(BIN)/ruff check .

# Re-extract the strings and update the catalogs; compile after translating.
translations: install
	$(BIN)/pybabel extract -w 100 --ignore-dirs=".*" -F babel.cfg -k _l -k lazy_gettext -o mediation/translations/messages.pot .
	$(BIN)/pybabel update -w 100 -i mediation/translations/messages.pot -d mediation/translations
	$(BIN)/pybabel compile -d mediation/translations
	@$(BIN)/python scripts/untranslated.py || echo "Translate the entries above in messages.po, then run make translations again."

clean:
	rm -rf $(VENV) instance/*.sqlite3* test-artifacts .pytest_cache
