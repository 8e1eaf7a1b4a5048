#!/usr/bin/env bash
# Source me (make bench, make budget): wrk and pgbench as JSON lines, a Pub/Sub emulator of the
# run's own, and the feed's SQL as the API runs it. Needs CONNECTIONS, DURATION and, for pgbench,
# PIPELINE_DB_URL (scripts/pipeline.sh).

command -v wrk >/dev/null || apt_install wrk
need_cmd pgbench "install the PostgreSQL client tools (Debian: apt-get install postgresql-contrib)"

# wrk_json NAME URL [LUA]: requests/s, p50 and p99 in ms at $CONNECTIONS connections, sent
# with the pipeline's API key like a consumer's requests, plus WRK_HEADER when set; with
# SERVER_PID set, also that process's CPU microseconds per request over the run.
wrk_json() {
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Bearer ${API_KEY:-}" \
    ${WRK_HEADER:+-H "$WRK_HEADER"} ${3:+-s "$3"} "$2" |
    python3 "$FLIGHTDECK_ROOT/scripts/bench_parse.py" wrk "$1" ${SERVER_PID:-}
}

# pgbench_json NAME SQLFILE: the same SQL, prepared, same connection count; the values of its
# :pN parameters come from SQLFILE's .vars sibling (app/examples/bench_sql.rs writes both).
pgbench_json() {
  local dir defines=()
  dir=$(mktemp -d)
  if [[ -f ${2%.sql}.vars ]]; then
    while read -r define; do [[ -n $define ]] && defines+=(-D "$define"); done <"${2%.sql}.vars"
  fi
  (cd "$dir" && pgbench -n -M prepared -c "$CONNECTIONS" -j 2 -T "$DURATION" -l "${defines[@]}" -f "$2" "$PIPELINE_DB_URL" >summary.txt 2>&1) ||
    die "pgbench failed: $(cat "$dir/summary.txt")"
  python3 "$FLIGHTDECK_ROOT/scripts/bench_parse.py" pgbench "$1" "$dir"
  rm -rf "$dir"
}

# A fresh emulator of the run's own (EMULATOR_PORT): one that served many tests carries their
# subscriptions and backlogs, and its CPU use would distort every number.
own_emulator() {
  unset PUBSUB_EMULATOR_HOST
  export EMULATOR_PORT=${BENCH_EMULATOR_PORT:-8095}
  stop_own_emulator
}
stop_own_emulator() {
  local pidfile="$RUN_DIR/emulator-$EMULATOR_PORT.pid"
  [[ -f $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null
  pkill -f "pubsub-emulator.*--port=$EMULATOR_PORT" 2>/dev/null || true
  rm -f "$pidfile"
}

# Subscriptions left behind would receive every later publish and slow the emulator down.
delete_subscription() {
  curl -fsS -X DELETE "http://$PUBSUB_EMULATOR_HOST/v1/projects/$GOOGLE_CLOUD_PROJECT/subscriptions/$1" >/dev/null
}

# serve_variant NAME [ENV=VALUE...]: one more serve on the pipeline's database with those
# settings; sets VARIANT_HTTP and VARIANT_METRICS (addresses) once it has loaded its API keys.
serve_variant() {
  local name=$1
  shift
  pipeline_spawn "$name" serve "$@"
  read -r VARIANT_HTTP VARIANT_METRICS < <(listen_addr "$RUN_DIR/$PIPELINE_ID-$name.log")
  [[ " $* " == *" API_AUTH=off "* ]] || wait_keys_loaded "http://$VARIANT_METRICS/metrics"
}

# hot_reads [ROUNDS]: records the cached feed and the bare axum ceiling (with the caller's
# `record`), alternating ROUNDS times (default 1) so a passing disturbance hits both sides, each
# with its server's CPU per request; CACHED_PID is the cached serve's.
hot_reads() {
  serve_variant cached API_CACHE_TTL_MS=1000
  CACHED_PID=${pipeline_pids[-1]}
  "$CARGO_TARGET_DIR/release/examples/bench_hello" >"$RUN_DIR/$PIPELINE_ID-hello.log" &
  pipeline_pids+=("$!")
  local hello_pid=$!
  for _ in $(seq 1 50); do [[ -s $RUN_DIR/$PIPELINE_ID-hello.log ]] && break; sleep 0.1; done
  for _ in $(seq 1 "${1:-1}"); do
    record "$(SERVER_PID=$CACHED_PID wrk_json api_events_cached "http://$VARIANT_HTTP/v1/events?limit=50")"
    record "$(SERVER_PID=$hello_pid wrk_json axum_hello "http://$(head -1 "$RUN_DIR/$PIPELINE_ID-hello.log")/")"
  done
}

# api_sql DIR FLIGHT_ID FROM TO: DIR/{events,filtered,flight,stats}.sql and their .vars, the
# statements the service prepares for each endpoint (app/examples/bench_sql.rs reads them from
# app/src/db/queries.rs: no copy of the SQL lives here).
api_sql() {
  "$CARGO_TARGET_DIR/release/examples/bench_sql" "$@"
}

# ingest_vs_bare STREAMS EVENTS: one e2e JSON line, the worker draining a backlog of EVENTS next
# to a bare consumer draining the same backlog (the pipeline's own ingest must be stopped).
ingest_vs_bare() {
  local streams=$1 events=$2 bare before t0 pid seconds rss
  export PUBSUB_SUBSCRIPTION="bench-$PIPELINE_ID-$streams"
  "$FLIGHTDECK_BIN" pubsub-setup >/dev/null
  "$FLIGHTDECK_BIN" publish --rate 0 --count "$events" >/dev/null
  bare=$("$CARGO_TARGET_DIR/release/examples/bench_consumer" "$streams" "$events")
  export PUBSUB_SUBSCRIPTION="bench-ingest-$PIPELINE_ID-$streams"
  "$FLIGHTDECK_BIN" pubsub-setup >/dev/null
  before=$(stored_events)
  "$FLIGHTDECK_BIN" publish --rate 0 --count "$events" >/dev/null
  t0=$(date +%s%N)
  INGEST_STREAMS=$streams "$FLIGHTDECK_BIN" ingest >"$RUN_DIR/$PIPELINE_ID-ingest-$streams.log" 2>&1 &
  pid=$!
  local deadline=$((SECONDS + 600))
  until (($(stored_events) >= before + events)); do
    ((SECONDS < deadline)) || die "ingest stored $(($(stored_events) - before)) of $events events in 600 s; see $RUN_DIR/$PIPELINE_ID-ingest-$streams.log"
    sleep 0.05
  done
  seconds=$(python3 -c "print(($(date +%s%N) - $t0) / 1e9)")
  rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  delete_subscription "bench-$PIPELINE_ID-$streams"
  delete_subscription "bench-ingest-$PIPELINE_ID-$streams"
  echo "{\"kind\":\"e2e\",\"budget_bytes\":$((streams * 8388608)),\"streams\":$streams,\"events_per_s\":$(python3 -c "print(round($events / $seconds))"),\"bare\":$bare,\"ingest_rss_kb\":$rss}"
}
