# The two commands of the README: `make run` and `make test`. Everything else is set up from here.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.9.9
UV := .cache/uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin
INFRA := python3 deploy/local/infra.py
# Local runs, tests and benchmarks may generate development keys (JWT, PHI master key); outside
# development the services refuse to start without explicit keys.
export BILLING_DEVELOPMENT ?= 1

.PHONY: help browser schemas install lint test test-unit test-integration run down infra-up infra-env bench clean

help:
	@echo "make run        the platform with its local Kafka and PostgreSQL (Ctrl-C stops)"
	@echo "make test       install, lint, type-check and the whole test suite against real servers"
	@echo "make lint       ruff and mypy"
	@echo "make bench      benchmarks"
	@echo "make down       stop the local infrastructure"
	@echo "make infra-env  print KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL of the running infrastructure"

$(UV):
	python3 -m venv .cache/uv
	.cache/uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# One command installs the whole workspace (libs, services, cli, dev tools) as editable packages.
install: $(UV)
	$(UV) sync --all-packages --frozen --quiet

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: lint deploy-tools deploy-check browser
	deploy/local/with-infra.sh $(BIN)/pytest

# The dashboard's browser test drives Debian's chromium (never a downloaded browser).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

test-unit: install
	$(BIN)/pytest -m "not integration"

test-integration: install
	deploy/local/with-infra.sh $(BIN)/pytest -m integration

run: install
	deploy/local/run.sh

infra-up:
	@$(INFRA) up

down:
	@$(INFRA) down

infra-env:
	@$(INFRA) env --export

# Regenerate the published JSON Schemas of the event contracts (refuses changes that break consumers).
schemas: install
	$(BIN)/python -m billing_events.contracts.schemas --write

# When the bench starts its own PostgreSQL, it runs with PostgreSQL's default durability and with
# pg_stat_statements (round trips per encounter); a server already running is reused as it is.
BENCH_PG_OPTIONS = -c fsync=on -c synchronous_commit=on -c full_page_writes=on \
	-c shared_preload_libraries=pg_stat_statements

bench: install
	BILLING_PG_OPTIONS="$(BENCH_PG_OPTIONS)" deploy/local/with-infra.sh $(BIN)/python bench/run.py $(BENCH_ARGS)

# Dockerfile, compose file and Helm chart, validated offline (deploy/README.md).
include deploy/deploy.mk

clean: down
	rm -rf .cache/postgres .cache/kafka/data .cache/logs
