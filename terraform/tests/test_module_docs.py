"""Every module has a README whose Inputs/Outputs tables match its code."""

import pytest

from hcl import TERRAFORM
from module_docs import BEGIN, END, expected, modules


@pytest.mark.parametrize("module", modules())
def test_module_readme_lists_current_inputs_and_outputs(module):
    path = TERRAFORM / module / "README.md"
    assert path.exists(), f"{module} has no README.md"
    text = path.read_text()
    assert BEGIN in text and END in text, f"{module}/README.md lacks the {BEGIN} markers"
    assert text == expected(module), (
        f"{module}/README.md is stale: run "
        "$FLIGHTDECK_TOOLS/infra-tests/bin/python terraform/tests/module_docs.py"
    )
