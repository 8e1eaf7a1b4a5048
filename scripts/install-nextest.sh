#!/usr/bin/env bash
# Installs cargo-nextest (the runner of `make test-rust` and `make test-containers`) when it is not
# on PATH: built from crates.io with --locked into $FLIGHTDECK_TOOLS/nextest (scripts/lib.sh puts
# its bin/ on PATH), once; later runs reuse it. GitHub Actions installs the same version as a
# prebuilt, checksum-verified binary instead (taiki-e/install-action in ci.yml), so the
# version here and there is one constant, checked by tests/delivery/test_ci_contract.py.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NEXTEST_VERSION=0.9.143

if command -v cargo-nextest >/dev/null 2>&1; then
  log "cargo-nextest present: $(cargo-nextest nextest --version 2>/dev/null | head -n1)"
  exit 0
fi
need_cmd cargo "install Rust (rustup) to build cargo-nextest"
root="$FLIGHTDECK_TOOLS/nextest"
build_dir="$(mktemp -d "${TMPDIR:-/tmp}/nextest-build.XXXXXX")"
trap 'rm -rf "$build_dir"' EXIT
log "building cargo-nextest $NEXTEST_VERSION into $root (a few minutes, once)"
# Its own target dir, so the app's CARGO_TARGET_DIR is neither used nor invalidated; nice, so a
# concurrent build keeps the cores it needs.
CARGO_TARGET_DIR="$build_dir" nice -n 10 cargo install --locked --quiet \
  --root "$root" "cargo-nextest@${NEXTEST_VERSION}"
"$root/bin/cargo-nextest" nextest --version >/dev/null || die "cargo-nextest at $root/bin does not run"
log "installed: $("$root/bin/cargo-nextest" nextest --version | head -n1)"
