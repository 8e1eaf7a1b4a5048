"""Static lint of dashboards/*.json (generated from dashboards/src): the rules every flightdeck
dashboard follows.

Deterministic uids, a `datasource` variable used by every query, a `system` variable wherever
queries filter on it, a unit on every panel, `$__rate_interval` in every rate and increase, only
metrics of the contract (docs/metrics.md), of the rule files, of Google Cloud (marked panels) or
declared as not exported yet; incident-only and Google Cloud panels declared both ways; one row per
SLO spec; every alert's runbook linked from a panel showing its symptom.
"""

import re

import pytest
import yaml

from conftest import (
    CLOUD_MARKER, DASHBOARDS_DIR, INCIDENT_MARKER, INCIDENT_ONLY, NOT_YET_EXPORTED, ROOT, SLO_RULES, VARIABLE,
    cloud_only_panels, iter_panels, load_dashboards, load_rules, query_panels, rule_files, slo_rules_present,
    uses_cloud_metric,
)

DASHBOARDS = load_dashboards()
EXPECTED_UIDS = {
    "overview.json": "flightdeck-overview",
    "slo.json": "flightdeck-slo",
    "fleet.json": "flightdeck-fleet",
}
WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "28d"]
# The SLO recording rules of the contract between slo/ and the dashboards.
SLO_METRICS = (
    {f"slo:sli_error:ratio_rate{w}" for w in WINDOWS}
    | {f"slo:burn_rate:ratio_rate{w}" for w in WINDOWS}
    | {"slo:objective:ratio", "slo:error_budget:ratio", "slo:error_budget_remaining:ratio"}
)
PROMETHEUS_METRICS = {"up", "ALERTS"}
RANGE_FUNCTIONS = re.compile(r"\b(rate|irate|increase|delta|idelta|deriv)\s*\(")
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{")
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}


def contract_metrics():
    """Metric names of docs/metrics.md, with the _bucket/_sum/_count series of histograms."""
    names = set()
    for line in (ROOT / "docs" / "metrics.md").read_text().splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 3 and cells[1].startswith("`") and cells[1].endswith("`"):
            name, kind = cells[1].strip("`"), cells[2]
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    assert "flightdeck_ingest_lag_seconds_bucket" in names, "docs/metrics.md table not parsed"
    return names


CONTRACT = contract_metrics()
RULES = [rule for path in rule_files() for rule in load_rules(path)]
RECORDED = {rule["record"] for rule in RULES if "record" in rule}
NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def with_series(names):
    return set(names) | {f"{n}{suffix}" for n in names for suffix in ("_bucket", "_sum", "_count")}


def cloud_metrics():
    """Google Cloud metric names the dashboards read (only allowed in panels marked CLOUD_MARKER)."""
    return {m for d in DASHBOARDS.values() for p in query_panels(d) for t in p["targets"]
            for m in NAME.findall(t["expr"]) if uses_cloud_metric(m)}


KNOWN = CONTRACT | SLO_METRICS | PROMETHEUS_METRICS | RECORDED | with_series(NOT_YET_EXPORTED) | cloud_metrics()


def metrics_of(expr):
    """Metric names in a PromQL expression (identifiers that name a known series)."""
    return set(NAME.findall(expr)) & KNOWN


def all_panels():
    return [(name, d, p) for name, d in DASHBOARDS.items() for p in query_panels(d)]


def panel_id(item):
    name, _, panel = item
    return f"{name}:{panel['title']}"


def range_arguments(expr):
    """The [range] of every rate()/increase()/... call in expr."""
    out = []
    for match in RANGE_FUNCTIONS.finditer(expr):
        depth, i = 1, match.end()
        while depth and i < len(expr):
            depth += {"(": 1, ")": -1}.get(expr[i], 0)
            i += 1
        out.append((match.group(1), re.findall(r"\[([^\]]+)\]", expr[match.end():i])))
    return out


