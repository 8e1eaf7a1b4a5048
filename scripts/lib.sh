#!/usr/bin/env bash
# Shared helpers for flightdeck's scripts: logging, prerequisites, waiting for ports.

FLIGHTDECK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export FLIGHTDECK_ROOT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/flightdeck-target}"
# Where the pinned tools are installed: the one default, for `make` and for scripts run directly
# (every script sources this file; scripts/test-nonroot.sh sets its own per user).
export FLIGHTDECK_TOOLS="${FLIGHTDECK_TOOLS:-/var/tmp/flightdeck-tools}"
RUN_DIR="${FLIGHTDECK_RUN_DIR:-$FLIGHTDECK_ROOT/.run}"
# Tools built into the tools folder (scripts/install-nextest.sh) are found without a PATH edit.
if [[ -d $FLIGHTDECK_TOOLS/nextest/bin && :$PATH: != *":$FLIGHTDECK_TOOLS/nextest/bin:"* ]]; then
  PATH="$FLIGHTDECK_TOOLS/nextest/bin:$PATH"
fi
export RUN_DIR

log() { printf '\033[1;34m[flightdeck]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[flightdeck] error:\033[0m %s\n' "$*" >&2; exit 1; }

# Run every check, then fail: `check NAME COMMAND...` runs COMMAND and records NAME as passed or
# failed without stopping the script (one run shows every problem); `check_failed NAME` records a
# check that could not run; `checks_done SCRIPT` prints the summary and fails if any check failed.
CHECKS_PASSED=()
CHECKS_FAILED=()
check() {
  local name=$1
  shift
  log "== $name =="
  if "$@"; then
    log "ok: $name"
    CHECKS_PASSED+=("$name")
  else
    check_failed "$name"
  fi
}

check_failed() {
  printf '\033[1;31m[flightdeck] FAILED:\033[0m %s\n' "$1" >&2
  CHECKS_FAILED+=("$1")
}

checks_done() {
  local name
  for name in "${CHECKS_PASSED[@]}"; do log "  PASS  $name"; done
  for name in "${CHECKS_FAILED[@]}"; do log "  FAIL  $name"; done
  if ((${#CHECKS_FAILED[@]})); then
    printf '\033[1;31m[flightdeck] error:\033[0m %s\n' "$1: ${#CHECKS_FAILED[@]} check(s) failed: ${CHECKS_FAILED[*]}" >&2
    return 1
  fi
  log "$1: all ${#CHECKS_PASSED[@]} checks passed"
}

# need_cmd NAME HOW-TO-GET-IT
need_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed: $2"
}

# wait_http URL SECONDS: succeeds once URL answers 2xx.
wait_http() {
  local url=$1 deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# port_open HOST PORT
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# as_root COMMAND...: runs COMMAND as root: directly when we are root, through passwordless sudo
# otherwise (GitHub's runner user has it). Fails, naming the command, when neither is possible.
as_root() {
  if [[ $(id -u) == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    die "'$*' needs root and $(id -un) has no passwordless sudo: run it as root once, then re-run this step"
  fi
}

# apt_install PACKAGE...: installs Debian packages with apt-get, as root or through sudo.
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* with your package manager"
  if [[ ! -f /var/lib/apt/periodic/flightdeck-updated ]] || [[ -n $(find /var/lib/apt/periodic/flightdeck-updated -mmin +720 2>/dev/null) ]]; then
    as_root apt-get update -qq >/dev/null
    as_root mkdir -p /var/lib/apt/periodic && as_root touch /var/lib/apt/periodic/flightdeck-updated
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# install_venv DIR REQUIREMENTS: DIR becomes a venv holding the hash-pinned REQUIREMENTS; it is
# reused as is while the requirements file and the Python version are unchanged.
install_venv() {
  local venv=$1 requirements=$2 python=${PYTHON:-python3} want
  need_cmd "$python" "install Python 3.10+ or set PYTHON=/path/to/python3"
  want="$({ sha256sum "$requirements" | cut -d' ' -f1; "$python" -c 'import sys; print(sys.version)'; } |
    sha256sum | cut -d' ' -f1)"
  if [[ -x $venv/bin/python && -f $venv/.requirements.sha256 && $(cat "$venv/.requirements.sha256") == "$want" ]]; then
    return 0
  fi
  log "installing $(basename "$venv") tools into $venv"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv"
  # --require-hashes: every package, transitive ones included, must match the pinned hash.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-hashes --only-binary=:all: -r "$requirements"
  echo "$want" >"$venv/.requirements.sha256"
}
