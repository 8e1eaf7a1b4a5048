"""Reads the flightdeck Terraform tree with python-hcl2 for the structural tests.

python-hcl2 keeps HCL's quotes around block labels and string literals
(`'"google_project_iam_member"'`, `'"roles/x"'`); everything here unquotes once so
the tests compare plain names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import hcl2

TERRAFORM = Path(__file__).resolve().parent.parent
# Fixtures are deliberately non-compliant Terraform for the policy tests.
EXCLUDED = ("policies/fixtures", ".terraform")


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
