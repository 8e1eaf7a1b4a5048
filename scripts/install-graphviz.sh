#!/usr/bin/env bash
# Installs Graphviz from Debian/Ubuntu (package `graphviz`) for `make docs`: `dot` renders
# docs/architecture.dot into docs/architecture.svg, and `make docs-check` re-renders it to compare
# when the installed dot is the version that rendered the committed file. Skipped when `dot` is
# already on PATH, whoever runs it.
#
# Root is needed only to install: as root it runs apt-get, as any other user `sudo -n apt-get`
# (GitHub's runner user has passwordless sudo). A user with neither gets a message saying what to
# install and the script fails; scripts/docs.sh --check then checks the diagram by its recorded
# source hash alone.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if command -v dot >/dev/null 2>&1; then
  log "graphviz present: $(dot -V 2>&1 | head -n1) (user $(id -un))"
  exit 0
fi

missing="dot (Graphviz) is missing"
command -v apt-get >/dev/null 2>&1 ||
  die "$missing and apt-get is not available: install Graphviz (https://graphviz.org/download/) and put dot on PATH"
if [[ $(id -u) != 0 ]] && ! { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; then
  die "$missing and $(id -un) is neither root nor has passwordless sudo: run 'sudo apt-get install graphviz' (or this script as root) once"
fi

log "installing graphviz (Debian package, as $(id -un)$([[ $(id -u) == 0 ]] || echo ' through sudo'))"
# A fresh machine has no package lists yet: update first (apt_install does when they are stale).
if ! apt-cache show graphviz >/dev/null 2>&1; then
  as_root apt-get update -qq >/dev/null
fi
apt_install graphviz

command -v dot >/dev/null 2>&1 || die "graphviz installed but dot is not on PATH"
log "installed: $(dot -V 2>&1 | head -n1)"
