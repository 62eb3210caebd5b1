# boxoffice — `make run` starts everything, `make test` checks everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)

.PHONY: help install run demo test test-unit test-services lint migrate check-compose bench chaos fuzz mutate clean

help:
	@echo "make run    - install, migrate and start gateway, workers, beat and Flower"
	@echo "make test   - install and run the whole test suite"
	@echo "make lint   - check the architecture's import contracts (pyproject.toml)"
	@echo "make demo   - a scripted purchase against a running 'make run'"

$(STAMP): requirements-dev.lock pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

migrate: install
	flask --app api db upgrade

# honcho supervises the processes of the Procfile; `exec` makes it make's own child so
# that Ctrl-C or a SIGTERM to make reaches every process.
run: install
	@flask --app api dev-setup
	exec honcho start -f Procfile

# A scripted purchase against the stack `make run` started (same environment).
demo: install
	@flask --app api users create-admin demo-admin@boxoffice.local --name "Demo admin" \
		--password "$${DEMO_ADMIN_PASSWORD:-demo-admin-password}" >/dev/null
	python scripts/demo.py --base-url http://127.0.0.1:$${BOXOFFICE_PORT:-8000} \
		--api-key "$$(flask --app api dev-setup --key-only)" \
		--admin-email demo-admin@boxoffice.local \
		--admin-password "$${DEMO_ADMIN_PASSWORD:-demo-admin-password}"

# The whole suite. Tests that need RabbitMQ, PostgreSQL and Redis skip without them,
# except under CI=true, where a missing service or any skipped test fails the run.
test: install
	python -m pytest -ra $(PYTEST_ARGS)

# The import contracts of [tool.importlinter] in pyproject.toml: contracts import nothing
# of ours, the domains are independent, the gateway stands above the workers.
lint: install
	lint-imports

# Benchmarks on the local RabbitMQ, PostgreSQL and Redis (throwaway database and vhost).
bench: install
	python -m bench $(BENCH_ARGS)

# Fault injection on the real stack (RabbitMQ, PostgreSQL, Redis): 5 scenarios of 1,000
# purchases each; prints scenario × invariant and exits 1 if any invariant broke.
# CHAOS_ARGS e.g. "--scenario kill-workers --purchases 200 --seed 7 --keep-logs".
chaos: install
	python -m chaos $(CHAOS_ARGS)

# Schemathesis against the gateway on the real services, far longer than in `make test`:
# FUZZ_EXAMPLES generated requests per operation and role (the suite runs 5).
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} python -m pytest tests/integration/test_fuzz.py -q -o timeout=3600 $(PYTEST_ARGS)
# Mutation testing of the five core rules' functions (MUTATE_SCOPE=all: every function of
# the rules' modules, about an hour) against the fast unit tests; writes
# docs/mutation-report.md. No RabbitMQ or Redis (TEST_SERVICES=off skips the run's
# provisioning); the unit tests of the rules that depend on PostgreSQL's locks make their
# own throwaway database on the local server (TEST_POSTGRES_URL), and skip without one.
MUTATE_ARGS ?= --max-children 2
MUTATE_SCOPE ?= core
mutate: install
	rm -rf mutants
	CI= TEST_SERVICES=off mutmut run $(MUTATE_ARGS) \
		$(if $(filter all,$(MUTATE_SCOPE)),,$$(python scripts/mutation_report.py --patterns))
	python scripts/mutation_report.py

check-compose: install
	scripts/check-compose.sh

clean:
	rm -rf var .pytest_cache
