#!/usr/bin/env bash
# Ensures PostgreSQL and the Pub/Sub emulator are running; prints the env to use them.
# Usage: eval "$(scripts/services.sh)"
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mkdir -p "$RUN_DIR"

PGHOST_ADDR="${PGHOST_ADDR:-127.0.0.1}"
PGPORT_NUM="${PGPORT_NUM:-5432}"
EMULATOR_PORT="${EMULATOR_PORT:-8085}"

ensure_postgres() {
  if pg_isready -q -h "$PGHOST_ADDR" -p "$PGPORT_NUM" 2>/dev/null; then return; fi
  need_cmd pg_isready "install PostgreSQL 15+ (Debian: apt-get install postgresql)"
  if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql/*/main >/dev/null 2>&1; then
    local version
    version=$(ls /etc/postgresql | sort -V | tail -1)
    log "PostgreSQL is not answering: starting cluster $version/main"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  fi
  for _ in $(seq 1 60); do
    pg_isready -q -h "$PGHOST_ADDR" -p "$PGPORT_NUM" && return
    sleep 0.5
  done
  die "PostgreSQL is not reachable on $PGHOST_ADDR:$PGPORT_NUM: start it, or set DATABASE_URL to a reachable server"
}

emulator_bin() {
  local sdk
  if command -v gcloud >/dev/null 2>&1; then
    sdk=$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null || true)
  fi
  for candidate in "${sdk:-}/platform/pubsub-emulator/bin/cloud-pubsub-emulator" \
    /usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator \
    /usr/share/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator; do
    [[ -x $candidate ]] && { echo "$candidate"; return; }
  done
  die "the Pub/Sub emulator is not installed: 'gcloud components install pubsub-emulator' (or apt-get install google-cloud-cli-pubsub-emulator), plus Java 11+"
}

ensure_emulator() {
  if curl -fsS "http://127.0.0.1:$EMULATOR_PORT/" >/dev/null 2>&1; then return; fi
  need_cmd java "install a Java 11+ runtime (Debian: apt-get install default-jre-headless)"
  local bin
  bin=$(emulator_bin)
  log "starting the Pub/Sub emulator on 127.0.0.1:$EMULATOR_PORT (log: $RUN_DIR/emulator-$EMULATOR_PORT.log)"
  nohup "$bin" --host=127.0.0.1 --port="$EMULATOR_PORT" >"$RUN_DIR/emulator-$EMULATOR_PORT.log" 2>&1 &
  echo $! >"$RUN_DIR/emulator-$EMULATOR_PORT.pid"
  wait_http "http://127.0.0.1:$EMULATOR_PORT/" 60 || die "the emulator did not start; see $RUN_DIR/emulator-$EMULATOR_PORT.log"
}

ensure_postgres
if [[ -z ${PUBSUB_EMULATOR_HOST:-} ]]; then
  ensure_emulator
  PUBSUB_EMULATOR_HOST="127.0.0.1:$EMULATOR_PORT"
fi
echo "export PUBSUB_EMULATOR_HOST=$PUBSUB_EMULATOR_HOST"
echo "export TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@$PGHOST_ADDR:$PGPORT_NUM/postgres}"
