"""promtool evaluates the rule groups of a test file in random order unless the file sets
`group_eval_order`: an alert may then read the recordings of the previous interval, and its `for:`
boundary moves by one interval from run to run. slo/tests orders every generated group,
recordings before alerts, and must keep doing so as specs are added.
"""

import pathlib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_slo_rule_tests_order_every_generated_group_recordings_first():
    groups = [g["name"] for g in yaml.safe_load((ROOT / "slo" / "_gen" / "rules.yml").read_text())["groups"]]
    order = yaml.safe_load((ROOT / "slo" / "tests" / "slo_rules_test.yml").read_text())["group_eval_order"]
    assert sorted(order) == sorted(groups), "list every group of slo/_gen/rules.yml in group_eval_order"
    position = {name: i for i, name in enumerate(order)}
    for name in groups:
        if name.startswith("slo-alerts-"):
            slo = name[len("slo-alerts-"):]
            assert position[f"slo-sli-{slo}"] < position[f"slo-meta-{slo}"] < position[name], slo
