#!/usr/bin/env bash
# Reads the API key deploy.yml's smoke check and canary send, from Secret Manager, as the deployer
# (which may read that one secret: modules/identity/smoke.tf), before anything is deployed.
#   api-key.sh SECRET FILE
# It checks the latest version of SECRET holds one flightdeck key on one line (fdk_<prefix>_<secret>),
# prints `::add-mask::<key>` so the runner hides the key in every later line of the log, and writes
# it to FILE (mode 600), the API_KEY_FILE of post-deploy-check.sh and canary-check.sh. The key is
# never printed otherwise, nor passed on a command line.
# Needs: PROJECT_ID; gcloud authenticated.
set -euo pipefail
: "${PROJECT_ID:?PROJECT_ID is not set}"
secret="${1:?usage: api-key.sh SECRET FILE}"
file="${2:?usage: api-key.sh SECRET FILE}"
howto='create the key once: terraform/README.md, "The deploy smoke check'"'"'s API key"'

errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT
if ! key="$(gcloud secrets versions access latest --secret "$secret" --project "$PROJECT_ID" 2>"$errors")"; then
  echo "api-key: cannot read the latest version of $secret in $PROJECT_ID: $(tr '\n' ' ' <"$errors")" >&2
  if grep -qiE 'NOT_FOUND|not found' "$errors"; then
    echo "api-key: $secret has no version yet: $howto" >&2
  fi
  exit 1
fi
if [[ ! "$key" =~ ^fdk_[0-9a-f]{12}_[A-Za-z0-9_-]+$ ]]; then
  # Not printed: a whole `flightdeck apikey create` output would carry the key on some line.
  echo "api-key: the latest version of $secret is not one API key on one line (fdk_<prefix>_<secret>):" \
    "add it again with the command of terraform/README.md (tail -n 1 | tr -d '\\n')" >&2
  exit 1
fi

echo "::add-mask::${key}"
rm -f "$file"
(
  umask 077
  printf '%s' "$key" >"$file"
)
echo "api-key: the key of $secret (prefix ${key:4:12}) is in $file, masked in this log" >&2
