# The project's tasks. Each runs in the virtualenv the README's commands make
# (.venv); `make dev` creates it with everything the tasks need.

PY := .venv/bin/python
BIN := .venv/bin

.PHONY: dev test quick lint typecheck check snapshots screenshots bench guard

dev:  ## a virtualenv with the package, the test and the development tools
	python3 -m venv .venv && $(BIN)/pip install -e ".[test,dev]"

test:  ## every test, as CI runs them (about 8 minutes on 2 cores)
	$(PY) -m pytest -q

quick:  ## the quick loop: every test but the slow reliability ones (about 3 minutes)
	$(PY) -m pytest -q -m "not slow"

lint:  ## the linter, the formatter and the layer contracts (pyproject.toml)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/lint-imports

typecheck:  ## mypy over src/paperdesk
	$(BIN)/mypy

check: lint typecheck test  ## everything CI checks but the benchmark guard

snapshots:  ## regenerate the app's SVG snapshots (review the report first)
	$(PY) -m pytest tests/snapshots --snapshot-update

screenshots:  ## regenerate screenshots/ (shown in the README)
	$(PY) scripts/screenshots.py

bench:  ## the benchmark tables at 10k and 100k papers (docs/PERFORMANCE.md)
	$(PY) benchmarks/run.py --sizes 10k,100k

guard:  ## the regression guard CI runs
	$(PY) benchmarks/run.py --guard --sizes 10k --presses 10 --queries 20 --quiet
