#!/usr/bin/env bash
# `make up`: the whole pipeline on this machine, no Docker: PostgreSQL, the Pub/Sub emulator,
# ingest, serve and a gentle publisher. Ctrl-C (or `make down`) stops what it started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FLIGHTDECK_ROOT"
mkdir -p "$RUN_DIR"

need_cmd cargo "install Rust from https://rustup.rs"
need_cmd psql "install the PostgreSQL client (Debian: apt-get install postgresql-client)"
need_cmd curl "install curl (Debian: apt-get install curl)"

API_PORT="${API_PORT:-8080}"
API_METRICS_PORT="${API_METRICS_PORT:-9464}"
INGEST_PORT="${INGEST_PORT:-8081}"
INGEST_METRICS_PORT="${INGEST_METRICS_PORT:-9465}"
PUBLISH_RATE="${PUBLISH_RATE:-20}"
# A week of completed flights first, so the default /v1/stats/delays window (the last 7 days)
# shows statistics on the first screen instead of zeros.
PUBLISH_BACKFILL_DAYS="${PUBLISH_BACKFILL_DAYS:-7}"

log "building flightdeck"
cargo build --locked -p flightdeck
bin="$CARGO_TARGET_DIR/debug/flightdeck"

eval "$(scripts/services.sh)"
if [[ -z ${DATABASE_URL:-} ]]; then
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/flightdeck"
  if ! psql "postgres://postgres@127.0.0.1:5432/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = 'flightdeck'" | grep -q 1; then
    log "creating database flightdeck"
    psql "postgres://postgres@127.0.0.1:5432/postgres" -qc "CREATE DATABASE flightdeck"
  fi
fi
export LOG_FORMAT="${LOG_FORMAT:-json}"

"$bin" pubsub-setup
"$bin" migrate

# new_key NAME: a fresh key for a local consumer (the previous one of that name is revoked; a
# key is shown only once, so it cannot be recovered), saved to $RUN_DIR/NAME-api-key (mode 600).
new_key() {
  "$bin" apikey revoke "$1" >/dev/null 2>&1 || true
  (umask 077 && "$bin" apikey create --name "$1" | tail -n 1 >"$RUN_DIR/$1-api-key")
}
new_key dev
new_key probe
DEV_KEY=$(cat "$RUN_DIR/dev-api-key")

start() { # NAME PORT METRICS_PORT ARGS...
  local name=$1 port=$2 metrics=$3
  shift 3
  PORT=$port METRICS_PORT=$metrics nohup "$bin" "$@" >"$RUN_DIR/$name.log" 2>&1 &
  echo $! >"$RUN_DIR/$name.pid"
}
start ingest "$INGEST_PORT" "$INGEST_METRICS_PORT" ingest
start serve "$API_PORT" "$API_METRICS_PORT" serve
wait_http "http://127.0.0.1:$INGEST_PORT/readyz" 30 || die "ingest did not become ready; see $RUN_DIR/ingest.log"
wait_http "http://127.0.0.1:$API_PORT/readyz" 30 || die "serve did not become ready; see $RUN_DIR/serve.log"
PORT=0 nohup "$bin" publish --rate "$PUBLISH_RATE" --invalid-ratio 0.01 --backfill-days "$PUBLISH_BACKFILL_DAYS" >"$RUN_DIR/publish.log" 2>&1 &
echo $! >"$RUN_DIR/publish.pid"
PROBE_API_URL="http://127.0.0.1:$API_PORT" PROBE_API_KEY=$(cat "$RUN_DIR/probe-api-key") start probe 0 "${PROBE_METRICS_PORT:-9466}" probe

cat <<INFO

  flightdeck is running (logs in $RUN_DIR/*.log)
    API            http://127.0.0.1:$API_PORT       (OpenAPI: /openapi.json)
    API metrics    http://127.0.0.1:$API_METRICS_PORT/metrics
    ingest health  http://127.0.0.1:$INGEST_PORT/readyz
    ingest metrics http://127.0.0.1:$INGEST_METRICS_PORT/metrics
    probe metrics  http://127.0.0.1:${PROBE_METRICS_PORT:-9466}/metrics (publish -> readable every 10 s)
    database       $DATABASE_URL
    emulator       $PUBSUB_EMULATOR_HOST ($PUBLISH_BACKFILL_DAYS days of flight history first, then $PUBLISH_RATE events/s, 1% invalid)

  A development API key (consumer "dev", default quota) is in $RUN_DIR/dev-api-key. Try:
    export FLIGHTDECK_API_KEY=\$(cat $RUN_DIR/dev-api-key)
    curl -s -H "Authorization: Bearer \$FLIGHTDECK_API_KEY" 'http://127.0.0.1:$API_PORT/v1/events?limit=3'
    curl -s -H "X-API-Key: \$FLIGHTDECK_API_KEY" 'http://127.0.0.1:$API_PORT/v1/events?origin=SCL&status=departed&limit=5'
    curl -s -H "Authorization: Bearer $DEV_KEY" "http://127.0.0.1:$API_PORT/v1/stats/delays?origin=SCL"
    curl -s -i 'http://127.0.0.1:$API_PORT/v1/events?limit=1'    # no key: 401
    curl -s http://127.0.0.1:$INGEST_METRICS_PORT/metrics | grep flightdeck_ingest_messages_total

  Ctrl-C or 'make down' stops everything.
INFO

trap 'echo; scripts/down.sh; exit 0' INT TERM
while sleep 1; do
  for name in ingest serve publish probe; do
    [[ -f "$RUN_DIR/$name.pid" ]] || { log "stopped by 'make down'"; exit 0; }
    if ! kill -0 "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null; then
      log "$name exited; last log lines:"
      tail -5 "$RUN_DIR/$name.log" >&2
      scripts/down.sh
      exit 1
    fi
  done
done
