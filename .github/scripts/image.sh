#!/usr/bin/env bash
# The image steps of cd.yml and deploy.yml: one image per source tree, built once, promoted by
# digest. The key is the git *tree* id, not the commit: a merge commit on master, or a release tag,
# whose files are exactly what ran in staging maps to the same image. Needs gcloud authenticated
# (Artifact Registry) and, for sign/attest/verify/copy, cosign. Subcommands:
#   digest IMAGE:TAG                print the digest IMAGE:TAG points at (nothing when it does not exist)
#   sign IMAGE@DIGEST               cosign keyless signature, unless a valid one exists (re-runs)
#   attest IMAGE@DIGEST SBOM        CycloneDX attestation, unless a valid one exists
#   verify IMAGE@DIGEST             cosign verify + verify-attestation against SIGNER_IDENTITY_REGEXP
#   mark-staged REPO DIGEST TREE    tag REPO/flightdeck@DIGEST as staged-TREE (it passed staging)
#   promote SOURCE_REPO REPO TREE   print the digest of SOURCE_REPO/flightdeck:staged-TREE after
#                                   copying it (signatures and attestations too) to REPO as tree-TREE
set -euo pipefail

issuer="https://token.actions.githubusercontent.com"

digest_of() { # digest_of IMAGE:TAG -> digest, empty when the tag does not exist
  local out
  if out="$(gcloud artifacts docker images describe "$1" --format='value(image_summary.digest)' 2>&1)"; then
    printf '%s\n' "$out"
  elif grep -qiE 'NOT_FOUND|not found' <<<"$out"; then
    return 0
  else
    printf 'image: cannot read %s: %s\n' "$1" "$out" >&2
    return 1
  fi
}

# Who may have signed an image we deploy: cd.yml of this repository on develop or a hotfix branch
# (the build job), as GitHub's OIDC issuer vouches in the Fulcio certificate. GitHub Actions sets
# GITHUB_SERVER_URL and GITHUB_REPOSITORY; SIGNER_IDENTITY_REGEXP overrides the whole expression.
need_identity() {
  if [[ -z "${SIGNER_IDENTITY_REGEXP:-}" ]]; then
    : "${GITHUB_SERVER_URL:?GITHUB_SERVER_URL is not set (or set SIGNER_IDENTITY_REGEXP)}"
    : "${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set (or set SIGNER_IDENTITY_REGEXP)}"
    SIGNER_IDENTITY_REGEXP="^${GITHUB_SERVER_URL//./\\.}/${GITHUB_REPOSITORY//./\\.}/\\.github/workflows/cd\\.yml@refs/heads/(develop|hotfix/.+)\$"
  fi
}

verified() { # verified IMAGE@DIGEST -> 0 when a signature of the expected identity exists
  need_identity
  cosign verify --certificate-oidc-issuer "$issuer" \
    --certificate-identity-regexp "$SIGNER_IDENTITY_REGEXP" "$1" >/dev/null 2>&1
}

attested() {
  need_identity
  cosign verify-attestation --type cyclonedx --certificate-oidc-issuer "$issuer" \
    --certificate-identity-regexp "$SIGNER_IDENTITY_REGEXP" "$1" >/dev/null 2>&1
}

by_digest() {
  [[ "$1" =~ ^[^@]+@sha256:[0-9a-f]{64}$ ]] || { echo "image: '$1' is not an IMAGE@sha256:<64 hex> reference" >&2; exit 2; }
}

command="${1:-}"
case "$command" in
  digest)
    digest_of "${2:?IMAGE:TAG}"
    ;;
  sign)
    by_digest "${2:?IMAGE@DIGEST}"
    if verified "$2"; then
      echo "image: $2 is already signed by this workflow; not signing again" >&2
    else
      cosign sign --yes "$2"
    fi
    ;;
  attest)
    by_digest "${2:?IMAGE@DIGEST}"
    if attested "$2"; then
      echo "image: $2 already carries its SBOM attestation" >&2
    else
      cosign attest --yes --type cyclonedx --predicate "${3:?SBOM file}" "$2"
    fi
    ;;
  verify)
    by_digest "${2:?IMAGE@DIGEST}"
    need_identity
    cosign verify --certificate-oidc-issuer "$issuer" \
      --certificate-identity-regexp "$SIGNER_IDENTITY_REGEXP" "$2" >/dev/null
    cosign verify-attestation --type cyclonedx --certificate-oidc-issuer "$issuer" \
      --certificate-identity-regexp "$SIGNER_IDENTITY_REGEXP" "$2" >/dev/null
    echo "image: $2 is signed and attested by $SIGNER_IDENTITY_REGEXP" >&2
    ;;
  mark-staged)
    repo="${2:?REPO}" digest="${3:?DIGEST}" tree="${4:?TREE}"
    current="$(digest_of "$repo/flightdeck:staged-$tree")"
    if [[ -z "$current" ]]; then
      gcloud artifacts docker tags add "$repo/flightdeck@$digest" "$repo/flightdeck:staged-$tree" --quiet >&2
      echo "image: $repo/flightdeck@$digest passed staging as staged-$tree" >&2
    elif [[ "$current" != "$digest" ]]; then
      echo "image: staged-$tree already names $current, not $digest" >&2
      exit 1
    fi
    ;;
  promote)
    source_repo="${2:?SOURCE_REPO}" repo="${3:?REPO}" tree="${4:?TREE}"
    digest="$(digest_of "$source_repo/flightdeck:staged-$tree")"
    if [[ -z "$digest" ]]; then
      echo "image: tree $tree never passed staging ($source_repo/flightdeck:staged-$tree does not exist):" \
        "deploy exactly these files to staging first (develop or a hotfix/* branch)" >&2
      exit 1
    fi
    present="$(digest_of "$repo/flightdeck:tree-$tree")"
    if [[ -z "$present" ]]; then
      # cosign copy keeps the manifest bytes, so the digest is the one staging ran; it copies the
      # signature and the attestations with it.
      cosign copy "$source_repo/flightdeck@$digest" "$repo/flightdeck:tree-$tree" >&2
      present="$(digest_of "$repo/flightdeck:tree-$tree")"
    fi
    if [[ "$present" != "$digest" ]]; then
      echo "image: $repo/flightdeck:tree-$tree is $present, staging ran $digest" >&2
      exit 1
    fi
    echo "$digest"
    ;;
  *)
    echo "usage: image.sh digest|sign|attest|verify|mark-staged|promote ..." >&2
    exit 2
    ;;
esac
