"""flightdeck / SLOs: one row per SLO of slo/specs, generated, so adding a spec adds its row.

Each row reads only the recording rules slo/_gen writes for that SLO: the SLI over the period with
the objective, the error budget left, the SLI over the shortest windows, and the burn rate of every
recorded window with the generated alerts' factors as threshold lines and their runbook linked.
Windows and factors come from slo/_gen/rules.yml, the objective and texts from the spec.
"""

from common import (NONE, RATIO, SYSTEM, alerting_path, bargauge_panel, dashboard, firing_alerts, q, slo_runbook,
                    stat_panel, timeseries_panel)

import sources

UID = "flightdeck-slo"


def _pct(ratio):
    return f"{ratio * 100:g}%"


def _policy(slo):
    parts = [f"{c.severity} at {c.factor:g}x over {c.long} and {c.short}" for c in slo.conditions]
    return "; ".join(parts)


def slo_row(slo):
    sel = f'slo="{slo.name}",{SYSTEM}'
    short = slo.windows[0]
    hour = next((w for w in slo.windows if w == "1h"), slo.windows[min(2, len(slo.windows) - 1)])
    # A line at the lowest factor of each severity the generated alerts use (an SLO may only ticket).
    lines = {}
    for condition in slo.conditions:
        lines[condition.severity] = min(condition.factor, lines.get(condition.severity, condition.factor))
    steps = sorted(((factor, "red" if severity == "page" else "orange") for severity, factor in lines.items()))
    panels = [
        stat_panel(
            f"{slo.name}: SLI over {slo.period}",
            f"Good events / valid events over {slo.period}: {slo.description} Objective {_pct(slo.objective)}; "
            "100% at zero traffic.", RATIO,
            [q(f"1 - slo:sli_error:ratio_rate{slo.period}{{{sel}}}", "{{system}}", instant=True),
             q(f'slo:objective:ratio{{slo="{slo.name}"}}', "objective", instant=True)],
            width=6, height=7, decimals=3, thresholds=["red", (slo.objective, "green")]),
        stat_panel(
            f"{slo.name}: error budget remaining",
            f"Share of the {slo.period} error budget ({_pct(slo.budget)} of events) still unspent. Below 0 the "
            "objective is missed for this period.", RATIO,
            [q(f"slo:error_budget_remaining:ratio{{{sel}}}", "{{system}}", instant=True)],
            width=6, height=7, thresholds=["red", (0, "orange"), (0.25, "green")]),
        timeseries_panel(
            f"{slo.name}: SLI ({short} and {hour} windows)",
            f"What users experience now, against the {_pct(slo.objective)} objective.", RATIO,
            [q(f"1 - slo:sli_error:ratio_rate{short}{{{sel}}}", f"{short} {{{{system}}}}"),
             q(f"1 - slo:sli_error:ratio_rate{hour}{{{sel}}}", f"{hour} {{{{system}}}}"),
             q(f'slo:objective:ratio{{slo="{slo.name}"}}', "objective")],
            width=12, height=7, decimals=3),
        timeseries_panel(
            f"{slo.name}: burn rate per window",
            f"Error ratio / error budget per window (1 spends the budget exactly over {slo.period}). Generated "
            f"alerts: {_policy(slo)}. Short windows drop first once the cause is fixed.", NONE,
            [q(f"slo:burn_rate:ratio_rate{w}{{{sel}}}", f"{w} {{{{system}}}}") for w in slo.windows],
            width=24, height=8, threshold_lines=True, thresholds=["green", *steps],
            runbooks=[slo_runbook(slo.name)]),
    ]
    return (slo.display_name, panels)


def build():
    slos = sources.slos()
    overview = [
        bargauge_panel(
            "Error budget remaining, every SLO",
            "Share of each SLO's error budget still unspent over its period: what a manager needs to decide "
            "between features and reliability work. Below 0 the objective is missed.", RATIO,
            [q(f"slo:error_budget_remaining:ratio{{{SYSTEM}}}", "{{slo}} {{system}}", instant=True)],
            min_val=-0.5, max_val=1, thresholds=["red", (0.25, "orange"), (0.5, "green")]),
        firing_alerts("Firing alerts", "Every alert firing now (SLO burn rates and symptom alerts), with its "
                      "severity and SLO.", width=12, height=9),
        alerting_path(height=9),
    ]
    names = {slo.name for slo in slos}
    if {"ingest-freshness", "probe-freshness"} <= names:
        # The same promise measured from inside (the worker's lag at commit) and from outside (a
        # probe reading its event through the API): a gap between the lines is outside the worker.
        overview.append(timeseries_panel(
            "Freshness: white box and black box (1h)",
            "Good ratio over the last hour of ingest-freshness (the worker's lag, measured at commit) and "
            "probe-freshness (a synthetic event read back through the public API), both 99% within 10 s. The "
            "black box is lower when the loss is outside the worker: Pub/Sub delivery, a stall that commits "
            "nothing, an API that does not serve what was committed.", RATIO,
            [q(f'1 - slo:sli_error:ratio_rate1h{{slo="ingest-freshness",{SYSTEM}}}', "white box (ingest lag) {{system}}"),
             q(f'1 - slo:sli_error:ratio_rate1h{{slo="probe-freshness",{SYSTEM}}}', "black box (probe) {{system}}"),
             q('slo:objective:ratio{slo="probe-freshness"}', "objective")],
            width=24, height=7, decimals=3,
            runbooks=[slo_runbook("probe-freshness"), slo_runbook("ingest-freshness")]))
    return dashboard(
        UID, "flightdeck / SLOs",
        f"The {len(slos)} SLOs of slo/specs from the generated rules of slo/_gen: SLI, error budget and burn "
        "rates (docs/observability.md 5.2). Generated from dashboards/src/slo.py, one row per spec.",
        ["slo"],
        [("All SLOs", overview), *[slo_row(slo) for slo in slos]])
