#!/usr/bin/env bash
# `make docs` / `make docs-check`: the generated facts of the docs (scripts/docs_gen.py: blocks
# between `<!-- generated: NAME (make docs) -->` markers, runbook URLs of alerts/rules from
# alerts/runbooks.yml, docs/architecture.svg from docs/architecture.dot).
#
#   scripts/docs.sh            # rewrite what is stale
#   scripts/docs.sh --check    # write nothing; fail naming each stale file, with a diff
#
# Tools: a hash-pinned venv (scripts/requirements-docs.txt) under $FLIGHTDECK_TOOLS/docs and
# Graphviz (scripts/install-graphviz.sh). Without Graphviz (no root, no sudo) the check still
# compares the diagram's recorded source hash; rendering a changed diagram needs it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FLIGHTDECK_ROOT"

if ! scripts/install-graphviz.sh; then
  [[ ${1:-} == --check ]] || die "make docs renders docs/architecture.svg with Graphviz: install it (above), then re-run"
  log "notice: no Graphviz: docs/architecture.svg is checked by its recorded source hash only"
fi

if [[ ${1:-} != --check ]]; then
  # The settings block is written by the Rust test that checks it (app/src/config.rs); in
  # check mode that test runs with the unit tests of `make test`.
  log "settings block of docs/reference.md from the settings catalog"
  UPDATE_DOCS=1 cargo test --locked -q -p flightdeck --lib config::tests::the_settings_reference_is_generated_from_the_code
fi

venv="$FLIGHTDECK_TOOLS/docs"
install_venv "$venv" scripts/requirements-docs.txt
exec "$venv/bin/python" scripts/docs_gen.py "$@"
