#!/usr/bin/env bash
# `make bench-growth`: cost growth with data size. Loads the same shape of data at 200,000 and
# 2,000,000 events (5,000 and 50,000 flights over 92 days, 10 origins) with SQL, measures every
# read endpoint uncached at each size, then the batch writer with the daily rollup maintained
# and with its triggers off, all in one run; writes the table into docs/performance.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FLIGHTDECK_ROOT"
DURATION=${BENCH_SECONDS:-5}
CONNECTIONS=50
log "building release binaries"
cargo build --locked --release -p flightdeck --bin flightdeck --example bench_sink
release="$CARGO_TARGET_DIR/release"
results="$RUN_DIR/growth-results.jsonl"
mkdir -p "$RUN_DIR"
: >"$results"
record() { echo "$1" >>"$results"; }
eval "$(scripts/services.sh)"
source scripts/bench-lib.sh

db="flightdeck_growth_$$"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for name in "$db" "${db}_sink" "${db}_sink_off"; do
    psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" 2>/dev/null || true
  done
}
trap cleanup EXIT
url_of() { echo "${TEST_DATABASE_URL%/*}/$1"; }
psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $db"
export DATABASE_URL
DATABASE_URL=$(url_of "$db")
"$release/flightdeck" migrate >/dev/null

# load FLIGHTS: FLIGHTS x 40 events, flight state from each flight's newest event (the rollup
# follows through its triggers), on days from 91 days ago to today.
load() {
  psql "$DATABASE_URL" -q -v flights="$1" <<'SQL'
TRUNCATE flight_events, flights, delay_rollups;
INSERT INTO flight_events (event_id, flight_id, airline, flight_number, origin, destination, status,
    scheduled_departure, actual_departure, delay_minutes, event_time, published_at, message_id)
SELECT gen_random_uuid(), 'G' || f, 'LA', (f % 9999)::text,
       (ARRAY['SCL','LIM','GRU','BOG','MEX','MAD','MIA','JFK','EZE','SCF'])[1 + f % 10], 'MAD',
       (ARRAY['scheduled','boarding','departed','arrived','delayed','cancelled'])[1 + (f + e) % 6],
       date_trunc('day', now()) - interval '91 days' + (f % 92) * interval '1 day' + (f % 1440) * interval '1 minute',
       NULL, CASE WHEN (f + e) % 3 = 0 THEN NULL ELSE (f * 7 + e) % 180 END,
       now() - (:flights * 40 - (f * 40 + e)) * interval '1 second', now(), 'g' || f || '-' || e
FROM generate_series(0, :flights - 1) AS f, generate_series(0, 39) AS e;
INSERT INTO flights (flight_id, airline, flight_number, origin, destination, status,
    scheduled_departure, actual_departure, delay_minutes, last_event_id, last_event_time)
SELECT DISTINCT ON (flight_id) flight_id, airline, flight_number, origin, destination, status,
       scheduled_departure, actual_departure, delay_minutes, event_id, event_time
FROM flight_events ORDER BY flight_id, event_time DESC, event_id DESC;
VACUUM ANALYZE flight_events, flights, delay_rollups;
SQL
}

API_AUTH=off API_CACHE_TTL_MS=0 HOST=127.0.0.1 PORT=0 METRICS_PORT=0 LOG_FORMAT=json \
  "$release/flightdeck" serve >"$RUN_DIR/growth-serve.log" 2>&1 &
pids+=("$!")
source scripts/pipeline.sh
read -r http _ < <(listen_addr "$RUN_DIR/growth-serve.log")
api="http://$http"
from=$(date -u -d '91 days ago' +%F)
to=$(date -u +%F)

for flights in 5000 50000; do
  events=$((flights * 40))
  log "loading $events events, $flights flights"
  load "$flights"
  # The cursor of page 40 of /v1/events?limit=50, followed as a consumer would.
  cursor=""
  for _ in $(seq 1 39); do
    cursor=$(curl -fsS "$api/v1/events?limit=50${cursor:+&cursor=$cursor}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"])')
  done
  for case in "events|/v1/events?limit=50" "deep|/v1/events?limit=50&cursor=$cursor" \
    "flight|/v1/flights/G123" "stats|/v1/stats/delays?origin=SCL&from=$from&to=$to"; do
    name=${case%%|*}
    record "{\"kind\":\"growth\",\"events\":$events,\"flights\":$flights,\"result\":$(wrk_json "$name" "$api${case#*|}")}"
  done
done

log "batch writer next to binary COPY, with the daily rollup and with its triggers off (30,000 rows)"
for mode in rollup no-rollup; do
  name="${db}_sink"; [[ $mode == rollup ]] || name="${db}_sink_off"
  psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $name"
  record "{\"kind\":\"growth_sink\",\"mode\":\"$mode\",\"result\":$(DATABASE_URL=$(url_of "$name") "$release/examples/bench_sink" 30000 "$mode")}"
done
python3 scripts/bench_parse.py growth "$results" docs/performance.md
