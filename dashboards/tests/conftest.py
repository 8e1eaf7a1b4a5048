"""Shared helpers of the observability tests: the repository's dashboards, rule files and runbooks.

The static tests (dashboards lint, runbook links, Alertmanager inhibition) need only the files and
the Prometheus/Alertmanager binaries; test_live_validation.py runs the real pipeline.
"""

import json
import os
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DASHBOARDS_DIR = ROOT / "dashboards"
# The dashboards' source (dashboards/src): its markers and declarations are the ones tested here.
sys.path.insert(0, str(DASHBOARDS_DIR / "src"))
import common  # noqa: E402

# Panels whose metrics exist only in Google Cloud say so in their description (CLOUD_MARKER); the
# live validation skips their queries with that reason, never silently.
CLOUD_MARKER = common.CLOUD
CLOUD_METRIC_PREFIXES = common.CLOUD_METRIC_PREFIXES
# Service metrics panels show before the service exposes them: {name: reason}.
NOT_YET_EXPORTED = common.NOT_YET_EXPORTED

# Panels that are empty while the system is healthy, by dashboard uid and panel title. Each one
# says so in its description (INCIDENT_MARKER); the lint checks this list and the markers agree,
# and the live validation only requires these to evaluate cleanly.
INCIDENT_MARKER = "Only shows data during incidents."
INCIDENT_ONLY = {
    # ALERTS{alertstate="firing"} has no series while nothing fires (the always-firing Watchdog aside).
    ("flightdeck-slo", "Firing alerts"),
    ("flightdeck-fleet", "Firing alerts by system"),
    # flightdeck_unready{reason} > 0: a process that is not ready.
    ("flightdeck-overview", "Unready reasons"),
}

# How the live validation stands in for Grafana's built-in variables.
BUILTIN_VARIABLES = {
    "__rate_interval": "30s",
    "__interval": "15s",
    "__range": "5m",
}

# The SLO rules the SLO dashboard and the fleet dashboard read. FLIGHTDECK_SLO_RULES points at
# another file (e.g. a fresh generator output) to validate dashboards against it before committing.
SLO_RULES = pathlib.Path(os.environ.get("FLIGHTDECK_SLO_RULES", ROOT / "slo" / "_gen" / "rules.yml"))


def dashboard_files():
    return sorted(DASHBOARDS_DIR.glob("*.json"))


def load_dashboards():
    return {path.name: json.loads(path.read_text()) for path in dashboard_files()}


def iter_panels(dashboard):
    """Every panel, including those nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def query_panels(dashboard):
    return [p for p in iter_panels(dashboard) if p.get("type") != "row"]


def panel_queries():
    """(dashboard uid, panel title, refId, expr) for every query of every dashboard."""
    out = []
    for dashboard in load_dashboards().values():
        for panel in query_panels(dashboard):
            for target in panel.get("targets", []):
                out.append((dashboard["uid"], panel["title"], target.get("refId"), target.get("expr", "")))
    return out


def is_incident_only(uid, title):
    return (uid, title) in INCIDENT_ONLY


def cloud_only_panels():
    """(uid, title) of every panel marked as reading Google Cloud metrics only."""
    return {(d["uid"], p["title"]) for d in load_dashboards().values() for p in query_panels(d)
            if CLOUD_MARKER in p.get("description", "")}


def uses_cloud_metric(expr):
    return any(prefix in expr for prefix in CLOUD_METRIC_PREFIXES)


def pending_metrics_in(expr, exposed):
    """Metrics of NOT_YET_EXPORTED that `expr` reads and that are not in `exposed` (what runs exposes)."""
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))
    return sorted(m for m in NOT_YET_EXPORTED if m not in exposed
                  and names & {m, f"{m}_bucket", f"{m}_sum", f"{m}_count"})


# $name, ${name}, ${name:format}; not the $1 of a label_replace replacement.
VARIABLE = re.compile(r"\$(?:\{([A-Za-z_]\w*)(?::\w+)?\}|([A-Za-z_]\w*))")


def substitute(expr, values):
    """Replaces $name, ${name} and ${name:format} with values[name]; unknown names raise KeyError."""
    return VARIABLE.sub(lambda m: values[m.group(1) or m.group(2)], expr)


def rule_files():
    """Every Prometheus rule file the platform loads: hand-written alerts and generated SLO rules."""
    files = sorted((ROOT / "alerts" / "rules").glob("*.yml"))
    if SLO_RULES.exists():
        files.append(SLO_RULES)
    return files


def load_rules(path):
    for group in yaml.safe_load(path.read_text())["groups"]:
        yield from group["rules"]


def slo_rules_present():
    return SLO_RULES.exists()


def pytest_configure(config):
    config.addinivalue_line("markers", "live: starts the real pipeline, Prometheus and traffic (1-2 minutes)")
