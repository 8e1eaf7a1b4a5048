"""Renders the Inputs/Outputs tables of each terraform/modules/*/README.md and of
terraform/stack/README.md from the module's variables and outputs, between
`<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->`. test_module_docs.py fails when a
README is stale.

    $FLIGHTDECK_TOOLS/infra-tests/bin/python terraform/tests/module_docs.py   # rewrite
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hcl import TERRAFORM, blocks, unquote  # noqa: E402

BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"


def _cell(text: str) -> str:
    text = re.sub(r"\$\{([^}]*)\}", r"\1", str(text))
    return " ".join(text.replace("|", "\\|").split())


def _type(value) -> str:
    text = _cell(value)
    return f"`{text}`" if len(text) <= 60 else f"`{text[:57]}...`"


def _default(value) -> str:
    if isinstance(value, str):
        text = _cell(unquote(value))
    else:
        text = _cell(json.dumps(value, default=str).replace('"__is_block__": true', "").replace(', }', ' }'))
    return text if len(text) <= 40 else text[:37] + "..."


def render(module: str) -> str:
    """module: a folder under terraform/, e.g. modules/runtime or stack."""
    under = f"{module}/"
    lines = [BEGIN, "## Inputs", "", "| Name | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for v in sorted(blocks("variable", under=under), key=lambda b: ("default" in b.body, b.labels[0])):
        default = "required" if "default" not in v.body else f"`{_default(v.body['default'])}`"
        lines.append(f"| `{v.labels[0]}` | {_type(v.body.get('type'))} | {default} | {_cell(unquote(v.body.get('description', '')))} |")
    lines += ["", "## Outputs", "", "| Name | Description |", "| --- | --- |"]
    for o in sorted(blocks("output", under=under), key=lambda b: b.labels[0]):
        lines.append(f"| `{o.labels[0]}` | {_cell(unquote(o.body.get('description', '')))} |")
    lines.append(END)
    return "\n".join(lines)


def expected(module: str) -> str:
    readme = (TERRAFORM / module / "README.md").read_text()
    head, _, rest = readme.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + render(module) + tail


def modules() -> list[str]:
    """Every module with a README: modules/* and the stack the environments call."""
    return sorted(f"modules/{p.name}" for p in (TERRAFORM / "modules").iterdir() if p.is_dir()) + ["stack"]


if __name__ == "__main__":
    for m in modules():
        (TERRAFORM / m / "README.md").write_text(expected(m))
        print(f"wrote {m}/README.md")
