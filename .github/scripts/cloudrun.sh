#!/usr/bin/env bash
# Cloud Run steps of cd.yml that need more than one gcloud call. Needs REGION (and gcloud
# authenticated for the project). Subcommands:
#   serving-revision SERVICE          print the revision serving 100% now (empty on first deploy)
#   deploy-tagged SERVICE IMAGE TAG   deploy IMAGE as a revision with no traffic, reachable at TAG;
#                                     print tag=, tag_url=, service_url=, revision= (GITHUB_OUTPUT lines)
#   rollback SERVICE REVISION         send 100% of traffic back to REVISION (no-op when empty)
set -euo pipefail
: "${REGION:?REGION is not set: the GCP region of the Cloud Run services}"

describe() {
  gcloud run services describe "$1" --region "$REGION" --format=json
}

serving_revision() {
  describe "$1" | jq -r '[.status.traffic[]? | select(.percent == 100) | .revisionName][0] // empty'
}

deploy_tagged() {
  local service="$1" image="$2" tag="$3" json tag_url service_url revision
  gcloud run deploy "$service" --image "$image" --region "$REGION" --no-traffic --tag "$tag" --quiet >&2
  json="$(describe "$service")"
  service_url="$(jq -r '.status.url // empty' <<<"$json")"
  tag_url="$(jq -r --arg t "$tag" '[.status.traffic[]? | select(.tag == $t) | .url][0] // empty' <<<"$json")"
  revision="$(jq -r --arg t "$tag" '[.status.traffic[]? | select(.tag == $t) | .revisionName][0] // empty' <<<"$json")"
  if [[ -z "$service_url" || -z "$tag_url" || -z "$revision" ]]; then
    echo "cloudrun: $service has no revision tagged $tag after deploy" >&2
    return 1
  fi
  printf 'tag=%s\ntag_url=%s\nservice_url=%s\nrevision=%s\n' "$tag" "$tag_url" "$service_url" "$revision"
}

rollback() {
  local service="$1" revision="${2:-}"
  if [[ -z "$revision" ]]; then
    echo "cloudrun: $service had no serving revision before this deploy; nothing to roll back to" >&2
    return 0
  fi
  gcloud run services update-traffic "$service" --region "$REGION" --to-revisions "${revision}=100" --quiet >&2
  echo "cloudrun: $service traffic back on $revision" >&2
}

command="${1:-}"
case "$command" in
  serving-revision) serving_revision "${2:?SERVICE}" ;;
  deploy-tagged) deploy_tagged "${2:?SERVICE}" "${3:?IMAGE}" "${4:?TAG}" ;;
  rollback) rollback "${2:?SERVICE}" "${3:-}" ;;
  *) echo "usage: cloudrun.sh serving-revision|deploy-tagged|rollback ..." >&2; exit 2 ;;
esac
