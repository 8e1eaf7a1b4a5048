#!/usr/bin/env bash
# Source me: starts a private flightdeck pipeline (own database, topic and subscription) for load
# tests and benchmarks, and stops it on exit. Needs FLIGHTDECK_BIN (a built binary).
# After `pipeline_start`: API_URL, API_METRICS_URL, INGEST_METRICS_URL, PIPELINE_DB_URL, and
# API_KEY, a consumer key with a quota no load test reaches (the pipeline's serve requires it).

pipeline_pids=()
PIPELINE_ID="fd$$"

pipeline_stop() {
  local pid
  for pid in "${pipeline_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pipeline_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pipeline_pids=()
  if [[ -n ${PIPELINE_DB_NAME:-} ]]; then
    psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $PIPELINE_DB_NAME WITH (FORCE)" 2>/dev/null || true
  fi
}

# listen_addr LOGFILE: waits for the "listening" log line and prints http_addr metrics_addr.
listen_addr() {
  local file=$1
  for _ in $(seq 1 150); do
    if grep -q '"message":"listening"' "$file" 2>/dev/null; then
      grep -m1 '"message":"listening"' "$file" |
        python3 -c 'import json,sys; l=json.load(sys.stdin); print(l["http_addr"], l["metrics_addr"])'
      return
    fi
    sleep 0.2
  done
  die "no listening line in $file"
}

# pipeline_spawn NAME COMMAND [ENV=VALUE...]: starts a flightdeck process with the pipeline env.
pipeline_spawn() {
  local name=$1 command=$2
  shift 2
  env "$@" "$FLIGHTDECK_BIN" "$command" >"$RUN_DIR/$PIPELINE_ID-$name.log" 2>&1 &
  pipeline_pids+=("$!")
}

pipeline_start() {
  eval "$("$FLIGHTDECK_ROOT/scripts/services.sh")"
  mkdir -p "$RUN_DIR"
  PIPELINE_DB_NAME="flightdeck_$PIPELINE_ID"
  psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $PIPELINE_DB_NAME" -c "CREATE DATABASE $PIPELINE_DB_NAME"
  PIPELINE_DB_URL="${TEST_DATABASE_URL%/*}/$PIPELINE_DB_NAME"
  export DATABASE_URL="$PIPELINE_DB_URL" GOOGLE_CLOUD_PROJECT=flightdeck-load \
    PUBSUB_TOPIC="events-$PIPELINE_ID" PUBSUB_SUBSCRIPTION="ingest-$PIPELINE_ID" \
    PUBSUB_DLQ_TOPIC="dlq-$PIPELINE_ID" HOST=127.0.0.1 PORT=0 METRICS_PORT=0 LOG_FORMAT=json RUST_LOG=warn,flightdeck=info
  export PIPELINE_DB_URL
  "$FLIGHTDECK_BIN" pubsub-setup >/dev/null
  "$FLIGHTDECK_BIN" migrate >/dev/null
  API_KEY=$("$FLIGHTDECK_BIN" apikey create --name load-test --rate 100000 --burst 100000 | tail -n 1)
  export API_KEY
  trap pipeline_stop EXIT
  pipeline_spawn ingest ingest "${PIPELINE_INGEST_ENV[@]}"
  pipeline_spawn serve serve "${PIPELINE_SERVE_ENV[@]}"
  local http metrics
  read -r http metrics < <(listen_addr "$RUN_DIR/$PIPELINE_ID-ingest.log")
  INGEST_METRICS_URL="http://$metrics/metrics"
  read -r http metrics < <(listen_addr "$RUN_DIR/$PIPELINE_ID-serve.log")
  API_URL="http://$http"
  API_METRICS_URL="http://$metrics/metrics"
  export API_URL API_METRICS_URL INGEST_METRICS_URL
  wait_keys_loaded "$API_METRICS_URL"
}

# wait_keys_loaded METRICS_URL: until that serve has loaded its API keys (its first reload).
wait_keys_loaded() {
  for _ in $(seq 1 150); do
    curl -fsS "$1" 2>/dev/null | grep -Eq '^flightdeck_api_keys_active(\{[^}]*\})? [1-9]' && return
    sleep 0.1
  done
  die "serve at $1 did not load its API keys within 15 s"
}

# stored_events: rows in the pipeline's database.
stored_events() { psql "$PIPELINE_DB_URL" -Atc "SELECT count(*) FROM flight_events"; }

# seed_events N: publishes N events as fast as possible and waits until all are stored.
seed_events() {
  local n=$1 target
  target=$(($(stored_events) + n))
  "$FLIGHTDECK_BIN" publish --rate 0 --count "$n" --seed 42 >/dev/null
  for _ in $(seq 1 600); do
    (($(stored_events) >= target)) && return
    sleep 0.2
  done
  die "only $(stored_events) of $target events stored after 120 s"
}