def test_the_three_dashboards_exist_with_deterministic_uids():
    assert {name: d["uid"] for name, d in DASHBOARDS.items()} == EXPECTED_UIDS
    titles = [d["title"] for d in DASHBOARDS.values()]
    assert len(set(titles)) == len(titles)


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboard_is_portable(name):
    dashboard = DASHBOARDS[name]
    # A numeric id belongs to one Grafana database; provisioning assigns its own.
    assert dashboard.get("id") is None
    assert "flightdeck" in dashboard.get("tags", [])
    assert isinstance(dashboard.get("schemaVersion"), int)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    datasource = variables.get("datasource")
    assert datasource and datasource["type"] == "datasource" and datasource["query"] == "prometheus"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_panel_ids_are_unique_and_panels_fit_the_grid(name):
    panels = list(iter_panels(DASHBOARDS[name]))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    cells = set()
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["w"] > 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps another panel"
                cells.add((x, y))


@pytest.mark.parametrize("item", all_panels(), ids=panel_id)
def test_panel_queries_the_datasource_variable(item):
    _, _, panel = item
    assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    assert panel["targets"], "a panel without a query"
    for target in panel["targets"]:
        assert target.get("datasource", panel["datasource"]) == panel["datasource"]
        assert target["expr"].strip()


@pytest.mark.parametrize("item", all_panels(), ids=panel_id)
def test_panel_has_a_unit_and_a_description(item):
    _, _, panel = item
    assert panel["fieldConfig"]["defaults"].get("unit"), "set fieldConfig.defaults.unit"
    assert panel.get("description", "").strip(), "say what the panel tells the on-call engineer"


@pytest.mark.parametrize("item", all_panels(), ids=panel_id)
def test_rates_use_rate_interval(item):
    _, _, panel = item
    for target in panel["targets"]:
        for function, ranges in range_arguments(target["expr"]):
            assert ranges == ["$__rate_interval"], f"{function}() over {ranges} in {target['expr']}"


@pytest.mark.parametrize("item", all_panels(), ids=panel_id)
def test_queries_use_known_metrics_and_defined_variables(item):
    _, dashboard, panel = item
    defined = {v["name"] for v in dashboard["templating"]["list"]} | {"__rate_interval", "__interval", "__range"}
    for target in panel["targets"]:
        expr = target["expr"]
        assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"), expr
        for match in VARIABLE.finditer(expr):
            variable = match.group(1) or match.group(2)
            assert variable in defined, f"${variable} is not a variable of {dashboard['uid']}"
        for metric in SELECTOR.findall(expr):
            if metric in PROMQL_WORDS:
                continue
            assert metric in KNOWN, f"{metric} is in no contract, rule file or NOT_YET_EXPORTED"


def test_system_variable_where_queries_filter_on_it():
    for dashboard in DASHBOARDS.values():
        uses = any("$system" in t["expr"] for p in query_panels(dashboard) for t in p["targets"])
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        assert uses == ("system" in variables), dashboard["uid"]
        if uses:
            assert variables["system"]["datasource"]["uid"] == "${datasource}"


def test_incident_only_panels_are_declared_both_ways():
    marked = {(d["uid"], p["title"]) for d in DASHBOARDS.values() for p in query_panels(d)
              if INCIDENT_MARKER in p.get("description", "")}
    assert marked == INCIDENT_ONLY


def slo_rows():
    """{row title: panels of the row} of the SLO dashboard."""
    rows, current = {}, None
    for panel in DASHBOARDS["slo.json"]["panels"]:
        if panel["type"] == "row":
            current = rows.setdefault(panel["title"], [])
            current.extend(panel.get("panels", []))
        elif current is not None:
            current.append(panel)
    return rows


