#!/usr/bin/env bash
# Post-deploy integration test (brief part 3.1): proves a new deployment exposes what is in the
# database by sending one uniquely identified event through the real pipeline. It publishes the
# event to the real Pub/Sub topic, then polls the tagged API revision (with an identity token)
# until GET /v1/flights/{flight_id} returns it. Publish -> ingest -> Postgres -> API, end to end.
#
# Needs: API_URL (tagged revision URL), ID_TOKEN, PROJECT_ID, TOPIC; gcloud authenticated.
# Optional: CHECK_TIMEOUT_SECONDS (default 180), POLL_INTERVAL_SECONDS (default 3).
# Test events use airline code FD and a flight_id starting with "CD-" so they are easy to filter.
set -euo pipefail
: "${API_URL:?API_URL is not set: the tagged URL of the new API revision}"
: "${ID_TOKEN:?ID_TOKEN is not set: an identity token whose audience is the API service URL}"
: "${PROJECT_ID:?PROJECT_ID is not set}"
: "${TOPIC:?TOPIC is not set: the Pub/Sub topic ingest subscribes to}"
timeout_s="${CHECK_TIMEOUT_SECONDS:-180}"
interval_s="${POLL_INTERVAL_SECONDS:-3}"

body="$(mktemp)"
trap 'rm -f "$body"' EXIT

get() { # get PATH -> HTTP status; response body in $body
  curl -sS -o "$body" -w '%{http_code}' --max-time 10 \
    -H "Authorization: Bearer ${ID_TOKEN}" "${API_URL%/}$1" || true
}

for path in /healthz /readyz /openapi.json; do
  status="$(get "$path")"
  if [[ "$status" != 200 ]]; then
    echo "post-deploy-check: GET $path answered $status, expected 200" >&2
    exit 1
  fi
done

event_id="$(cat /proc/sys/kernel/random/uuid)"
flight_id="CD-${GITHUB_RUN_ID:-$(date +%s)}-${GITHUB_RUN_ATTEMPT:-1}"
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
message="$(jq -cn --arg event_id "$event_id" --arg flight_id "$flight_id" --arg now "$now" '{
  event_id: $event_id, flight_id: $flight_id, airline: "FD", flight_number: "1",
  origin: "SCL", destination: "MAD", status: "scheduled", scheduled_departure: $now,
  actual_departure: null, delay_minutes: null, event_time: $now}')"

gcloud pubsub topics publish "$TOPIC" --project "$PROJECT_ID" \
  --message "$message" --attribute schema_version=1 >&2
echo "post-deploy-check: published event $event_id for flight $flight_id; polling ${API_URL%/}/v1/flights/$flight_id" >&2

deadline=$((SECONDS + timeout_s))
while ((SECONDS < deadline)); do
  status="$(get "/v1/flights/${flight_id}")"
  if [[ "$status" == 200 ]] && grep -q "$event_id" "$body"; then
    echo "post-deploy-check: event $event_id served by the API after $((SECONDS))s" >&2
    exit 0
  fi
  sleep "$interval_s"
done
echo "post-deploy-check: event $event_id was not served within ${timeout_s}s (last status $status)" >&2
exit 1
