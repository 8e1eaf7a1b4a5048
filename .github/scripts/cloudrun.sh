#!/usr/bin/env bash
# Cloud Run steps of deploy.yml that need more than one gcloud call. Needs REGION (and gcloud
# authenticated for the project). Subcommands:
#   present SERVICE                   print true or false: does SERVICE exist (any other error fails)
#   serving-revision SERVICE          print the revision taking most traffic now (empty on first deploy)
#   deploy-tagged SERVICE IMAGE TAG   deploy IMAGE as a revision with no traffic that holds TAG (taken
#                                     from any revision that still had it); print tag=, revision=
#                                     (GITHUB_OUTPUT lines). The API's run.app URLs refuse internet
#                                     traffic: the tag is reached through the edge load balancer
#                                     (modules/edge routes candidate.<domain> to the tag "candidate")
#   deploy-latest SERVICE IMAGE       deploy IMAGE and send 100% to the latest revision (ingest, probe)
#   promote SERVICE REVISION [TAG]    hand 100% back to "latest" (so revisions Terraform creates
#                                     later take traffic too), check REVISION is what serves, and
#                                     remove TAG and every sha-* tag older deploys left
#   rollback SERVICE REVISION [TAG]   send 100% back to REVISION (no-op when empty), remove TAG
set -euo pipefail
: "${REGION:?REGION is not set: the GCP region of the Cloud Run services}"

describe() {
  gcloud run services describe "$1" --region "$REGION" --format=json
}

present() {
  local out
  if out="$(gcloud run services describe "$1" --region "$REGION" --format='value(metadata.name)' 2>&1)"; then
    echo true
  elif grep -qiE 'NOT_FOUND|could not be found|cannot find' <<<"$out"; then
    echo false
  else
    printf 'cloudrun: cannot tell whether %s exists: %s\n' "$1" "$out" >&2
    return 1
  fi
}

tagged_revision() { # tagged_revision JSON TAG -> the revision holding TAG, empty when none
  jq -r --arg t "$2" '[.status.traffic[]? | select(.tag == $t) | .revisionName][0] // empty' <<<"$1"
}

serving_revision() {
  describe "$1" | jq -r '[.status.traffic[]? | select((.percent // 0) > 0)] | max_by(.percent) | .revisionName // empty'
}

deploy_tagged() {
  local service="$1" image="$2" tag="$3" json stale revision latest
  json="$(describe "$service")"
  # A run that failed before its rollback could remove the tag leaves it on an older revision.
  stale="$(tagged_revision "$json" "$tag")"
  if [[ -n "$stale" ]]; then
    echo "cloudrun: $service: tag $tag is still on $stale; removing it before the deploy" >&2
    gcloud run services update-traffic "$service" --region "$REGION" --remove-tags "$tag" --quiet >&2
  fi
  gcloud run deploy "$service" --image "$image" --region "$REGION" --no-traffic --tag "$tag" --quiet >&2
  json="$(describe "$service")"
  revision="$(tagged_revision "$json" "$tag")"
  latest="$(jq -r '.status.latestCreatedRevisionName // empty' <<<"$json")"
  if [[ -z "$revision" || "$revision" != "$latest" ]]; then
    echo "cloudrun: $service has no new revision tagged $tag after deploy" \
      "(tagged: ${revision:-none}, latest created: ${latest:-none})" >&2
    return 1
  fi
  printf 'tag=%s\nrevision=%s\n' "$tag" "$revision"
}

deploy_latest() {
  local service="$1" image="$2"
  gcloud run deploy "$service" --image "$image" --region "$REGION" --quiet >&2
  # A service a rollback pinned to a named revision keeps that pin through a deploy: unpin it.
  gcloud run services update-traffic "$service" --region "$REGION" --to-latest --quiet >&2
}

deploy_tags() { # deploy_tags JSON TAG -> comma-separated TAG and sha-* tags (older deploys' tags)
  jq -r --arg t "$2" '[.status.traffic[]? | .tag // empty | select(. == $t or startswith("sha-"))] | unique | join(",")' <<<"$1"
}

promote() {
  local service="$1" revision="$2" tag="${3:-}" json serving tags
  gcloud run services update-traffic "$service" --region "$REGION" --to-latest --quiet >&2
  json="$(describe "$service")"
  serving="$(jq -r '[.status.traffic[]? | select(.latestRevision == true and .percent == 100) | .revisionName][0] // empty' <<<"$json")"
  if [[ "$serving" != "$revision" ]]; then
    echo "cloudrun: after --to-latest $service serves '${serving:-nothing}', not $revision (a newer revision appeared?)" >&2
    return 1
  fi
  tags="$(deploy_tags "$json" "$tag")"
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
  if [[ -n "$tag" ]] && [[ -n "$(tagged_revision "$(describe "$service")" "$tag")" ]]; then
    gcloud run services update-traffic "$service" --region "$REGION" --remove-tags "$tag" --quiet >&2
  fi
}

command="${1:-}"
case "$command" in
  present) present "${2:?SERVICE}" ;;
  serving-revision) serving_revision "${2:?SERVICE}" ;;
  deploy-tagged) deploy_tagged "${2:?SERVICE}" "${3:?IMAGE}" "${4:?TAG}" ;;
  deploy-latest) deploy_latest "${2:?SERVICE}" "${3:?IMAGE}" ;;
  promote) promote "${2:?SERVICE}" "${3:?REVISION}" "${4:-}" ;;
  rollback) rollback "${2:?SERVICE}" "${3:-}" "${4:-}" ;;
  *) echo "usage: cloudrun.sh present|serving-revision|deploy-tagged|deploy-latest|promote|rollback ..." >&2; exit 2 ;;
esac
