# carepath: `make run` runs the system with a demo journey; `make test` runs the whole suite.
# Both set everything up first: the virtual environment, Kafka and PostgreSQL (no Docker).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# The AsyncAPI parser the contract tests check contracts/asyncapi.yaml with, pinned by its lock file.
ASYNCAPI_TOOL := tools/asyncapi
NODE_STAMP    := $(ASYNCAPI_TOOL)/node_modules/.installed-$(shell cksum < $(ASYNCAPI_TOOL)/package-lock.json | cut -d' ' -f1)

.PHONY: setup infra metrics infra-down run test test-unit property bench screenshots schemas clean

setup: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "carepath needs Python 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

$(NODE_STAMP): $(ASYNCAPI_TOOL)/package-lock.json
	@command -v npm >/dev/null || { echo 'the contract tests need Node.js and npm (apt-get install nodejs npm)'; exit 1; }
	npm ci --prefix $(ASYNCAPI_TOOL) --silent --ignore-scripts --no-audit --no-fund
	@touch $@

infra: setup  ## start Kafka (KRaft) and PostgreSQL on 127.0.0.1; idempotent
	@bash infra/infra.sh up

metrics: infra  ## start Prometheus (Debian's) on 127.0.0.1:9090, scraping the services' metrics and evaluating infra/prometheus/alerts.yml
	@bash infra/infra.sh metrics

infra-down:  ## stop what `make infra` and `make metrics` started
	@bash infra/infra.sh down

run: setup  ## run the four services, the board (http://127.0.0.1:8400) and the FHIR gateway (http://127.0.0.1:8410/fhir), feed one demo journey, show the event log; Ctrl-C stops
	@bash infra/run.sh

test: infra  ## the whole suite: unit tests, then acceptance tests on the real broker and databases
	$(BIN)/pytest

test-unit: setup  ## only the tests that need no broker and no database (domain, then handlers on fake stores)
	$(BIN)/pytest tests/unit tests/handlers

JOURNEYS ?= 5000
property: infra  ## the consent property test over more journeys: make property JOURNEYS=5000
	CAREPATH_PROPERTY_JOURNEYS=$(JOURNEYS) $(BIN)/pytest -s tests/acceptance/test_consent_property.py

bench: infra  ## re-planning a team's week; then, on the real broker, a minimal relay, the referral drain, journey latency at 10/s and 50/s, catch-up; the board's rebuild from 10,000 journeys (about 15 min)
	$(BIN)/python -m tests.bench.replanning
	$(BIN)/python -m tests.bench
	$(BIN)/python -m tests.bench.board_rebuild

.PHONY: soak
soak: JOURNEYS = 200
soak: infra  ## whole journeys while a random service is SIGKILLed every 5-15 s; fails on anything lost or duplicated: make soak JOURNEYS=200
	$(BIN)/python -m tests.soak --journeys $(JOURNEYS)

screenshots: infra  ## screenshots/board.png and fidelity.png: a deployment of its own with the board, fed journeys with the clock moved through five days, in Chromium (about 1-2 min)
	$(BIN)/python -m tests.screenshots screenshots

schemas: setup  ## write contracts/schemas/*.json and contracts/asyncapi.yaml from the event models, topics and principals
	$(BIN)/python -m contracts.generate
	$(BIN)/python -m contracts.asyncapi

clean: infra-down
	rm -rf $(VENV) .cache $(ASYNCAPI_TOOL)/node_modules
