#!/usr/bin/env bash
# Observability as code, checked end to end: alert and SLO rules, Alertmanager routing and
# inhibition, dashboards (the committed JSON must equal a fresh generation from dashboards/src,
# then the lint), runbook links, and the live validation (the real pipeline scraped by a real
# Prometheus with every rule loaded, every dashboard query evaluated). Runs every check, then
# fails if any failed.
#
#   scripts/test-observability.sh            # everything (about 2 minutes)
#   OBSERVABILITY_LIVE=0 scripts/...         # everything but the live validation
#
# Tools: prometheus, promtool, amtool, alertmanager (scripts/install-prometheus.sh) and a
# hash-pinned venv (scripts/requirements-observability.txt) under $FLIGHTDECK_TOOLS/observability.
# The live validation needs the debug binary (cargo build -p flightdeck), PostgreSQL and the
# Pub/Sub emulator (started by scripts/services.sh when not running).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FLIGHTDECK_ROOT"

scripts/install-prometheus.sh

venv="$FLIGHTDECK_TOOLS/observability"
install_venv "$venv" scripts/requirements-observability.txt
pytest=("$venv/bin/python" -m pytest -p no:cacheprovider)

rule_files=(alerts/rules/*.yml)
rule_tests=(alerts/tests/*_test.yml)
if [[ -f slo/_gen/rules.yml ]]; then
  rule_files+=(slo/_gen/*.yml)
  if compgen -G 'slo/tests/*.yml' >/dev/null; then
    rule_tests+=(slo/tests/*.yml)
  else
    log "notice: slo/tests/*.yml does not exist yet: the generated SLO rules are checked, not unit-tested"
  fi
else
  log "notice: slo/_gen/rules.yml does not exist yet: SLO rules and SLO panels are skipped"
fi

routes_test() {
  local receiver labels ok=0
  while read -r receiver labels; do
    [[ -z $receiver || $receiver == \#* ]] && continue
    # shellcheck disable=SC2086 # labels are separate words on purpose
    if ! amtool config routes test --config.file=alerts/alertmanager.yml --verify.receivers="$receiver" \
      $labels >/dev/null 2>&1; then
      echo "  expected receiver $receiver for: $labels" >&2
      ok=1
    fi
  done <alerts/tests/alertmanager-routes.txt
  return "$ok"
}

check "promtool check rules (${#rule_files[@]} files)" promtool check rules "${rule_files[@]}"
check "promtool test rules (${#rule_tests[@]} files)" promtool test rules "${rule_tests[@]}"
check "amtool check-config" amtool check-config alerts/alertmanager.yml
check "amtool routes (alerts/tests/alertmanager-routes.txt)" routes_test
check "dashboards generated from dashboards/src (make dashboards)" \
  "$venv/bin/python" dashboards/src/generate.py --check
check "dashboards lint, runbook links, Alertmanager inhibition" \
  "${pytest[@]}" -q -m "not live" dashboards/tests
check "alert routing and inhibition, local-to-cloud alert parity (alerts/tests)" \
  "${pytest[@]}" -q alerts/tests

if [[ ${OBSERVABILITY_LIVE:-1} == 0 ]]; then
  log "notice: OBSERVABILITY_LIVE=0: live validation skipped"
else
  binary="$CARGO_TARGET_DIR/debug/flightdeck"
  if [[ ! -x $binary ]]; then
    log "live validation: $binary is missing: run 'cargo build -p flightdeck' first"
    check_failed "live validation"
  else
    check "live validation (pipeline + Prometheus, every dashboard query)" \
      env FLIGHTDECK_BIN="$binary" "${pytest[@]}" -q -rs -m live dashboards/tests
  fi
fi

checks_done test-observability
