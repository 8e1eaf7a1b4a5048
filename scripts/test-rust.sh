#!/usr/bin/env bash
# Unit and integration tests against the local PostgreSQL and Pub/Sub emulator (started if needed).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FLIGHTDECK_ROOT"
eval "$(scripts/services.sh)"
# Databases left by interrupted runs.
psql "$TEST_DATABASE_URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'flightdeck\_test\_%'" |
  while read -r db; do psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"; done
need_cmd cargo-nextest "cargo install --locked cargo-nextest"
cargo nextest run --locked --workspace "$@"
