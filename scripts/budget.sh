#!/usr/bin/env bash
# `make budget`: load budgets. Measures, in one short run, how fast the release build is next to
# ceilings measured on the same machine at the same moment (absolute numbers drift with the
# machine; these ratios do not), fails when a ratio is under its floor in loadtests/budgets.json,
# then runs the k6 SLO gate at a stated fraction of the capacity just measured.
#
#   scripts/budget.sh                 # release build; BUDGET_SECONDS (default 5) per measurement
#   FLIGHTDECK_BIN=... scripts/budget.sh   # another build of the same commit (e.g. debug)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FLIGHTDECK_ROOT"
DURATION=${BUDGET_SECONDS:-5}
CONNECTIONS=50
budgets=loadtests/budgets.json

log "building release binaries"
cargo build --locked --release -p flightdeck --bin flightdeck --example bench_hello --example bench_sink --example bench_consumer --example bench_sql
export FLIGHTDECK_BIN="${FLIGHTDECK_BIN:-$CARGO_TARGET_DIR/release/flightdeck}"
results="$RUN_DIR/budget-results.jsonl"
mkdir -p "$RUN_DIR"
: >"$results"
record() { echo "$1" >>"$results"; }
k6=$(scripts/install-k6.sh)

source scripts/bench-lib.sh
# Its own fresh emulator by default; BUDGET_OWN_EMULATOR=0 uses PUBSUB_EMULATOR_HOST as it is
# (a CI job whose emulator is already fresh, e.g. a container started for the job).
if [[ ${BUDGET_OWN_EMULATOR:-1} == 1 ]]; then own_emulator; else stop_own_emulator() { :; }; fi
source scripts/pipeline.sh
PIPELINE_INGEST_ENV=()
PIPELINE_SERVE_ENV=(API_CACHE_TTL_MS=0)
pipeline_start
trap 'pipeline_stop; stop_own_emulator' EXIT
log "seeding 20,000 events through Pub/Sub and ingest"
seed_events 20000
sqldir=$(mktemp -d)
api_sql "$sqldir" none "$(date -u +%F)" "$(date -u +%F)"

# Each pair is measured twice, alternating, and each side keeps its better run: a disturbance
# of a few seconds (another process, a page-cache flush) then lowers neither ratio.
log "feed: uncached API next to pgbench running the same SQL (${DURATION}s each, twice)"
for _ in 1 2; do
  record "$(wrk_json api_events "$API_URL/v1/events?limit=50")"
  record "$(pgbench_json sql_events "$sqldir/events.sql")"
done

log "hot reads: cached API next to a bare axum server (twice)"
hot_reads 2

log "batch writer next to binary COPY (30,000 rows)"
record "{\"kind\":\"sink\",\"result\":$(DATABASE_URL="$PIPELINE_DB_URL" "$CARGO_TARGET_DIR/release/examples/bench_sink" 30000)}"

log "ingest end to end next to a bare consumer (4 streams, 20,000 events)"
ingest_pid=${pipeline_pids[0]}
kill -TERM "$ingest_pid"; wait "$ingest_pid" 2>/dev/null || true
delete_subscription "ingest-$PIPELINE_ID"
record "$(ingest_vs_bare 4 20000)"

rate=$(python3 scripts/budget_check.py "$budgets" "$results") ||
  die "a load budget is not met (above: each ratio, its floor and the raw numbers)"

log "k6 SLO gate at $rate req/s (the budget's share of the feed capacity just measured)"
reports="$FLIGHTDECK_ROOT/loadtests/reports"
mkdir -p "$reports"
(cd loadtests && RATE=$rate "$k6" run --quiet --summary-export "$reports/summary-budget.json" \
  -e "BASE_URL=$API_URL" -e PROFILE=short read-mix.js)
log "load budgets met; k6 thresholds met at $rate req/s"
