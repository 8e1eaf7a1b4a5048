#!/usr/bin/env bash
# Cloud Run steps of deploy.yml that need more than one gcloud call. Needs REGION (and gcloud
# authenticated for the project). Subcommands:
#   serving-revision SERVICE          print the revision taking most traffic now (empty on first deploy)
#   deploy-tagged SERVICE IMAGE TAG   deploy IMAGE as a revision with no traffic, reachable at TAG;
#                                     print tag=, tag_url=, service_url=, revision= (GITHUB_OUTPUT lines)
#   deploy-latest SERVICE IMAGE       deploy IMAGE and send 100% to the latest revision (ingest)
#   promote SERVICE REVISION          hand 100% back to "latest" (so revisions Terraform creates
#                                     later take traffic too), check REVISION is what serves, and
#                                     remove every deploy tag (sha-*) with the URL it kept alive
#   rollback SERVICE REVISION [TAG]   send 100% back to REVISION (no-op when empty), remove TAG
set -euo pipefail
: "${REGION:?REGION is not set: the GCP region of the Cloud Run services}"

describe() {
  gcloud run services describe "$1" --region "$REGION" --format=json
}

serving_revision() {
  describe "$1" | jq -r '[.status.traffic[]? | select((.percent // 0) > 0)] | max_by(.percent) | .revisionName // empty'
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

deploy_latest() {
  local service="$1" image="$2"
  gcloud run deploy "$service" --image "$image" --region "$REGION" --quiet >&2
  # A service a rollback pinned to a named revision keeps that pin through a deploy: unpin it.
  gcloud run services update-traffic "$service" --region "$REGION" --to-latest --quiet >&2
}

deploy_tags() { # deploy_tags JSON -> comma-separated sha-* tags
  jq -r '[.status.traffic[]? | .tag // empty | select(startswith("sha-"))] | unique | join(",")' <<<"$1"
}

promote() {
  local service="$1" revision="$2" json serving tags
  gcloud run services update-traffic "$service" --region "$REGION" --to-latest --quiet >&2
  json="$(describe "$service")"
  serving="$(jq -r '[.status.traffic[]? | select(.latestRevision == true and .percent == 100) | .revisionName][0] // empty' <<<"$json")"
  if [[ "$serving" != "$revision" ]]; then
    echo "cloudrun: after --to-latest $service serves '${serving:-nothing}', not $revision (a newer revision appeared?)" >&2
    return 1
  fi
  tags="$(deploy_tags "$json")"
  if [[ -n "$tags" ]]; then
    gcloud run services update-traffic "$service" --region "$REGION" --remove-tags "$tags" --quiet >&2
  fi
  echo "cloudrun: $service serves $revision as latest; removed tags: ${tags:-none}" >&2
}

rollback() {
  local service="$1" revision="${2:-}" tag="${3:-}"
  if [[ -z "$revision" ]]; then
    echo "cloudrun: $service had no serving revision before this deploy; nothing to roll back to" >&2
  else
    gcloud run services update-traffic "$service" --region "$REGION" --to-revisions "${revision}=100" --quiet >&2
    echo "cloudrun: $service traffic back on $revision (pinned until the next successful deploy)" >&2
  fi
  if [[ -n "$tag" ]]; then
    gcloud run services update-traffic "$service" --region "$REGION" --remove-tags "$tag" --quiet >&2
  fi
}

command="${1:-}"
case "$command" in
  serving-revision) serving_revision "${2:?SERVICE}" ;;
  deploy-tagged) deploy_tagged "${2:?SERVICE}" "${3:?IMAGE}" "${4:?TAG}" ;;
  deploy-latest) deploy_latest "${2:?SERVICE}" "${3:?IMAGE}" ;;
  promote) promote "${2:?SERVICE}" "${3:?REVISION}" ;;
  rollback) rollback "${2:?SERVICE}" "${3:-}" "${4:-}" ;;
  *) echo "usage: cloudrun.sh serving-revision|deploy-tagged|deploy-latest|promote|rollback ..." >&2; exit 2 ;;
esac
