#!/usr/bin/env bash
# Generates the Grafana dashboards (dashboards/*.json) from their source in dashboards/src
# (grafana-foundation-sdk, the SLO specs and the generated SLO rules).
#
#   scripts/dashboards.sh            # make dashboards: write dashboards/*.json
#   scripts/dashboards.sh --check    # fail when the committed JSON differs from a fresh generation
#
# Runs in the hash-pinned observability venv (scripts/requirements-observability.txt).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FLIGHTDECK_ROOT"

venv="$FLIGHTDECK_TOOLS/observability"
install_venv "$venv" scripts/requirements-observability.txt
exec "$venv/bin/python" dashboards/src/generate.py "$@"
