#!/usr/bin/env bash
# Canary check for a new API revision that already takes CANARY_PERCENT of the traffic.
# Consumers reach the canary through the public host of the edge load balancer (its share of the
# service's traffic split); this check aims at it directly through the candidate host
# (https://candidate.<domain>, which modules/edge routes to the revision tagged "candidate"), with
# the smoke-check API key, so every probe lands on the new revision whatever its share.
#   1. For CANARY_SECONDS it sends valid requests (the API's contract, tests/delivery/fixtures/
#      openapi.json) to the candidate host. A 5xx, a timeout/no answer, or a 401 (the new revision
#      refuses a valid key) counts as a failure; any other status is logged. More than
#      MAX_PROBE_FAILURES failures fail the check.
#   2. Cloud Run's request counts reach Cloud Monitoring up to ~3 minutes late, so it then polls
#      run.googleapis.com/request_count for the revision (its consumers' share and these probes)
#      until it has seen at least as many requests as it sent itself and at least MIN_REQUESTS (or
#      METRICS_WAIT_SECONDS pass: then too few samples fail the check: no data is not a pass).
#      5xx / total above MAX_5XX_RATIO fails.
#
# Needs: API_URL (https:// base URL of the candidate host), API_KEY_FILE (the smoke-check key, as
# api-key.sh wrote it), PROJECT_ID, REVISION; gcloud authenticated.
# Optional: CANARY_SECONDS (300), MAX_5XX_RATIO (0.01), MAX_PROBE_FAILURES (0), MIN_REQUESTS (100),
# METRICS_WAIT_SECONDS (300), METRICS_POLL_SECONDS (30), PROBE_INTERVAL_SECONDS (5),
# PROBE_TIMEOUT_SECONDS (10), CANARY_ORIGIN (SCL), PROBE_FLIGHT_ID (a flight the post-deploy probe
# wrote), MONITORING_API (https://monitoring.googleapis.com).
set -euo pipefail
: "${API_URL:?API_URL is not set: https://candidate.<api domain>, the edge route to the new revision}"
: "${API_KEY_FILE:?API_KEY_FILE is not set: the file .github/scripts/api-key.sh wrote the smoke-check key to}"
: "${PROJECT_ID:?PROJECT_ID is not set}"
: "${REVISION:?REVISION is not set: the Cloud Run revision under test}"
window_s="${CANARY_SECONDS:-300}"
max_ratio="${MAX_5XX_RATIO:-0.01}"
max_probe_failures="${MAX_PROBE_FAILURES:-0}"
min_requests="${MIN_REQUESTS:-100}"
metrics_wait_s="${METRICS_WAIT_SECONDS:-300}"
metrics_poll_s="${METRICS_POLL_SECONDS:-30}"
interval_s="${PROBE_INTERVAL_SECONDS:-5}"
probe_timeout_s="${PROBE_TIMEOUT_SECONDS:-10}"
origin="${CANARY_ORIGIN:-SCL}"
monitoring="${MONITORING_API:-https://monitoring.googleapis.com}"
api="${API_URL%/}"

if [[ "$api" == *.run.app || "$api" == *.run.app/* ]]; then
  echo "canary-check: $api is a run.app URL, which the API's ingress refuses from outside:" \
    "call the candidate host of the load balancer (https://candidate.<api domain>)" >&2
  exit 1
fi

header="$(mktemp)"
trap 'rm -f "$header"' EXIT
# The key goes to curl in a header file (-H @file), never on a command line.
printf 'Authorization: Bearer %s\n' "$(<"$API_KEY_FILE")" >"$header"

# Requests the real API answers with 200 (parameters as its OpenAPI document requires them).
paths=(/readyz /healthz "/v1/events?limit=20" "/v1/stats/delays?origin=${origin}")
if [[ -n "${PROBE_FLIGHT_ID:-}" ]]; then
  paths+=("/v1/flights/${PROBE_FLIGHT_ID}")
fi

start_epoch="$(date -u +%s)"
probes=0
failed=0
end_at=$((SECONDS + window_s))
while ((SECONDS < end_at)); do
  for path in "${paths[@]}"; do
    code="$(curl -sS -o /dev/null -w '%{http_code}' --max-time "$probe_timeout_s" \
      -H @"$header" "${api}${path}" 2>/dev/null || true)"
    probes=$((probes + 1))
    if [[ "$code" == 5* || "$code" == 000 || -z "$code" ]]; then
      failed=$((failed + 1))
      echo "canary-check: GET $path failed: ${code:-000}$([[ "$code" == 000 || -z "$code" ]] && echo ' (timeout or no answer)')" >&2
    elif [[ "$code" == 401 ]]; then
      failed=$((failed + 1))
      echo "canary-check: GET $path failed: 401 (the new revision refused the smoke-check key)" >&2
    elif [[ "$code" != 2* ]]; then
      echo "canary-check: GET $path answered $code (not counted: only 5xx, timeouts and a refused key are failures)" >&2
    fi
  done
  sleep "$interval_s"
done
echo "canary-check: $probes probes, $failed failed (5xx or timeout; allowed $max_probe_failures)" >&2
if ((failed > max_probe_failures)); then
  exit 1
fi

want=$((probes > min_requests ? probes : min_requests))
token="$(gcloud auth print-access-token)"
query() { # prints "total errors" for the revision since the canary started
  local now series
  now="$(date -u +%s)"
  series="$(curl -sS --fail-with-body --max-time 30 -G \
    -H "Authorization: Bearer ${token}" \
    "${monitoring%/}/v3/projects/${PROJECT_ID}/timeSeries" \
    --data-urlencode "filter=metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.labels.revision_name=\"${REVISION}\"" \
    --data-urlencode "interval.startTime=$(date -u -d "@$((start_epoch - 60))" +%Y-%m-%dT%H:%M:%SZ)" \
    --data-urlencode "interval.endTime=$(date -u -d "@${now}" +%Y-%m-%dT%H:%M:%SZ)" \
    --data-urlencode "aggregation.alignmentPeriod=$((now - start_epoch + 60))s" \
    --data-urlencode "aggregation.perSeriesAligner=ALIGN_DELTA" \
    --data-urlencode "aggregation.crossSeriesReducer=REDUCE_SUM" \
    --data-urlencode "aggregation.groupByFields=metric.labels.response_code_class")"
  jq -r '
    [(.timeSeries // [])[] | {class: .metric.labels.response_code_class,
                             n: ([.points[]?.value.int64Value | tonumber] | add // 0)}]
    | "\(map(.n) | add // 0) \(map(select(.class == "5xx") | .n) | add // 0)"' <<<"$series"
}

deadline=$((SECONDS + metrics_wait_s))
while :; do
  total=0 errors=0
  read -r total errors < <(query || echo "0 0")
  echo "canary-check: Cloud Monitoring has $total requests on $REVISION ($errors 5xx); waiting for $want" >&2
  if ((total >= want)) || ((SECONDS >= deadline)); then
    break
  fi
  sleep "$metrics_poll_s"
done
if ((total < min_requests)); then
  echo "canary-check: only $total requests in Cloud Monitoring after ${metrics_wait_s}s, need $min_requests: too few samples to judge" >&2
  exit 1
fi
echo "canary-check: $errors of $total requests were 5xx (limit ratio $max_ratio)" >&2
if awk -v e="$errors" -v t="$total" -v m="$max_ratio" 'BEGIN { exit !(e / t > m) }'; then
  echo "canary-check: 5xx ratio above $max_ratio" >&2
  exit 1
fi
echo "canary-check: passed" >&2
