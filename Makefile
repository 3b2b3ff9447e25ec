# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install run stop status test test-unit test-integration test-e2e test-faults bench events clean

$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	touch $@

install: $(VENV)/.installed

run: install          ## start PostgreSQL, Kafka and every service; prints URLs and a dev token
	$(PY) -m devstack up

stop:                 ## stop what `make run` started
	$(PY) -m devstack down

status:
	$(PY) -m devstack status

# pytest exits 5 when it collected no test: that must fail, never pass silently.
test: install         ## every test, against real PostgreSQL and Kafka
	@$(PY) -m devstack.browser
	@$(PY) -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

test-unit: install
	$(PY) -m pytest tests/unit tests/deploy

test-integration: install
	$(PY) -m pytest tests/integration

test-e2e: install
	@$(PY) -m devstack.browser
	$(PY) -m pytest tests/e2e

test-faults: install  ## the fault-injection suite alone (also part of `make test`)
	$(PY) -m pytest tests/faults

bench: install        ## drives the slice at rising rates; prints throughput, latency, lag
	$(PY) -m bench.slice

events: install       ## regenerate the JSON Schemas and AsyncAPI document of shared/events
	$(PY) -m shared.events.export

clean: stop
	rm -rf .devstack
