#!/usr/bin/env bash
# `make test-containers`: the integration suites with the `testcontainers` provider, which starts
# PostgreSQL and the Pub/Sub emulator as containers instead of using local services.
#   1. clippy (warnings denied) over every target with the feature on: `make lint` builds without
#      it, so this is the only place its code is linted.
#   2. when a Docker engine answers: cargo nextest run with the feature, for real (GitHub's runner).
#      Without one (the machines .ci/run uses have none) the suite is compiled and linted only, and
#      the log says so; REQUIRE_DOCKER=1 (set in ci.yml) turns a missing engine into a failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FLIGHTDECK_ROOT"

cargo clippy --locked --all-targets --features testcontainers -p flightdeck -- -D warnings

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  need_cmd cargo-nextest "run scripts/install-nextest.sh"
  log "Docker engine answers: running the integration suites against containers"
  cargo nextest run --locked -p flightdeck --features testcontainers "$@"
elif [[ ${REQUIRE_DOCKER:-0} == 1 ]]; then
  die "REQUIRE_DOCKER=1 but no Docker engine answers 'docker info': start Docker or unset REQUIRE_DOCKER"
else
  log "notice: no Docker engine answers 'docker info': the testcontainers suites were compiled and linted, not run"
fi
