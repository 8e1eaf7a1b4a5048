#!/usr/bin/env bash
# Canary check for a new API revision that already takes CANARY_PERCENT of traffic. For
# CANARY_SECONDS it probes the revision's tagged URL (every probe must answer 2xx, which also
# guarantees the revision has samples at low traffic); then it reads the revision's Cloud Run
# request counts from Cloud Monitoring and fails when 5xx / total exceeds MAX_5XX_RATIO.
#
# Needs: API_URL (tagged revision URL), ID_TOKEN, PROJECT_ID, REVISION; gcloud authenticated.
# Optional: CANARY_SECONDS (300), MAX_5XX_RATIO (0.01), PROBE_INTERVAL_SECONDS (5),
# MONITORING_API (https://monitoring.googleapis.com).
set -euo pipefail
: "${API_URL:?API_URL is not set: the tagged URL of the new API revision}"
: "${ID_TOKEN:?ID_TOKEN is not set}"
: "${PROJECT_ID:?PROJECT_ID is not set}"
: "${REVISION:?REVISION is not set: the Cloud Run revision under test}"
window_s="${CANARY_SECONDS:-300}"
max_ratio="${MAX_5XX_RATIO:-0.01}"
interval_s="${PROBE_INTERVAL_SECONDS:-5}"
monitoring="${MONITORING_API:-https://monitoring.googleapis.com}"

start="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
probes=0
failed=0
end_at=$((SECONDS + window_s))
while ((SECONDS < end_at)); do
  for path in /v1/events /v1/stats/delays /readyz; do
    code="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 \
      -H "Authorization: Bearer ${ID_TOKEN}" "${API_URL%/}${path}" || true)"
    probes=$((probes + 1))
    if [[ "$code" != 2* ]]; then
      failed=$((failed + 1))
      echo "canary-check: GET $path answered $code" >&2
    fi
  done
  sleep "$interval_s"
done
echo "canary-check: $probes probes, $failed failed" >&2
if ((failed > 0)); then
  exit 1
fi

end="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
token="$(gcloud auth print-access-token)"
series="$(curl -sS --fail-with-body --max-time 30 -G \
  -H "Authorization: Bearer ${token}" \
  "${monitoring%/}/v3/projects/${PROJECT_ID}/timeSeries" \
  --data-urlencode "filter=metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.labels.revision_name=\"${REVISION}\"" \
  --data-urlencode "interval.startTime=${start}" \
  --data-urlencode "interval.endTime=${end}" \
  --data-urlencode "aggregation.alignmentPeriod=$((window_s + 60))s" \
  --data-urlencode "aggregation.perSeriesAligner=ALIGN_DELTA" \
  --data-urlencode "aggregation.crossSeriesReducer=REDUCE_SUM" \
  --data-urlencode "aggregation.groupByFields=metric.labels.response_code_class")"

read -r total errors < <(jq -r '
  [(.timeSeries // [])[] | {class: .metric.labels.response_code_class,
                           n: ([.points[]?.value.int64Value | tonumber] | add // 0)}]
  | "\(map(.n) | add // 0) \(map(select(.class == "5xx") | .n) | add // 0)"' <<<"$series")
echo "canary-check: Cloud Monitoring saw $total requests on $REVISION, $errors of them 5xx (limit ratio $max_ratio)" >&2
if awk -v e="$errors" -v t="$total" -v m="$max_ratio" 'BEGIN { exit !(t > 0 && e / t > m) }'; then
  echo "canary-check: 5xx ratio above $max_ratio" >&2
  exit 1
fi
