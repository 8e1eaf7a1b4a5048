#!/usr/bin/env bash
# The live API against its own OpenAPI document (/openapi.json): schemathesis generates requests
# from every declared parameter schema, valid and deliberately invalid, and checks each response:
# no 5xx, documented status codes, content types, headers and bodies, and invalid input refused.
# Fails unless at least API_CONTRACT_MIN_CASES cases ran.
#
#   scripts/test-api-contract.sh        # debug binary, private pipeline with 2,000 events
#
# Tools: schemathesis in a hash-pinned venv (scripts/requirements-api-contract.txt).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FLIGHTDECK_ROOT"

MIN_CASES="${API_CONTRACT_MIN_CASES:-1000}"
venv="$FLIGHTDECK_TOOLS/api-contract"
install_venv "$venv" scripts/requirements-api-contract.txt

FLIGHTDECK_BIN="${FLIGHTDECK_BIN:-$CARGO_TARGET_DIR/debug/flightdeck}"
[[ -x $FLIGHTDECK_BIN ]] || die "$FLIGHTDECK_BIN is missing: run 'cargo build -p flightdeck' first"
source scripts/pipeline.sh
pipeline_start
seed_events 2000

report_dir="$RUN_DIR/api-contract"
rm -rf "$report_dir" && mkdir -p "$report_dir"
log "schemathesis against $API_URL/openapi.json (at least $MIN_CASES cases)"
status=0
# Run from the report folder: schemathesis keeps its example database in the working directory.
(cd "$report_dir" && "$venv/bin/schemathesis" run "$API_URL/openapi.json" \
  --header "Authorization: Bearer $API_KEY" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection \
  --phases examples,coverage,fuzzing \
  --max-examples 400 \
  --workers 2 \
  --request-timeout 10 \
  --seed 20261201 \
  --report junit --report-dir . \
  --no-color) | tee "$report_dir/output.txt" || status=$?
((status == 0)) || die "schemathesis found responses that break the contract (report: $report_dir)"
cases=$(sed -nE 's/^ *([0-9]+) generated.*/\1/p' "$report_dir/output.txt" | tail -1)
[[ -n $cases ]] || die "schemathesis printed no test case count (see $report_dir/output.txt)"
((cases >= MIN_CASES)) || die "schemathesis ran $cases cases, fewer than the $MIN_CASES required"
log "API contract: $cases generated cases, no server error, every response as documented"
