#!/usr/bin/env bash
# Installs Prometheus and Alertmanager from Debian (packages `prometheus` and
# `prometheus-alertmanager`) for the observability checks: `promtool` checks and unit-tests the
# rules, `amtool` checks the Alertmanager routing, `alertmanager` proves its inhibition and
# `prometheus` runs the live validation of the dashboards (scripts/test-observability.sh).
# Skipped when all of them are already on PATH, whoever runs it.
#
# Root is needed only to install: as root it runs apt-get, as any other user `sudo -n apt-get`
# (GitHub's runner user has passwordless sudo). A user with neither gets a message saying what
# to install; `make test-nonroot` proves the checks themselves need no root once the tools exist.
#
# Only the binaries are wanted: the packages' services are not started (a temporary
# policy-rc.d denies it when the machine has none), so no daemon is left listening on :9090.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

have_all() {
  command -v promtool >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1 &&
    command -v prometheus >/dev/null 2>&1 &&
    { command -v alertmanager >/dev/null 2>&1 || command -v prometheus-alertmanager >/dev/null 2>&1; }
}

if have_all; then
  log "prometheus tools present: $(promtool --version 2>&1 | head -n1) (user $(id -un))"
  exit 0
fi

missing="promtool, amtool, prometheus or alertmanager is missing"
command -v apt-get >/dev/null 2>&1 ||
  die "$missing and apt-get is not available: install Prometheus 2.40+ and Alertmanager 0.25+ (https://prometheus.io/download/) and put them on PATH"
if [[ $(id -u) != 0 ]] && ! { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; then
  die "$missing and $(id -un) is neither root nor has passwordless sudo: run 'sudo apt-get install prometheus prometheus-alertmanager' (or this script as root) once"
fi

policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\n# flightdeck install-prometheus.sh: do not start services during this install.\nexit 101\n' |
    as_root tee "$policy" >/dev/null
  as_root chmod 0755 "$policy"
  trap 'as_root rm -f "$policy"' EXIT
fi

log "installing prometheus and prometheus-alertmanager (Debian packages, as $(id -un)$([[ $(id -u) == 0 ]] || echo ' through sudo'))"
# A fresh machine has no package lists yet: update first (apt_install does when they are stale).
if ! apt-cache show prometheus >/dev/null 2>&1; then
  as_root apt-get update -qq >/dev/null
fi
apt_install prometheus prometheus-alertmanager

have_all || die "prometheus packages installed but promtool/amtool/prometheus/alertmanager are not on PATH"
log "installed: $(promtool --version 2>&1 | head -n1)"
