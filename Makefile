# The two commands: `make run` and `make test`. Everything else is a convenience.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint audit bench demo

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Start the gateway on 127.0.0.1:8080 with SQLite under var/, development keys for JP and the demo
# partner KR and a development issuing authority for certificates of origin (generated once, never
# committed), and the partner registry from partners/
run: $(STAMP)
	$(BIN)/gateway migrate
	$(BIN)/gateway keys init
	$(BIN)/gateway keys init --id KR
	$(BIN)/gateway origin authority init
	$(BIN)/gateway serve

# The whole suite. PostgreSQL parts run when GATEWAY_TEST_POSTGRES_URL is set (.ci/run sets it).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check gateway tests bench migrations
	$(BIN)/ruff format --check gateway tests bench migrations
	$(BIN)/mypy
	$(BIN)/bandit -q -c pyproject.toml -r gateway

# Known vulnerabilities in the installed dependencies. Needs PyPI's JSON API or OSV (not reachable
# from the project machine, whose package index serves no vulnerability data): --strict fails
# when a dependency could not be audited, rather than passing on what it did not check.
audit: $(STAMP)
	$(BIN)/pip-audit --strict --progress-spinner off

# JP on :8080 and KR on :8081, each with its own database, keys and registry under var/demo/;
# a seizure report goes each way through policy, outbox, delivery worker and signed receipt.
demo: $(STAMP)
	$(BIN)/gateway demo

bench: $(STAMP)
	$(BIN)/python bench/inbound_http.py
	$(BIN)/python bench/certificates.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/store_growth.py
	$(BIN)/python bench/release_planning.py
