#!/usr/bin/env bash
# The deployment's synthetic probe (docs/delivery.md): proves a new deployment serves what is
# written to the database by sending one uniquely identified, *marked* event through the real
# pipeline. It checks /healthz, /readyz and /openapi.json of the tagged revision, publishes the
# event to the real Pub/Sub topic and polls GET /v1/flights/{flight_id} (with an identity token)
# until the API returns it. Publish -> ingest -> Postgres -> API, end to end.
#
# Synthetic traffic is marked twice, so it never counts as real flight data:
#   - the Pub/Sub attribute synthetic=true;
#   - a flight id in the reserved namespace PROBE-<unix ms>-<run>, which the API leaves out of
#     /v1/events and /v1/stats/delays; /v1/flights/PROBE-... stays readable for this check.
# It prints flight_id=... (a GITHUB_OUTPUT line) so the canary can read the same flight.
#
# Needs: API_URL (tagged revision URL), ID_TOKEN, PROJECT_ID, TOPIC; gcloud authenticated.
# Optional: CHECK_TIMEOUT_SECONDS (default 180), POLL_INTERVAL_SECONDS (default 3).
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
# Flight ids are 1-64 characters of A-Z a-z 0-9 and '-'; PROBE- is the reserved synthetic namespace.
flight_id="PROBE-$(date +%s%3N)-${GITHUB_RUN_ID:-0}-${GITHUB_RUN_ATTEMPT:-1}"
flight_id="${flight_id:0:64}"
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
message="$(jq -cn --arg event_id "$event_id" --arg flight_id "$flight_id" --arg now "$now" '{
  event_id: $event_id, flight_id: $flight_id, airline: "FD", flight_number: "1",
  origin: "SCL", destination: "MAD", status: "scheduled", scheduled_departure: $now,
  actual_departure: null, delay_minutes: null, event_time: $now}')"

gcloud pubsub topics publish "$TOPIC" --project "$PROJECT_ID" \
  --message "$message" --attribute schema_version=1,synthetic=true >&2
echo "post-deploy-check: published synthetic event $event_id for flight $flight_id; polling ${API_URL%/}/v1/flights/$flight_id" >&2

deadline=$((SECONDS + timeout_s))
while ((SECONDS < deadline)); do
  status="$(get "/v1/flights/${flight_id}")"
  if [[ "$status" == 200 ]] && grep -q "$event_id" "$body"; then
    echo "post-deploy-check: event $event_id served by the API after $((SECONDS))s" >&2
    echo "flight_id=${flight_id}"
    exit 0
  fi
  sleep "$interval_s"
done
echo "post-deploy-check: event $event_id was not served within ${timeout_s}s (last status $status)" >&2
exit 1
