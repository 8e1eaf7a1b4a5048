# flightdeck: the commands a developer and CI use. `make help` lists them.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= /var/tmp/flightdeck-target
# FLIGHTDECK_TOOLS (the pinned tools folder) takes its default in scripts/lib.sh, which every script sources.

.PHONY: help up down test api-contract fmt lint build release test-rust lint-infra lint-delivery slo-gen slo-check docs docs-check promtool-test loadtest loadtest-full budget bench bench-growth test-observability test-containers test-nonroot dashboards fleet

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

up: ## run the whole pipeline locally (Postgres, Pub/Sub emulator, ingest, serve, publish)
	@scripts/up.sh

down: ## stop everything `make up` started
	@scripts/down.sh

build: ## debug build of the binary
	cargo build --locked -p flightdeck

release: ## optimized build of the binary
	cargo build --locked --release -p flightdeck

fmt: ## format the Rust code
	cargo fmt --all

lint: ## fmt check + clippy with warnings denied
	cargo fmt --all -- --check
	cargo clippy --locked --all-targets -- -D warnings

test: ## everything CI proves: set-up, lints, unit + integration tests, infra and delivery checks
	@scripts/test.sh

api-contract: ## schemathesis against the live /openapi.json: no 5xx, every response as documented
	@scripts/test-api-contract.sh

test-rust: ## unit + integration tests only (services must be running: scripts/services.sh)
	@scripts/test-rust.sh

test-containers: ## clippy with the testcontainers feature; its integration suites when a Docker engine answers
	@scripts/test-containers.sh

test-nonroot: ## tool installers, observability and lint checks as an unprivileged user (created when run as root)
	@scripts/test-nonroot.sh

lint-infra: ## offline Terraform checks (fmt, checkov + custom policies, trivy, structural tests)
	@scripts/lint-infra.sh

lint-delivery: ## offline delivery checks (actionlint, zizmor, checkov, hadolint, yamllint, shellcheck, cargo-deny)
	@scripts/lint-delivery.sh

slo-gen: ## regenerate Prometheus rules, k6 thresholds and Terraform SLO variables from slo/specs
	cargo run --locked -q -p flightdeck-slo -- generate .

slo-check: ## fail when generated SLO files differ from slo/specs
	cargo run --locked -q -p flightdeck-slo -- check .

docs: ## regenerate the docs' generated blocks (docs/reference.md, ...), runbook URLs and docs/architecture.svg
	@scripts/docs.sh

docs-check: ## fail, with a diff, when a generated block, runbook URL or the diagram differs from its source
	@scripts/docs.sh --check

promtool-test: ## static observability checks: promtool check/test of every rule file, amtool, dashboard lint, runbook links
	@OBSERVABILITY_LIVE=0 scripts/test-observability.sh

test-observability: ## the static checks plus every dashboard query against a real Prometheus scraping the running pipeline
	@scripts/test-observability.sh

dashboards: ## regenerate dashboards/*.json from dashboards/src (grafana-foundation-sdk, slo/specs, slo/_gen)
	@scripts/dashboards.sh

fleet: ## 50 systems scraped by one Prometheus with every rule: series, rule and dashboard query times into docs/observability.md
	@scripts/fleet.sh

loadtest: ## k6 gate (about a minute): the release build must meet the SLO thresholds
	@scripts/loadtest.sh short

loadtest-full: ## longer k6 run with ingest at the same time; HTML report in loadtests/reports/
	@scripts/loadtest.sh full

budget: ## load budgets (about 3 minutes): ratios to same-run ceilings above their floors, then k6 at a share of the measured capacity
	@scripts/budget.sh

bench: ## benchmarks next to ceilings measured in the same run; updates docs/performance.md
	@scripts/bench.sh

bench-growth: ## every read endpoint at 200k and 2M events, the writer with and without the rollup; updates docs/performance.md
	@scripts/bench_growth.sh