@pytest.mark.skipif(not slo_rules_present(), reason=f"{SLO_RULES} does not exist yet")
def test_every_slo_spec_has_its_row_with_sli_budget_burn_rates_and_targets():
    specs = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "slo" / "specs").glob("*.yaml"))]
    assert specs, "slo/specs is empty"
    rows = slo_rows()
    for spec in specs:
        name, period = spec["name"], f"{spec['period_days']}d"
        assert spec["display_name"] in rows, f"no row for SLO {name} ({spec['display_name']})"
        panels = rows[spec["display_name"]]
        exprs = [t["expr"] for p in panels for t in p["targets"]]
        # Only this SLO's series in its row.
        for expr in exprs:
            for selector in re.findall(r'slo="([^"]+)"', expr):
                assert selector == name, f"row {name} queries SLO {selector}: {expr}"
        for metric in (f"slo:sli_error:ratio_rate{period}", "slo:error_budget_remaining:ratio"):
            assert any(e.startswith(("1 - " + metric, metric)) and f'slo="{name}"' in e for e in exprs), \
                f"row {name} has no {metric} panel"
        recorded = {r["record"] for r in load_rules(SLO_RULES)
                    if r.get("record", "").startswith("slo:burn_rate:ratio_rate") and r["labels"]["slo"] == name}
        shown = {m for e in exprs for m in re.findall(r"slo:burn_rate:ratio_rate\w+", e)}
        assert shown == recorded - {f"slo:burn_rate:ratio_rate{period}"}, f"row {name}: burn-rate windows"
        # The objective of the spec is the SLI panel's target.
        sli = next(p for p in panels if any(t["expr"].startswith(f"1 - slo:sli_error:ratio_rate{period}")
                                            for t in p["targets"]))
        steps = [s["value"] for s in sli["fieldConfig"]["defaults"]["thresholds"]["steps"]]
        assert spec["objective"] in steps, f"row {name}: objective {spec['objective']} not a threshold of {steps}"


@pytest.mark.skipif(not slo_rules_present(), reason=f"{SLO_RULES} does not exist yet")
def test_burn_rate_thresholds_are_the_generated_alert_factors():
    factors = {}
    for rule in load_rules(SLO_RULES):
        if rule.get("alert", "").startswith("SLOBurnRate"):
            found = re.findall(r"ratio_rate\w+\{[^}]*\}\s*>\s*\(?\s*([0-9.]+)", rule["expr"])
            assert found, rule["expr"]
            factors.setdefault(rule["labels"]["slo"], {}).setdefault(rule["labels"]["severity"], set()).update(
                float(f) for f in found)
    for title, panels in slo_rows().items():
        if title == "All SLOs":
            continue
        burn = next(p for p in panels if p["title"].endswith("burn rate per window"))
        slo = re.search(r'slo="([^"]+)"', burn["targets"][0]["expr"]).group(1)
        steps = {s["value"] for s in burn["fieldConfig"]["defaults"]["thresholds"]["steps"]}
        for severity in factors[slo]:
            assert min(factors[slo][severity]) in steps, (slo, severity, steps)
        for severity in factors[slo]:
            for factor in factors[slo][severity]:
                assert f"{factor:g}x" in burn["description"], (slo, factor)


def test_google_cloud_panels_are_marked_both_ways():
    reading = {(d["uid"], p["title"]) for d in DASHBOARDS.values() for p in query_panels(d)
               if any(uses_cloud_metric(t["expr"]) for t in p["targets"])}
    assert reading, "no Google Cloud panel (Pub/Sub backlog, Cloud SQL)"
    assert reading == cloud_only_panels(), f"marked {CLOUD_MARKER!r} exactly when reading Cloud Monitoring metrics"


def test_google_cloud_panels_cover_the_queue_and_the_database():
    names = cloud_metrics()
    for metric in ("pubsub_googleapis_com:subscription_num_undelivered_messages",
                   "pubsub_googleapis_com:subscription_oldest_unacked_message_age",
                   "pubsub_googleapis_com:subscription_dead_letter_message_count",
                   "cloudsql_googleapis_com:database_cpu_utilization",
                   "cloudsql_googleapis_com:database_postgresql_num_backends",
                   "cloudsql_googleapis_com:database_disk_utilization"):
        assert metric in names, f"no panel reads {metric}"


