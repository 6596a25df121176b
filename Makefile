# django-clustering: `make up`, then `make check` and `make test`. `make help` lists every target.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

COMPOSE := docker compose
# Without the buildx plugin Compose builds through the engine's BuildKit; say so instead of warning.
export COMPOSE_BAKE := false
# The stack's Compose project (compose.yaml's name unless COMPOSE_PROJECT_NAME says otherwise).
PROJECT := $(or $(COMPOSE_PROJECT_NAME),django-clustering)
# Replicas of the Django service for `up` and `scale`.
WAS ?= 2
# The host's CA bundle, handed to image builds as a build secret (see was/Dockerfile).
export CA_BUNDLE ?= $(firstword $(wildcard /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem) /dev/null)
VENV := .venv
# What the replicas report as their version (/healthz, X-App-Version, make status): the commit built.
export APP_VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
# `make check`'s own venv: lint tools and the app's packages, none of the stack tier's (the docker SDK).
CHECK_VENV := .venv-check

# Seconds of each measured run of `make bench` (16 alternating rounds per comparison: a full bench takes
# about 20 minutes with 2), more bench/run.py options in BENCH_ARGS.
BENCH_SECONDS ?= 2
BENCH_ARGS ?=
# Seconds of chaos for `make chaos`.
DURATION ?= 300
# The stack's name on Docker Swarm (swarm-up, swarm-scale, swarm-down; backup and restore when no Compose project runs).
STACK ?= django-clustering-swarm
# Where `make backup` writes its archives and `make backups` lists them (docs/operations.md, "Backups").
export BACKUP_DIR ?= backups

.PHONY: help up deploy scale rotate-secrets down clean ps logs status build versions prereqs check test chaos bench bench-smoke swarm-up swarm-deploy swarm-scale swarm-down backup restore backups

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

prereqs:
	@scripts/compose-v2

build: prereqs ## Build the images (the Debian base too, when no registry has it)
	@echo "build: images (the first build takes a few minutes)"
	@BASE_IMAGE=$$(base/ensure) $(COMPOSE) build

versions: ## Print the Debian and PyPI versions each built image has (TAG's images; docs/images.md)
	@scripts/versions

up: build ## Start the stack with WAS replicas (default 2), wait until healthy, print its URL
	@scripts/check-replicas $(WAS)
	@scripts/secrets
	@echo "up: starting $(WAS) replicas and waiting until every service is healthy"
	@# Replicas already serving are rolled onto a new build one by one, never recreated all at once.
	@if [[ -n $$($(COMPOSE) ps -q was 2>/dev/null) ]]; then REPLICAS=$(WAS) scripts/deploy; fi
	@# A failed init says why in its last line (was/init: a database created with other secrets, say).
	@$(COMPOSE) up -d --wait --scale was=$(WAS) \
	  || { $(COMPOSE) logs --no-log-prefix --tail 1 init 2>/dev/null | sed 's/^/up: init said: /' >&2; exit 1; }
	@scripts/secrets keep
	@scripts/host-firewall on $(PROJECT)
	@scripts/wait-members $(WAS)
	@if address=$$($(COMPOSE) port apache 443 2>/dev/null); then echo "up: ready at https://$$address/"; \
	else echo "up: ready at http://$$($(COMPOSE) port apache 80)/"; fi

scale: ## Resize to WAS replicas; returns once the balancer routes to all of them
	@scripts/check-replicas $(WAS)
	@$(COMPOSE) up -d --wait --no-deps --no-recreate --scale was=$(WAS) was
	@scripts/wait-members $(WAS)

deploy: build ## Roll the replicas onto the new build: no failed request, rolled back if it fails
	@scripts/secrets
	@scripts/deploy
	@scripts/secrets keep

rotate-secrets: ## New database password and Django secret key: nobody logged out, no failed request
	@scripts/rotate-secrets

down: ## Stop the stack, keeping its data
	@$(COMPOSE) down
	@scripts/host-firewall off $(PROJECT)

clean: ## Stop the stack and DELETE its data volumes (users, posts, images, sessions)
	@echo "clean: this deletes the database, Redis, bucket and secrets volumes of project $(PROJECT)"
	@$(COMPOSE) down --volumes --remove-orphans
	@scripts/host-firewall off $(PROJECT)

