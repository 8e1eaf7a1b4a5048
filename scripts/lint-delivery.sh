#!/usr/bin/env bash
# `make lint-delivery`: offline checks of everything delivery owns, each tool at a pinned version
# (scripts/install-delivery-tools.sh). Runs every check, then fails if any failed.
#   actionlint, zizmor --offline (no finding at medium or above), checkov (dockerfile,
#   github_actions, secrets), hadolint, yamllint, shellcheck on every shell script,
#   cargo-deny (licenses, bans, sources), cargo-machete (unused dependencies) and the pytest
#   suite in tests/delivery.
# cargo-deny's advisories check needs the RustSec database online: GitHub Actions runs it (ci.yml).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FLIGHTDECK_ROOT"
tools_dir="$FLIGHTDECK_TOOLS"

scripts/install-delivery-tools.sh

# The delivery venv first on PATH: actionlint runs the pinned shellcheck on `run:` blocks.
export PATH="$tools_dir/delivery/bin:$tools_dir/delivery-cargo/bin:$PATH"
checkov="$tools_dir/delivery-checkov/bin/checkov"
# checkov: no calls home for guideline links, no policy downloads.
export BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false

# Files git tracks or would track (new, not ignored): what a commit can contain.
mapfile -t repo_files < <(git ls-files --cached --others --exclude-standard | sort -u)
shell_scripts=()
for file in "${repo_files[@]}"; do
  [[ -f "$file" ]] || continue
  if [[ "$file" == *.sh ]] || head -n1 "$file" 2>/dev/null | grep -Eq '^#!.*\b(ba)?sh\b'; then
    shell_scripts+=("$file")
  fi
done
# Secret scan of the working tree. Left out: lock files (hashes look like secrets) and test code,
# whose connection strings name throwaway local services; gitleaks in CI scans all history, tests too.
secret_scan_args=()
for file in "${repo_files[@]}"; do
  case "$file" in
    Cargo.lock | scripts/requirements-*.txt | tests/* | */tests/*) continue ;;
  esac
  [[ -f "$file" ]] && secret_scan_args+=(-f "$file")
done

check actionlint actionlint
check "zizmor (offline, medium+)" zizmor --offline --min-severity=medium --no-progress .github
check "checkov dockerfile" "$checkov" --quiet --compact --skip-download --framework dockerfile -f Dockerfile
check "checkov github_actions" "$checkov" --quiet --compact --skip-download --framework github_actions -d .github
check "checkov secrets" "$checkov" --quiet --compact --skip-download --framework secrets "${secret_scan_args[@]}"
check hadolint hadolint Dockerfile
check yamllint yamllint --strict -c .yamllint.yml .github docker-compose.yml deploy/compose .yamllint.yml
# Warnings and errors fail; info/style notes are printed but do not (the scripts of every part are
# held to the same bar).
check "shellcheck (${#shell_scripts[@]} scripts)" \
  shellcheck --external-sources --source-path=SCRIPTDIR --severity=warning "${shell_scripts[@]}"
if [[ ${FLIGHTDECK_SKIP_CARGO_DENY:-0} == 1 ]]; then
  log "== cargo-deny licenses bans sources, cargo-machete =="
  log "SKIPPED (FLIGHTDECK_SKIP_CARGO_DENY=1: the unprivileged run of scripts/test-nonroot.sh has no Rust toolchain)"
else
  check "cargo-deny licenses bans sources" cargo-deny --locked check --hide-inclusion-graph licenses bans sources
  # Exit 1 names each dependency no source file uses.
  check "cargo-machete (unused dependencies)" cargo-machete
fi
check "pytest tests/delivery" python -m pytest -q -p no:cacheprovider tests/delivery
checks_done lint-delivery
