#!/usr/bin/env bash
# `make bench`: numbers, not pass/fail. Every figure is printed next to a ceiling measured in the
# same run on the same machine, and the table is written to docs/performance.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FLIGHTDECK_ROOT"
DURATION=${BENCH_SECONDS:-10}
CONNECTIONS=50
log "building release binaries"
cargo build --locked --release -p flightdeck --bin flightdeck --example bench_hello --example bench_sink --example bench_consumer --example bench_sql
release="$CARGO_TARGET_DIR/release"
export FLIGHTDECK_BIN="$release/flightdeck"
results="$RUN_DIR/bench-results.jsonl"
mkdir -p "$RUN_DIR"
: >"$results"
record() { echo "$1" >>"$results"; }

source scripts/bench-lib.sh
own_emulator

source scripts/pipeline.sh
PIPELINE_INGEST_ENV=()
PIPELINE_SERVE_ENV=(API_CACHE_TTL_MS=0)
pipeline_start

# Start-up: a second serve process, from exec to the first /readyz 200.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
started_ns=$(date +%s%N)
PORT=$port METRICS_PORT=0 "$FLIGHTDECK_BIN" serve >"$RUN_DIR/$PIPELINE_ID-startup.log" 2>&1 &
startup_pid=$!
deadline=$((SECONDS + 60))
until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
  ((SECONDS < deadline)) || die "serve was not ready within 60 s; see $RUN_DIR/$PIPELINE_ID-startup.log"
  sleep 0.001
done
record "{\"kind\":\"startup\",\"ms\":$(( ($(date +%s%N) - started_ns) / 1000000 ))}"
kill -TERM "$startup_pid"; wait "$startup_pid" 2>/dev/null || true

log "seeding 50,000 events through the pipeline"
seed_events 50000
flight=$(psql "$PIPELINE_DB_URL" -Atc "SELECT flight_id FROM flights ORDER BY updated_at DESC LIMIT 1")
today=$(date -u +%F)
week_ago=$(date -u -d '6 days ago' +%F)
sqldir=$(mktemp -d)
api_sql "$sqldir" "$flight" "$week_ago" "$today"

