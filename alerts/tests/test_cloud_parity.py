"""Every alert that runs locally runs in Google Cloud from the same source.

Local: the alerting rules of alerts/rules/*.yml and slo/_gen/rules.yml, evaluated by Prometheus.
Cloud: one Cloud Monitoring PromQL alert policy per rule, created by terraform/modules/monitoring
from prometheus_alerts.json (written by `make slo-gen`). Cloud Monitoring evaluates no
recording rules, so the cloud query is the local expression with each recorded series replaced
by the expression that records it. This test inlines them again on its own and demands the same
query, `for:`, severity and labels for every rule and no policy without a rule; then that the
queries parse (promtool), that the module wires query, duration and channels from that file, and
that every SLO of slo/specs is a Cloud Monitoring SLO in both environments.
"""

import json
import pathlib
import re
import shutil
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULE = ROOT / "terraform" / "modules" / "monitoring"
CLOUD = json.loads((MODULE / "prometheus_alerts.json").read_text())["alerts"]
DISTINGUISHING = ("slo", "burn_window", "input")


def rule_files():
    return sorted((ROOT / "alerts" / "rules").glob("*.yml")) + [ROOT / "slo" / "_gen" / "rules.yml"]


def rules():
    for path in rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                yield group["name"], rule


RECORDS = [rule for _, rule in rules() if "record" in rule]
ALERTS = [(group, rule) for group, rule in rules() if "alert" in rule]


def inline(expr):
    """Replaces recorded series (selected by = matchers on their static labels) by their expression."""
    names = sorted({r["record"] for r in RECORDS}, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w:])(" + "|".join(map(re.escape, names)) + r")(\{[^}]*\})?(?![\w:])")

    def replace(match):
        matchers = dict(re.findall(r'(\w+)\s*=\s*"([^"]*)"', match.group(2) or ""))
        found = [r for r in RECORDS if r["record"] == match.group(1)
                 and all(r.get("labels", {}).get(k) == v for k, v in matchers.items())]
        assert len(found) == 1, f"{match.group(0)} selects {len(found)} recording rules"
        return f"({inline(found[0]['expr'].strip())})"

    return pattern.sub(replace, expr)


def key(rule):
    return "-".join([rule["alert"]] + [rule["labels"][k] for k in DISTINGUISHING if k in rule["labels"]])


def seconds(duration):
    if not duration:
        return 0
    return int(duration[:-1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[duration[-1]]


def test_there_are_local_alerts_of_every_kind():
    names = {rule["alert"] for _, rule in ALERTS}
    assert {"SLOBurnRatePage", "SLOBurnRateTicket", "SLOInputAbsent", "Watchdog", "FlightdeckIngestStalled",
            "FlightdeckJobDown", "FlightdeckTargetAbsent"} <= names


def test_every_cloud_policy_comes_from_a_local_rule_and_every_rule_has_one():
    local = {key(rule) for _, rule in ALERTS}
    assert len(local) == len(ALERTS), "two local rules share a key"
    assert set(CLOUD) == local


@pytest.mark.parametrize("item", ALERTS, ids=lambda item: key(item[1]))
def test_the_cloud_policy_has_the_same_expression_duration_severity_and_labels(item):
    group, rule = item
    cloud = CLOUD[key(rule)]
    assert cloud["local_expr"] == rule["expr"].strip()
    assert cloud["query"] == inline(rule["expr"].strip())
    assert not re.search(r"\b(slo|system):[a-z_]+:", cloud["query"]), "a recording rule was left in the cloud query"
    assert cloud["severity"] == rule["labels"]["severity"]
    assert cloud["duration"] == f"{seconds(rule.get('for'))}s"
    assert cloud["labels"] == rule["labels"]
    assert cloud["group"] == group and cloud["alert"] == rule["alert"]
    assert cloud["runbook_url"] == rule["annotations"]["runbook_url"]


def test_every_cloud_query_is_valid_promql(tmp_path):
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.fail("promtool is not installed: run scripts/install-prometheus.sh")
    file = tmp_path / "cloud.yml"
    file.write_text(yaml.safe_dump({"groups": [{"name": "cloud", "rules": [
        {"alert": k.replace("-", "_").replace(".", "_"), "expr": v["query"]} for k, v in CLOUD.items()]}]}))
    result = subprocess.run([promtool, "check", "rules", str(file)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def resource(main, kind, name):
    match = re.search(rf'^resource "{kind}" "{name}" {{\n(.*?)^}}', main, flags=re.S | re.M)
    assert match, f"{kind}.{name} is missing from {MODULE / 'main.tf'}"
    return match.group(1)


def test_the_module_builds_one_policy_per_rule_from_that_file():
    main = (MODULE / "main.tf").read_text()
    assert 'prometheus_alerts = jsondecode(file("${path.module}/prometheus_alerts.json")).alerts' in main
    body = resource(main, "google_monitoring_alert_policy", "prometheus")
    for line in ("for_each              = local.prometheus_alerts",
                 "query               = each.value.query",
                 "duration            = each.value.duration",
                 "labels              = each.value.labels",
                 'severity              = each.value.severity == "page" ? "CRITICAL" : "WARNING"',
                 'notification_channels = each.value.alert == "Watchdog" ? local.channels.watchdog : local.channels[each.value.severity]'):
        assert line in body, f"prometheus policy: missing `{line}`"


def test_pages_tickets_and_the_watchdog_go_to_different_channels():
    main = (MODULE / "main.tf").read_text()
    assert re.search(r'channels = \{ for kind in \["page", "ticket", "watchdog"\] : kind => \[\s*'
                     r'for k, c in google_monitoring_notification_channel\.this : c\.id if '
                     r'var\.notification_channels\[k\]\.receives == kind', main)
    assert "local.channels =" not in main and not re.search(r"notification_channels = local\.channels\s*$", main, re.M), \
        "a policy notifies every channel"
    variables = (MODULE / "variables.tf").read_text()
    assert 'contains(["page", "ticket", "watchdog"], c.receives)' in variables


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_every_slo_of_the_specs_is_a_cloud_monitoring_slo(env):
    specs = {p.stem for p in (ROOT / "slo" / "specs").glob("*.yaml")}
    assert len(specs) == 5
    tfvars = json.loads((ROOT / "terraform" / "envs" / env / "slo.auto.tfvars.json").read_text())["slos"]
    assert set(tfvars) == specs
    for name, slo in tfvars.items():
        assert {b["severity"] for b in slo["burn_rate_alerts"]} <= {"page", "ticket"}, name
    main = (MODULE / "main.tf").read_text()
    assert "for_each            = var.slos" in resource(main, "google_monitoring_slo", "this")
