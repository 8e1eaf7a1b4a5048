#!/usr/bin/env bash
# `make loadtest` (short; CI gates with `make budget` instead) and `make loadtest-full` (longer, ingest running at the same
# time, HTML report). Starts a private pipeline on the release binary, seeds it through the real
# ingest path, runs k6 with the SLO thresholds; a breached threshold fails the command.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
profile=${1:-short}
cd "$FLIGHTDECK_ROOT"
k6=$(scripts/install-k6.sh)
log "building the release binary"
cargo build --locked --release -p flightdeck
export FLIGHTDECK_BIN="$CARGO_TARGET_DIR/release/flightdeck"
source scripts/pipeline.sh
PIPELINE_INGEST_ENV=()
PIPELINE_SERVE_ENV=()
pipeline_start
log "seeding 20,000 events through Pub/Sub and ingest"
seed_events 20000
reports="$FLIGHTDECK_ROOT/loadtests/reports"
mkdir -p "$reports"
args=(run --quiet --summary-export "$reports/summary-$profile.json" -e "BASE_URL=$API_URL" -e "PROFILE=$profile")
if [[ $profile == full ]]; then
  log "publishing 500 events/s during the test"
  "$FLIGHTDECK_BIN" publish --rate 500 --invalid-ratio 0.01 >/dev/null 2>&1 &
  pipeline_pids+=("$!")
  export K6_WEB_DASHBOARD=true K6_WEB_DASHBOARD_EXPORT="$reports/report-$profile.html"
fi
log "k6 ($profile) against $API_URL"
(cd loadtests && "$k6" "${args[@]}" read-mix.js)
log "k6 thresholds met; summary: loadtests/reports/summary-$profile.json"
