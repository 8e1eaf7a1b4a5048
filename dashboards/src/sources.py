"""What the dashboards are generated from, besides their own code: the SLO specs (slo/specs),
the generated SLO rules (slo/_gen/rules.yml) and the hand-written alert rules (alerts/rules).

Read here once so every dashboard file asks the same questions the same way: which SLOs exist,
which burn-rate windows are recorded, at which factors the generated alerts page and ticket, and
which runbook an alert links to.
"""

import dataclasses
import os
import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SLO_SPECS = ROOT / "slo" / "specs"
# FLIGHTDECK_SLO_RULES points at another generator output (e.g. a fresh one) before committing.
SLO_RULES = pathlib.Path(os.environ.get("FLIGHTDECK_SLO_RULES", ROOT / "slo" / "_gen" / "rules.yml"))
ALERT_RULES = ROOT / "alerts" / "rules"


def _seconds(window):
    """5m -> 300; the windows of the generated rules sort by length, not by name."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    match = re.fullmatch(r"(\d+)([smhdw])", window)
    if not match:
        raise ValueError(f"window {window!r} is not a Prometheus duration like 5m or 28d")
    return int(match.group(1)) * units[match.group(2)]


def rule_files():
    """Every rule file Prometheus loads, hand-written alerts first, as the live validation loads them."""
    files = sorted(ALERT_RULES.glob("*.yml"))
    if SLO_RULES.exists():
        files.append(SLO_RULES)
    return files


def rules(path):
    for group in yaml.safe_load(path.read_text())["groups"]:
        yield from group["rules"]


def alert_rules():
    """(file, rule) for every alerting rule of every rule file."""
    return [(path, rule) for path in rule_files() for rule in rules(path) if "alert" in rule]


def runbook_url(alert, slo=None):
    """The runbook_url annotation of `alert` (of the SLO `slo` for generated per-SLO alerts; `Name*`
    matches every alert whose name starts with Name), or None
    while no rule file defines the alert (a panel may name an alert that lands after it).

    Panels link runbooks through this lookup, never by a hand-written URL, so a renamed runbook
    section is followed on the next `make dashboards`; dashboards/tests check that every alert of
    the rule files ends up linked from a panel showing its symptom.
    """
    def named(rule):
        return rule["alert"].startswith(alert[:-1]) if alert.endswith("*") else rule["alert"] == alert

    urls = {rule["annotations"]["runbook_url"] for _, rule in alert_rules()
            if named(rule) and (slo is None or rule.get("labels", {}).get("slo") == slo)}
    if not urls:
        return None
    if len(urls) != 1:
        where = f" for SLO {slo}" if slo else ""
        raise LookupError(f"alert {alert}{where} has {len(urls)} runbook URLs in {[str(p) for p in rule_files()]}: "
                          f"expected exactly one (is the alert renamed or slo/_gen not generated?)")
    return urls.pop()


@dataclasses.dataclass(frozen=True)
class BurnCondition:
    """One generated burn-rate condition: both windows above `factor` x the error budget."""
    severity: str
    alert: str
    long: str
    short: str
    factor: float


@dataclasses.dataclass(frozen=True)
class Slo:
    name: str
    display_name: str
    description: str
    objective: float
    period: str
    latency_threshold_seconds: float | None
    windows: tuple  # recorded burn-rate windows shorter than the period, shortest first
    conditions: tuple  # BurnCondition of the generated alerts

    @property
    def budget(self):
        return round(1 - self.objective, 12)


# `slo:sli_error:ratio_rate1h{slo="x"} > (14.4 * 0.001)` or `slo:burn_rate:ratio_rate1h{slo="x"} > 14.4`
_CONDITION = re.compile(
    r"slo:(?:sli_error|burn_rate):ratio_rate(\w+)\{[^}]*\}\s*>\s*\(?\s*([0-9]*\.?[0-9]+)")


def _conditions(name, generated):
    out = []
    for rule in generated:
        labels = rule.get("labels", {})
        if "alert" not in rule or labels.get("slo") != name or not rule["alert"].startswith("SLOBurnRate"):
            continue
        found = [(w, float(f)) for w, f in _CONDITION.findall(rule["expr"])]
        if len(found) < 2 or len(found) % 2:
            raise ValueError(f"{SLO_RULES}: cannot read the windows and factors of {rule['alert']} ({name}) "
                             f"from {rule['expr']!r}: update _CONDITION in {__file__}")
        for (long, factor), (short, factor2) in zip(found[::2], found[1::2]):
            if factor != factor2:
                raise ValueError(f"{rule['alert']} ({name}): windows {long} and {short} use different factors")
            if _seconds(short) > _seconds(long):
                long, short = short, long
            out.append(BurnCondition(labels["severity"], rule["alert"], long, short, factor))
    return tuple(sorted(set(out), key=lambda c: (c.severity != "page", -c.factor)))


def slos():
    """Every SLO of slo/specs (sorted by name, as the generator does) with what slo/_gen recorded for it."""
    if not SLO_RULES.exists():
        raise FileNotFoundError(f"{SLO_RULES} does not exist: run make slo-gen first")
    generated = list(rules(SLO_RULES))
    out = []
    for path in sorted(SLO_SPECS.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        name, period = spec["name"], f"{spec['period_days']}d"
        recorded = {r["record"][len("slo:burn_rate:ratio_rate"):] for r in generated
                    if r.get("record", "").startswith("slo:burn_rate:ratio_rate")
                    and r.get("labels", {}).get("slo") == name}
        windows = tuple(sorted((w for w in recorded if w != period), key=_seconds))
        if period not in recorded or not windows:
            raise ValueError(f"{SLO_RULES} records no burn rates for SLO {name} ({path}): run make slo-gen")
        conditions = _conditions(name, generated)
        if not conditions:
            raise ValueError(f"{SLO_RULES} has no burn-rate alert for SLO {name}: run make slo-gen")
        out.append(Slo(name, spec["display_name"], spec["description"], float(spec["objective"]), period,
                       spec.get("latency_threshold_seconds"), windows, conditions))
    if not out:
        raise FileNotFoundError(f"no SLO specs in {SLO_SPECS}")
    return out
