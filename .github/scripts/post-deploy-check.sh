#!/usr/bin/env bash
# The deployment's synthetic probe (docs/delivery.md): proves a new deployment serves what is
# written to the database by sending one uniquely identified, *marked* event through the real
# pipeline, and proves the new revision still refuses callers without an API key.
#
# It calls the new revision the way a consumer calls the API: through the edge load balancer and
# Cloud Armor (API_URL is https://candidate.<domain>, which modules/edge routes to the revision
# tagged "candidate"), with `Authorization: Bearer <key>`. The API's run.app URLs refuse internet
# traffic (ingress: internal + load balancer), so a run.app API_URL is refused here too.
#   1. /healthz, /readyz and /openapi.json answer 200;
#   2. GET /v1/events without a key answers 401 (auth is on in the new revision), with the key 200;
#   3. one marked event is published to the real Pub/Sub topic and GET /v1/flights/{flight_id} is
#      polled until the API returns it. Publish -> ingest -> Postgres -> API, end to end.
#
# Synthetic traffic is marked twice, so it never counts as real flight data:
#   - the Pub/Sub attribute synthetic=true;
#   - a flight id in the reserved namespace PROBE-<unix ms>-<run>, which the API leaves out of
#     /v1/events and /v1/stats/delays; /v1/flights/PROBE-... stays readable for this check.
# It prints flight_id=... (a GITHUB_OUTPUT line) so the canary can read the same flight.
#
# Needs: API_URL (https:// base URL of the candidate host), API_KEY_FILE (a file holding the API
# key, written by api-key.sh), PROJECT_ID, TOPIC; gcloud authenticated.
# Optional: CHECK_TIMEOUT_SECONDS (default 180), POLL_INTERVAL_SECONDS (default 3).
set -euo pipefail
: "${API_URL:?API_URL is not set: https://candidate.<api domain>, the edge route to the new revision}"
: "${API_KEY_FILE:?API_KEY_FILE is not set: the file .github/scripts/api-key.sh wrote the smoke-check key to}"
: "${PROJECT_ID:?PROJECT_ID is not set}"
: "${TOPIC:?TOPIC is not set: the Pub/Sub topic ingest subscribes to}"
timeout_s="${CHECK_TIMEOUT_SECONDS:-180}"
interval_s="${POLL_INTERVAL_SECONDS:-3}"
api="${API_URL%/}"

if [[ "$api" == *.run.app || "$api" == *.run.app/* ]]; then
  echo "post-deploy-check: $api is a run.app URL, which the API's ingress refuses from outside:" \
    "call the candidate host of the load balancer (https://candidate.<api domain>)" >&2
  exit 1
fi

body="$(mktemp)"
header="$(mktemp)"
trap 'rm -f "$body" "$header"' EXIT
# The key goes to curl in a header file (-H @file), never on a command line.
printf 'Authorization: Bearer %s\n' "$(<"$API_KEY_FILE")" >"$header"

get() { # get PATH -> HTTP status with the API key; response body in $body
  curl -sS -o "$body" -w '%{http_code}' --max-time 10 -H @"$header" "${api}$1" || true
}

get_without_key() { # get_without_key PATH -> HTTP status of a request that carries no key at all
  curl -sS -o "$body" -w '%{http_code}' --max-time 10 "${api}$1" || true
}

for path in /healthz /readyz /openapi.json; do
  status="$(get "$path")"
  if [[ "$status" != 200 ]]; then
    echo "post-deploy-check: GET $path answered $status, expected 200 (${api})" >&2
    if [[ "$status" == 000 ]]; then
      echo "post-deploy-check: no answer: does the A record of ${api#https://} point at the load balancer" \
        "and is its managed certificate ACTIVE (terraform/README.md, Apply an environment)?" >&2
    fi
    exit 1
  fi
done

status="$(get_without_key "/v1/events?limit=1")"
if [[ "$status" != 401 ]]; then
  echo "post-deploy-check: GET /v1/events without an API key answered $status, expected 401:" \
    "the new revision must refuse callers without a key" >&2
  exit 1
fi
status="$(get "/v1/events?limit=1")"
if [[ "$status" != 200 ]]; then
  echo "post-deploy-check: GET /v1/events with the smoke-check key answered $status, expected 200" >&2
  if [[ "$status" == 401 ]]; then
    echo "post-deploy-check: the key was refused: was it revoked? Create a new one (terraform/README.md," \
      "\"The deploy smoke check's API key\")" >&2
  fi
  exit 1
fi
echo "post-deploy-check: ${api}: open paths answer, a request without a key gets 401, the key is accepted" >&2

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
echo "post-deploy-check: published synthetic event $event_id for flight $flight_id; polling ${api}/v1/flights/$flight_id" >&2

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
