#!/usr/bin/env bash
# `make test`: everything CI proves, from a fresh machine. Each step says what it checks.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FLIGHTDECK_ROOT"

step() { log "== $* =="; }

step "toolchain"
rustup component list --installed 2>/dev/null | grep -qE '^(clippy|rustfmt)' ||
  rustup component add clippy rustfmt
cargo --version
scripts/install-nextest.sh

step "services: PostgreSQL and the Pub/Sub emulator"
eval "$(scripts/services.sh)"

step "format and lints (clippy, warnings denied)"
make --no-print-directory lint

step "testcontainers provider: clippy with the feature; its suites run where a Docker engine answers"
make --no-print-directory test-containers

step "unit and integration tests"
scripts/test-rust.sh

step "API contract: schemathesis against the live /openapi.json (1,000+ generated cases)"
scripts/test-api-contract.sh

step "SLO files match their specs (generated rules, k6 thresholds, Terraform variables)"
make --no-print-directory slo-check

step "docs match their sources (generated blocks, runbook URLs from alerts/runbooks.yml, the architecture diagram)"
make --no-print-directory docs-check

step "observability: promtool, amtool, dashboards (static and live against a real Prometheus)"
scripts/test-observability.sh

step "load budgets: ratios to same-run ceilings above their floors, then k6 at a share of the measured capacity"
scripts/budget.sh

step "infrastructure checks"
scripts/lint-infra.sh

step "delivery checks"
scripts/lint-delivery.sh

step "unprivileged user: tool installers, observability and lint checks without root"
make --no-print-directory test-nonroot

log "all checks passed"