serve_pid=${pipeline_pids[1]}
log "API (uncached) vs pgbench, $CONNECTIONS connections, ${DURATION}s each"
for case in "events|/v1/events?limit=50" "filtered|/v1/events?origin=SCL&status=departed&limit=20" "flight|/v1/flights/$flight" "stats|/v1/stats/delays?origin=SCL&from=$week_ago&to=$today"; do
  name=${case%%|*}
  path=${case#*|}
  record "$(SERVER_PID=$serve_pid wrk_json "api_$name" "$API_URL$path")"
  record "$(pgbench_json "sql_$name" "$sqldir/$name.sql")"
done
record "{\"kind\":\"rss\",\"process\":\"serve\",\"kb\":$(awk '/VmHWM/ {print $2}' "/proc/$serve_pid/status")}"

log "cost of the API key check: the same uncached feed with API_AUTH=off"
serve_variant noauth API_CACHE_TTL_MS=0 API_AUTH=off
record "$(wrk_json api_events_noauth "http://$VARIANT_HTTP/v1/events?limit=50")"

log "compression: bytes per 50-event page and uncached req/s in each coding"
for coding in identity zstd br gzip; do
  bytes=$(curl -fsS -H "Authorization: Bearer $API_KEY" -H "Accept-Encoding: $coding" "$API_URL/v1/events?limit=50" | wc -c)
  record "{\"kind\":\"coding\",\"coding\":\"$coding\",\"bytes\":$bytes}"
  [[ $coding == identity ]] || record "$(WRK_HEADER="Accept-Encoding: $coding" wrk_json "api_events_$coding" "$API_URL/v1/events?limit=50")"
done

log "cached API vs bare axum; cached zstd pages and 304 revalidations"
hot_reads
cached_url="http://$VARIANT_HTTP/v1/events?limit=50"
record "$(SERVER_PID=$CACHED_PID WRK_HEADER="Accept-Encoding: zstd" wrk_json api_events_cached_zstd "$cached_url")"
etag=$(curl -fsS -o /dev/null -D - -H "Authorization: Bearer $API_KEY" "$cached_url" | awk -F': ' 'tolower($1) == "etag" {print $2}' | tr -d '\r')
record "$(SERVER_PID=$CACHED_PID WRK_HEADER="If-None-Match: $etag" wrk_json api_events_cached_304 "$cached_url")"
# The same ceiling sending the cached page's bytes: how much of the gap is the body itself.
page_bytes=$(curl -fsS -H "Authorization: Bearer $API_KEY" "$cached_url" | wc -c)
"$release/examples/bench_hello" "$page_bytes" >"$RUN_DIR/$PIPELINE_ID-hello-page.log" &
pipeline_pids+=("$!")
page_server_pid=$!
for _ in $(seq 1 50); do [[ -s $RUN_DIR/$PIPELINE_ID-hello-page.log ]] && break; sleep 0.1; done
record "$(SERVER_PID=$page_server_pid wrk_json axum_same_bytes "http://$(head -1 "$RUN_DIR/$PIPELINE_ID-hello-page.log")/")"
record "{\"kind\":\"page_bytes\",\"bytes\":$page_bytes}"

log "overload: about 3x the measured capacity offered, uncached; shed ratio and admitted p99"
# wrk is a closed loop: a shed answer comes back at once and its connection would fire again,
# offering far more than intended. Each connection waits between requests instead, so the
# offered rate is about connections x 1000 / delay_ms, set to 3x the capacity measured above.
in_flight=128
overload_connections=$((in_flight * 4))
capacity=$(python3 -c "import json; print(next(json.loads(l)['rps'] for l in open('$results') if '\"api_events\"' in l))")
delay_ms=$(python3 -c "print(max(1, round($overload_connections * 1000 / (3 * $capacity))))")
echo "function delay() return $delay_ms end" >"$RUN_DIR/overload-delay.lua"
serve_variant overload API_CACHE_TTL_MS=0 HTTP_MAX_IN_FLIGHT=$in_flight
overload_http=$VARIANT_HTTP overload_metrics=$VARIANT_METRICS
curl -fsS "http://$overload_metrics/metrics" >"$RUN_DIR/overload-before.txt"
record "$(CONNECTIONS=$overload_connections wrk_json api_overload "http://$overload_http/v1/events?limit=50" "$RUN_DIR/overload-delay.lua")"
curl -fsS "http://$overload_metrics/metrics" >"$RUN_DIR/overload-after.txt"
record "$(python3 scripts/bench_parse.py overload "$RUN_DIR/overload-before.txt" "$RUN_DIR/overload-after.txt" "$DURATION" "$in_flight" "$overload_connections" "$delay_ms")"

log "ingest sink vs raw binary COPY"
sink=$(DATABASE_URL="$PIPELINE_DB_URL" "$release/examples/bench_sink" 100000)
record "{\"kind\":\"sink\",\"result\":$sink}"

log "ingest end to end vs a bare consumer (backlog of 60,000 events drained)"
ingest_pid=${pipeline_pids[0]}
kill -TERM "$ingest_pid"; wait "$ingest_pid" 2>/dev/null || true
delete_subscription "ingest-$PIPELINE_ID"
for streams in 4 8 16; do
  record "$(ingest_vs_bare "$streams" 60000)"
done

log "freshness at 2,000 events/s for 30 s"
export PUBSUB_SUBSCRIPTION="bench-fresh-$PIPELINE_ID"
"$FLIGHTDECK_BIN" pubsub-setup >/dev/null
INGEST_STREAMS=4 "$FLIGHTDECK_BIN" ingest >"$RUN_DIR/$PIPELINE_ID-ingest-fresh.log" 2>&1 &
pipeline_pids+=("$!")
sleep 2
mark=$(psql "$PIPELINE_DB_URL" -Atc "SELECT now()")
"$FLIGHTDECK_BIN" publish --rate 2000 --count 60000 >/dev/null
sleep 3
record "$(psql "$PIPELINE_DB_URL" -Atc "SELECT json_build_object('kind','freshness','events',count(*),
  'p50_ms', round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ingested_at - published_at)) * 1000)::numeric, 1),
  'p99_ms', round((percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM ingested_at - published_at)) * 1000)::numeric, 1))
  FROM flight_events WHERE published_at >= '$mark'")"
record "{\"kind\":\"binary\",\"bytes\":$(stat -c %s "$FLIGHTDECK_BIN")}"

pipeline_stop
stop_own_emulator
python3 scripts/bench_parse.py report "$results" docs/performance.md
