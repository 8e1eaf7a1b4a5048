#!/usr/bin/env bash
# `make down`: stops every process `make up` started (publisher first, emulator last).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
shopt -s nullglob
for name in probe publish ingest serve $(cd "$RUN_DIR" 2>/dev/null && for f in emulator-*.pid; do echo "${f%.pid}"; done); do
  pidfile="$RUN_DIR/$name.pid"
  [[ -f $pidfile ]] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $name ($pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
done
# The emulator's launcher forks a JVM; stop the ones started from this checkout.
pkill -f "pubsub-emulator.*--port=" 2>/dev/null || true
