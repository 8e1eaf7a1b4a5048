#!/usr/bin/env bash
# The fleet run (docs/observability.md 4.4): 50 flightdeck systems (FLIGHTDECK_SYSTEM=fleet-NN, each
# with its own ingest, serve, publisher and Pub/Sub topic, low rates) against one database, scraped
# by one Prometheus with every rule file loaded. Measures series per system, rule evaluation time
# and the fleet dashboard's query times, and writes them into docs/observability.md between the
# fleet-run markers. An operator target (`make fleet`, about 6 minutes), not part of `make test`.
#
#   scripts/fleet.sh                       # 50 systems, 3 minutes of traffic before measuring
#   FLEET_SYSTEMS=5 FLEET_WARM_UP=60 scripts/fleet.sh --no-docs    # a quick try, docs untouched
#
# Runs on its own PostgreSQL cluster (about 200 connections: more than a default server allows)
# and its own Pub/Sub emulator, both in $FLEET_DIR and stopped at the end, so it neither starves
# nor floods the services other runs share. Needs the debug binary (cargo build -p flightdeck),
# PostgreSQL server binaries (initdb, pg_ctl), Java for the emulator, and prometheus
# (scripts/install-prometheus.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FLIGHTDECK_ROOT"

binary="${FLIGHTDECK_BIN:-$CARGO_TARGET_DIR/debug/flightdeck}"
[[ -x $binary ]] || die "$binary is missing: run 'cargo build -p flightdeck' first"
scripts/install-prometheus.sh
venv="$FLIGHTDECK_TOOLS/observability"
install_venv "$venv" scripts/requirements-observability.txt

FLEET_DIR="${FLEET_DIR:-/var/tmp/flightdeck-fleet}"
rm -rf "$FLEET_DIR"
mkdir -p "$FLEET_DIR"

# PostgreSQL binaries are not on PATH in Debian's packages.
pg_bin=$(dirname "$(command -v initdb || echo /nonexistent/initdb)")
for candidate in /usr/lib/postgresql/*/bin; do
  [[ -x $candidate/initdb ]] && pg_bin=$candidate
done
[[ -x $pg_bin/initdb ]] || die "initdb not found: install the PostgreSQL server (Debian: apt-get install postgresql)"

free_port() { "$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pg_port=$(free_port)
emulator_port=$(free_port)
pgdata="$FLEET_DIR/pgdata"

# The server refuses to run as root: as root, the cluster belongs to the postgres user.
as_pg() {
  if [[ $(id -u) == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
mkdir -p "$pgdata"
[[ $(id -u) == 0 ]] && chown postgres "$pgdata" "$FLEET_DIR"

cleanup() {
  local rc=$?
  local pid_file=$FLEET_DIR/run/emulator-$emulator_port.pid
  if [[ -f $pid_file ]]; then
    # The emulator's launcher script runs java as its child: stop both.
    pkill -TERM -P "$(cat "$pid_file")" 2>/dev/null || true
    kill "$(cat "$pid_file")" 2>/dev/null || true
  fi
  as_pg "$pg_bin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1 || true
  exit "$rc"
}
trap cleanup EXIT

log "fleet: PostgreSQL cluster on 127.0.0.1:$pg_port ($pgdata)"
as_pg "$pg_bin/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 >"$FLEET_DIR/initdb.log"
# Throwaway data: durability off; enough connections for 100 pools of DB_POOL_MAX=2.
as_pg "$pg_bin/pg_ctl" -D "$pgdata" -l "$FLEET_DIR/postgres.log" -w start \
  -o "-h 127.0.0.1 -p $pg_port -k $FLEET_DIR -c max_connections=400 -c shared_buffers=256MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null

log "fleet: Pub/Sub emulator on 127.0.0.1:$emulator_port"
services=$(env -u PUBSUB_EMULATOR_HOST -u TEST_DATABASE_URL FLIGHTDECK_RUN_DIR="$FLEET_DIR/run" \
  PGPORT_NUM="$pg_port" EMULATOR_PORT="$emulator_port" scripts/services.sh)
eval "$services"

FLEET_DIR="$FLEET_DIR" FLIGHTDECK_BIN="$binary" TEST_DATABASE_URL="$TEST_DATABASE_URL" \
  PUBSUB_EMULATOR_HOST="$PUBSUB_EMULATOR_HOST" "$venv/bin/python" scripts/fleet.py "$@"
