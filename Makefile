# The door: `make run` and `make test` do all the set-up on a fresh machine (Python 3.11+).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-sqlite test-postgres lint bench assets clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/atrium migrate
	$(BIN)/atrium demo seed --if-empty
	$(BIN)/atrium serve

test: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/atrium bench ledger --json bench/results/ledger.json

clean:
	rm -rf $(VENV) var
