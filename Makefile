# The door: `make run` and `make test` do all the set-up on a fresh machine (Python 3.11+).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make test PYTEST_ARGS="-k ledger -x"` narrows a run.
PYTEST_ARGS ?=
# A hanging test fails after this many seconds instead of stalling the run (CI has a 15-minute budget).
TEST_TIMEOUT ?= 300
PYTEST := $(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile --timeout $(TEST_TIMEOUT)
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/atrium_test
NATS_TEST_URL ?= nats://127.0.0.1:4222

.PHONY: run test test-sqlite test-postgres lint bench assets clean

$(STAMP): pyproject.toml package.json package-lock.json
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	npm ci --no-audit --no-fund --silent
	$(BIN)/python -m atrium.web.assets
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/atrium migrate
	$(BIN)/atrium demo seed --if-empty
	$(BIN)/atrium serve

# SQLite by default. With ATRIUM_TEST_DATABASE_URL (PostgreSQL) and ATRIUM_TEST_NATS_URL in the environment the
# same suite runs against them (tests/conftest.py gives each xdist worker its own database).
# pytest's exit code 5 (nothing collected) is a failure, and said so.
test: $(STAMP)
	@echo "$(PYTEST) $(PYTEST_ARGS)"
	@$(PYTEST) $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests (exit 5)" >&2; fi; \
	exit $$status

test-sqlite: $(STAMP)
	env -u ATRIUM_TEST_DATABASE_URL -u ATRIUM_TEST_NATS_URL $(MAKE) --no-print-directory test

test-postgres: $(STAMP)
	ATRIUM_TEST_DATABASE_URL=$(PG_TEST_URL) ATRIUM_TEST_NATS_URL=$(NATS_TEST_URL) \
	$(MAKE) --no-print-directory test

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports --no-cache

assets: $(STAMP)
	$(BIN)/python -m atrium.web.assets

bench: $(STAMP)
	$(BIN)/atrium bench ledger --json bench/results/ledger.json
	$(BIN)/atrium bench api --json bench/results/api.json
	$(BIN)/atrium bench auth --databases sqlite,postgresql --json bench/results/auth.json
	$(BIN)/atrium bench pwa --json bench/results/pwa.json
	$(BIN)/atrium bench risk --json bench/results/risk-api.json
	$(BIN)/atrium bench risk-decider --json bench/results/risk-decider.json
	$(BIN)/atrium risk benchmark --data ../shared/data/fraud-handbook --protocol single --train-start 2018-07-04 --json bench/results/risk-single.json --baseline
	$(BIN)/atrium risk benchmark --data ../shared/data/fraud-handbook --protocol prequential --train-start 2018-06-13 --json bench/results/risk-prequential.json --baseline

clean:
	rm -rf $(VENV) var
