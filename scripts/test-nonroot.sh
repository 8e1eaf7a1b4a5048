#!/usr/bin/env bash
# `make test-nonroot`: the tool installers and the observability and lint checks as an
# unprivileged user, so an assumption that only holds for root fails here and not on GitHub's
# runner (whose user is not root). Steps, as that user:
#   scripts/install-prometheus.sh            finds the tools without root (or installs via sudo)
#   OBSERVABILITY_LIVE=0 scripts/test-observability.sh
#   scripts/lint-infra.sh                    its venvs built by that user, in its own tools dir
#   scripts/lint-delivery.sh                 all but cargo-deny (FLIGHTDECK_SKIP_CARGO_DENY=1):
#                                            building it needs the Rust toolchain, which the
#                                            root run of `make lint-delivery` already proves
#
# Not root (GitHub's runner, a developer): the steps run as the current user, as they are.
# Root (.ci/run, `make test` on a fresh machine): root installs the Debian packages first (the only
# step that needs root), creates the user $FLIGHTDECK_NONROOT_USER (default flightdeck-ci) when
# missing, copies the checkout to a folder that user owns (a clone under /root is unreadable for
# it, and the user must not write into root's tree) and runs the steps there with `runuser`, with
# a clean environment, its own HOME (pip's download cache lives there and is reused next time)
# and its own tools folder /var/tmp/flightdeck-tools-<user>.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FLIGHTDECK_ROOT"

steps() {
  [[ $(id -u) != 0 ]] || die "test-nonroot: the checks are running as root; they must not"
  log "test-nonroot: running as $(id -un) (uid $(id -u)), tools in $FLIGHTDECK_TOOLS"
  scripts/install-prometheus.sh
  OBSERVABILITY_LIVE=0 scripts/test-observability.sh
  scripts/lint-infra.sh
  FLIGHTDECK_SKIP_CARGO_DENY=1 scripts/lint-delivery.sh
  log "test-nonroot: every step passed as $(id -un)"
}

if [[ ${1:-} == --steps ]]; then
  steps
  exit 0
fi

if [[ $(id -u) != 0 ]]; then
  steps
  exit 0
fi

user="${FLIGHTDECK_NONROOT_USER:-flightdeck-ci}"
need_cmd runuser "install util-linux (runuser runs the checks as $user)"

log "test-nonroot: root installs the Debian packages (the one step that needs root)"
scripts/install-prometheus.sh

if ! id -u "$user" >/dev/null 2>&1; then
  need_cmd useradd "install passwd (useradd creates the unprivileged user $user)"
  log "test-nonroot: creating the unprivileged user $user"
  useradd --create-home --user-group --shell /bin/bash "$user"
fi
home="$(getent passwd "$user" | cut -d: -f6)"
[[ -d $home ]] || die "test-nonroot: $user has no home folder ($home): create it, or remove the user so it is created anew"

work="/var/tmp/flightdeck-nonroot-$user"
tools="/var/tmp/flightdeck-tools-$user"
rm -rf "$work"
mkdir -p "$work/checkout" "$tools"
# What a commit can contain (tracked and new, not ignored files) plus .git, which lint-delivery
# reads with `git ls-files`.
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' file; do [[ -e $file ]] && printf '%s\0' "$file"; done |
  tar --null -T - -cf - | tar -xf - -C "$work/checkout"
cp -a .git "$work/checkout/.git"
chown -R "$user:" "$work" "$tools"

# A clean environment, except how this machine reaches the package registries (proxies, CA
# bundles, pip's settings), which a user shares with root.
passed=()
while IFS= read -r name; do
  passed+=("$name=${!name}")
done < <(compgen -e | grep -E '^(PIP_[A-Z_]+|[A-Za-z]+_proxy|[A-Z]+_PROXY|SSL_CERT_(FILE|DIR)|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE)$' || true)

log "test-nonroot: running the checks as $user in $work/checkout"
runuser -u "$user" -- env -i "${passed[@]}" \
  HOME="$home" USER="$user" LOGNAME="$user" LANG=C.UTF-8 TERM="${TERM:-dumb}" \
  PATH=/usr/local/bin:/usr/bin:/bin \
  FLIGHTDECK_TOOLS="$tools" FLIGHTDECK_RUN_DIR="$work/run" \
  bash "$work/checkout/scripts/test-nonroot.sh" --steps
