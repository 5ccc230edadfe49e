# Parley — every command a developer or CI needs. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Lambda runs python3.13; the local venv uses the same interpreter (pyenv ships it on these machines).
# pyenv shims are skipped: a shim for a version pyenv has not selected fails when run.
PYTHON ?= $(firstword $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13) $(shell command -v python3.13 2>/dev/null | grep -v shims))
VENV := .venv
VENV_SAM := .venv-sam
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)/layers/common:$(CURDIR)/local
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install install-sam install-browser run test lint validate unit integration e2e build clean openapi generate bench load smoke

help:
	@echo "make run    install everything, start the whole system locally (API on 127.0.0.1:3000)"
	@echo "make test   install everything, run lint + template checks + all test suites"
	@echo "make build  sam build (no container)"
	@echo "make generate  regenerate the SAM Function blocks, events/ and docs/openapi/ from functions/<family>/api/*.py (CI checks)"
	@echo "make load   the local stack under 20 concurrent clients for 30 s: req/s, p50/p95/p99, 5xx, memory"
	@echo "make bench  build, then run every benchmark and write bench/RESULTS.md (~20-30 min; QUICK=1: a 5-minute check)"
	@echo "make smoke  smoke-test the running local stack (make run); STACK=<name> SENDER=<verified address> [REGION=…]: a deployed stack"

$(VENV)/.installed: requirements/dev.txt requirements/runtime.txt layers/deps/requirements.txt layers/deps/requirements-nodeps.txt layers/deps/requirements-sdist.txt layers/imaging/requirements.txt
	@test -n "$(PYTHON)" || { echo "python3.13 not found (install it, or run: make PYTHON=/path/to/python3.13 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

$(VENV_SAM)/.installed: requirements/sam.txt
	@test -n "$(PYTHON)" || { echo "python3.13 not found"; exit 1; }
	$(PYTHON) -m venv $(VENV_SAM)
	$(VENV_SAM)/bin/pip install --quiet --disable-pip-version-check -r requirements/sam.txt
	touch $@

install: $(VENV)/.installed install-browser
install-sam: $(VENV_SAM)/.installed

# Headless Chromium for the console's browser test (tests/e2e/test_console.py): Debian's package, driven by playwright
# (requirements/dev.txt) without any browser download. Installed once, as root (or with sudo), and skipped when present;
# without root a warning says what to run (make run does not need it; the browser test fails saying so).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if ! command -v apt-get >/dev/null; then echo "warning: $(CHROMIUM) is missing and there is no apt-get: install Chromium"; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	elif sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "warning: $(CHROMIUM) is missing; as root: apt-get update && apt-get install -y chromium"; fi
install-browser: $(CHROMIUM)

run: install
	$(PY) -m parley_local

lint: install
	$(PY) -m parley_local.generate --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

validate: install install-sam
	$(VENV)/bin/cfn-lint template.yaml functions/*/template.yaml
	$(VENV_SAM)/bin/sam validate --lint --template template.yaml
	for t in functions/*/template.yaml; do $(VENV_SAM)/bin/sam validate --lint --template $$t || exit 1; done

# Every API endpoint is declared once, in functions/<family>/api/<resource>.py (parley.api.endpoint): its SAM Function
# block, its sample event and the family's OpenAPI document are generated from it. tests/infra/test_generated.py fails
# when the committed files are stale.
generate: install
	$(PY) -m parley_local.generate

openapi: generate

# Benchmarks (bench/README.md): cold starts against the source tree and the sam build output, warm send, call budget,
# dispatch throughput, read amplification. QUICK=1 runs small sizes and writes no results file.
bench: install build
	$(PY) -m bench $(if $(QUICK),--quick,--results bench/RESULTS.md --readme README.md)

# layers/deps/Makefile applies layers/deps/patches/*.patch with patch(1): installed like Chromium when missing.
PATCH := /usr/bin/patch
$(PATCH):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patch; \
	elif sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patch; \
	else echo "error: patch(1) is missing; as root: apt-get install -y patch"; exit 1; fi

build: install-sam $(PATCH)
	PATH="$(dir $(PYTHON)):$$PATH" $(VENV_SAM)/bin/sam build --template template.yaml

unit: install
	$(PY) -m pytest tests/unit tests/infra -q

integration: install
	$(PY) -m pytest tests/integration -q

# e2e on both cores: each pytest-xdist worker starts its own local stack (its session fixture) and takes whole files
# (module fixtures stay within one stack); the load test (marked `load`) then runs alone, on a machine left to it.
E2E_PARALLEL := -n 2 --dist loadfile

e2e: install
	$(PY) -m pytest tests/e2e -q -m "not load" $(E2E_PARALLEL)
	$(PY) -m pytest tests/e2e -q -s -m load  # -s: the measured windows are printed

load: install
	$(PY) -m parley_local.load

# The smoke test (docs/operations.md, "Smoke test"): a throwaway tenant sends to SES's mailbox simulator, schedules, checks
# activity, the bounce → suppression path and the schedule over the public APIs, then its key is revoked and it is disabled. Without STACK it tests
# the local stack `make run` started (.local/stack.json); with STACK (and AWS credentials) the deployed root stack.
smoke: install
	$(PY) -m parley.smoke $(if $(STACK),--stack $(STACK) $(if $(SENDER),--sender-email $(SENDER)) $(if $(REGION),--region $(REGION)))

# unit, infra and integration (in-process moto) on both cores; then e2e on both cores (a local stack per worker); then
# the load test (marked `load`) alone, on a machine nothing else is using.
test: lint validate build
	$(PY) -m pytest tests/unit tests/infra tests/integration -q -p no:cacheprovider -n 2
	$(PY) -m pytest tests/e2e -q -p no:cacheprovider -m "not load" $(E2E_PARALLEL)
	$(PY) -m pytest tests/e2e -q -s -p no:cacheprovider -m load  # -s: the measured windows are printed

clean:
	rm -rf $(VENV) $(VENV_SAM) .aws-sam .local