def test_not_yet_exported_metrics_have_a_reason_and_a_panel():
    used = {m for d in DASHBOARDS.values() for p in query_panels(d) for t in p["targets"]
            for m in NAME.findall(t["expr"])}
    for metric, reason in NOT_YET_EXPORTED.items():
        assert reason.strip(), metric
        assert with_series([metric]) & used, f"{metric} is declared but no panel reads it: drop it"
        assert metric not in CONTRACT, f"{metric} is in docs/metrics.md: it is exported, drop it from NOT_YET_EXPORTED"


def expanded(metrics, slo=None, seen=None):
    """Metrics and the inputs of the recording rules among them, recursively (restricted to `slo`)."""
    seen = set() if seen is None else seen
    for metric in metrics - seen:
        seen.add(metric)
        for rule in RULES:
            if rule.get("record") == metric and (slo is None or rule.get("labels", {}).get("slo") in (None, slo)):
                expanded(metrics_of(rule["expr"]), slo, seen)
    return seen


def alert_rules():
    return [rule for rule in RULES if "alert" in rule]


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: f"{r['alert']}:{r['labels'].get('slo', '')}")
def test_alert_runbook_is_linked_from_a_panel_showing_its_symptom(rule):
    url, slo = rule["annotations"]["runbook_url"], rule["labels"].get("slo")
    symptom = expanded(metrics_of(rule["expr"]), slo)
    linked = [(d["uid"], p) for d in DASHBOARDS.values() for p in query_panels(d)
              if url in {link["url"] for link in p.get("links", [])}]
    assert linked, f"no panel links {url}"
    showing = []
    for uid, panel in linked:
        exprs = [t["expr"] for t in panel["targets"]]
        shown = expanded(set().union(*(metrics_of(e) for e in exprs)), slo)
        if not symptom:  # e.g. a watchdog: its symptom is the alerting path itself
            ok = "ALERTS" in shown
        else:
            ok = bool(shown & symptom)
            if slo and any("slo:" in e for e in exprs):
                ok = ok and all(f'slo="{slo}"' in e for e in exprs if 'slo="' in e)
        if ok:
            showing.append(f"{uid}:{panel['title']}")
    assert showing, f"{rule['alert']}: {url} is linked only from panels that do not show {sorted(symptom)}"


def test_fleet_dashboard_ranks_systems_by_burn_rate_and_splits_signals_by_system():
    panels = query_panels(DASHBOARDS["fleet.json"])
    exprs = [t["expr"] for p in panels for t in p["targets"]]
    assert any(e.startswith("topk(") and "slo:burn_rate" in e for e in exprs)
    for panel in panels:
        if panel["type"] == "timeseries":
            for target in panel["targets"]:
                expr = target["expr"]
                assert "by (system" in expr or expr.startswith("slo:"), f"{panel['title']}: one line per system"
                assert "{{system}}" in target["legendFormat"], panel["title"]


@pytest.mark.skipif(not slo_rules_present(), reason=f"{SLO_RULES} does not exist yet")
def test_slo_metrics_used_by_dashboards_are_recorded_by_the_slo_rules():
    recorded = {r["record"] for r in load_rules(SLO_RULES) if "record" in r}
    used = {m for d in DASHBOARDS.values() for p in query_panels(d) for t in p["targets"]
            for m in SELECTOR.findall(t["expr"]) if m.startswith("slo:")}
    assert used and used <= recorded, used - recorded


def test_provisioning_matches_the_compose_mounts():
    datasources = yaml.safe_load((DASHBOARDS_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text())
    (source,) = datasources["datasources"]
    assert (source["type"], source["url"]) == ("prometheus", "http://prometheus:9090")
    providers = yaml.safe_load((DASHBOARDS_DIR / "provisioning" / "dashboards" / "flightdeck.yml").read_text())
    (provider,) = providers["providers"]
    assert provider["type"] == "file" and provider["options"]["path"] == "/var/lib/grafana/dashboards"
