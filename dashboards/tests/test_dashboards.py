"""Static lint of dashboards/*.json: the rules every flightdeck dashboard follows.

Deterministic uids, a `datasource` variable used by every query, a `system` variable wherever
queries filter on it, a unit on every panel, `$__rate_interval` in every rate and increase, only
metrics of the contract (docs/metrics.md) or of the SLO rules, and incident-only panels declared.
"""

import re

import pytest
import yaml

from conftest import (
    DASHBOARDS_DIR, INCIDENT_MARKER, INCIDENT_ONLY, ROOT, SLO_RULES, iter_panels, load_dashboards,
    load_rules, query_panels, slo_rules_present,
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
        for variable in re.findall(r"\$\{?(\w+)", expr):
            assert variable in defined, f"${variable} is not a variable of {dashboard['uid']}"
        for metric in SELECTOR.findall(expr):
            if metric in PROMQL_WORDS:
                continue
            assert metric in CONTRACT | SLO_METRICS | PROMETHEUS_METRICS, f"{metric} is in no contract"


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


def test_slo_dashboard_covers_every_slo_spec():
    specs = sorted((ROOT / "slo" / "specs").glob("*.yaml"))
    assert specs, "slo/specs is empty"
    exprs = " ".join(t["expr"] for p in query_panels(DASHBOARDS["slo.json"]) for t in p["targets"])
    for spec in specs:
        name = yaml.safe_load(spec.read_text())["name"]
        for metric in ("slo:sli_error:ratio_rate28d", "slo:error_budget_remaining:ratio",
                       "slo:burn_rate:ratio_rate1h", "slo:burn_rate:ratio_rate6h"):
            assert f'{metric}{{slo="{name}"' in exprs, f"no {metric} panel for SLO {name}"


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