ps: ## List the stack's containers
	@$(COMPOSE) ps

logs: ## Follow the logs of every service
	@$(COMPOSE) logs -f --tail=100

status: ## Show the balancer's members: route, address, state, requests served
	@$(COMPOSE) exec -T apache balancer-status

backup: ## Archive the database and the posts' images, while serving, into BACKUP_DIR (default backups/)
	@COMPOSE_PROJECT_NAME=$(PROJECT) STACK=$(STACK) scripts/backup create

restore: ## Restore FILE=<archive> into this stack, whose database must be empty (FORCE=1: replace it)
	@COMPOSE_PROJECT_NAME=$(PROJECT) STACK=$(STACK) scripts/backup restore "$(FILE)"

backups: ## List the archives in BACKUP_DIR
	@scripts/backup list

$(CHECK_VENV)/.installed: requirements-check.txt
	python3 -m venv $(CHECK_VENV)
	$(CHECK_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-check.txt
	@touch $@

# Shell scripts have no extension: they are the files whose first line is a bash or sh shebang (a file deleted
# but not yet from git reads as no line). The unit tests live beside the code they test (was/, apache/, base/:
# the images' version policy, scripts/: the backup archive), with Django's settings for them in was/tests/settings.py.
check: $(CHECK_VENV)/.installed ## Lint (ruff, shellcheck) and unit tests: no Docker, under a minute
	@$(CHECK_VENV)/bin/ruff check --quiet
	@git ls-files --cached --others --exclude-standard \
	  | awk '(getline line < $$0) > 0 && line ~ /^#!.*(bash|\/sh)/ { print } { close($$0) }' \
	  | xargs $(CHECK_VENV)/bin/shellcheck
	@$(CHECK_VENV)/bin/pytest --quiet --ds=tests.settings was apache base scripts

$(VENV)/.installed: tests/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	@touch $@

test: build $(VENV)/.installed ## Run the test suite against a stack of its own (removed afterwards)
	@echo "test: browser image (Chromium) for the browser test, Docker engine image for the Swarm tests, the bench's (every image meets the version policy)"
	@BASE_IMAGE=$$(base/ensure) $(COMPOSE) --profile browser --profile swarm-engine --profile bench build browser swarm-engine loadgen
	@$(VENV)/bin/pytest

chaos: build $(VENV)/.installed ## Chaos run of DURATION seconds (default 300) on a stack of its own
	@CHAOS_SECONDS=$(DURATION) $(VENV)/bin/pytest -s tests/test_chaos.py

$(VENV)/.bench-installed: bench/requirements.txt $(VENV)/.installed
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	@touch $@

bench: build $(VENV)/.bench-installed ## Benchmark on a stack of its own: bench/results/latest.{json,png,md}
	@BASE_IMAGE=$$(base/ensure) $(COMPOSE) --profile bench --profile swarm-engine build loadgen swarm-engine
	@$(VENV)/bin/python -m bench.run --seconds $(BENCH_SECONDS) $(BENCH_ARGS)

bench-smoke: ## The whole bench with 1 s runs (about 3 minutes), figures not kept (CI)
	@$(MAKE) bench BENCH_SECONDS=1 BENCH_ARGS="--rounds 1 --failover-seconds 4 --out bench/results/smoke"

swarm-up: build ## Deploy on Docker Swarm (a single-node swarm if in none) with WAS replicas, print its URL
	@scripts/check-replicas $(WAS)
	@scripts/secrets
	@STACK=$(STACK) WAS_REPLICAS=$(WAS) scripts/swarm-up

swarm-deploy: build ## Roll the Swarm stack's replicas onto the new build, one by one; rolled back if it fails
	@STACK=$(STACK) scripts/swarm-deploy

swarm-scale: ## Resize the Swarm stack to WAS replicas; returns once the balancer routes to all of them
	@scripts/check-replicas $(WAS)
	@docker service scale --detach=false $(STACK)_was=$(WAS) >/dev/null
	@STACK=$(STACK) scripts/wait-members $(WAS)

swarm-down: ## Remove the Swarm stack and DELETE its data; leave the swarm if swarm-up created it
	@STACK=$(STACK) scripts/swarm-down
