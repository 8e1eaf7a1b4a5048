"""alerts/alertmanager.yml: the watchdog route, page grouping and the inhibitions that issue 11
asked for, checked on a real Alertmanager (the fixture of dashboards/tests/test_alertmanager.py).

Routing to receivers is checked by amtool (alerts/tests/alertmanager-routes.txt); what amtool
cannot show is grouping and inhibition.
"""

import pathlib
import sys

import requests
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
# One Alertmanager fixture for the repository: the one dashboards/tests already has.
sys.path.insert(0, str(ROOT / "dashboards" / "tests"))
from test_alertmanager import alertmanager  # noqa: E402,F401  (the fixture)

CONFIG = yaml.safe_load((ROOT / "alerts" / "alertmanager.yml").read_text())


def route(receiver):
    return next(r for r in CONFIG["route"]["routes"] if r["receiver"] == receiver)


def test_pages_are_grouped_per_alert_and_system():
    assert {"alertname", "system"} <= set(route("page")["group_by"])


def test_tickets_are_grouped_per_consumer_too():
    assert {"alertname", "system", "consumer"} <= set(route("ticket")["group_by"])


def test_two_throttled_consumers_of_one_system_are_two_tickets(alertmanager):  # noqa: F811
    tickets = [{"alertname": "FlightdeckConsumerThrottled", "severity": "ticket", "system": "s7", "consumer": name}
               for name in ("acme", "initech")]
    requests.post(f"{alertmanager}/api/v2/alerts", json=[{"labels": t} for t in tickets],
                  timeout=5).raise_for_status()
    groups = requests.get(f"{alertmanager}/api/v2/alerts/groups", timeout=5).json()
    consumers = [g["labels"].get("consumer") for g in groups
                 if g["labels"].get("alertname") == "FlightdeckConsumerThrottled"]
    assert sorted(consumers) == ["acme", "initech"], groups


def test_the_watchdog_has_its_own_route_first_and_repeats_every_few_minutes():
    first = CONFIG["route"]["routes"][0]
    assert first["receiver"] == "watchdog" and first["matchers"] == ['alertname="Watchdog"']
    assert first["repeat_interval"] in {"1m", "2m", "5m"}


# (alert labels, inhibited?) posted together: the sources and what they must or must not silence.
CASES = [
    ({"alertname": "FlightdeckJobDown", "severity": "page", "system": "s1", "job": "flightdeck-ingest"}, False),
    # The ingest job being down explains the stall of its system, not of another one.
    ({"alertname": "FlightdeckIngestStalled", "severity": "page", "slo": "ingest-freshness", "system": "s1"}, True),
    ({"alertname": "FlightdeckIngestStalled", "severity": "page", "slo": "ingest-freshness", "system": "s2"}, False),
    # The api job gone (named with its system) silences that system's api tickets.
    ({"alertname": "FlightdeckTargetAbsent", "severity": "page", "system": "s3", "job": "flightdeck-api"}, False),
    ({"alertname": "FlightdeckDatabasePoolWaitHigh", "severity": "ticket", "system": "s3", "job": "flightdeck-api",
      "instance": "a3"}, True),
    ({"alertname": "FlightdeckIngestStalled", "severity": "page", "slo": "ingest-freshness", "system": "s3"}, False),
    ({"alertname": "Watchdog", "severity": "ticket"}, False),
    # The probe-freshness page (every probe timing out) explains the stale probe of its system.
    ({"alertname": "SLOBurnRatePage", "severity": "page", "slo": "probe-freshness", "system": "s8",
      "burn_window": "1h"}, False),
    ({"alertname": "FlightdeckProbeStale", "severity": "ticket", "slo": "probe-freshness", "system": "s8"}, True),
    ({"alertname": "FlightdeckProbeStale", "severity": "ticket", "slo": "probe-freshness", "system": "s9"}, False),
]

# Nothing scraped anywhere: every ticket is explained, the watchdog still is not silenced.
NOTHING_SCRAPED = [
    ({"alertname": "FlightdeckTargetAbsent", "severity": "page"}, False),
    ({"alertname": "SLOBurnRateTicket", "severity": "ticket", "slo": "api-latency", "system": "s4"}, True),
    ({"alertname": "FlightdeckDeadLetterRateHigh", "severity": "ticket", "system": "s5"}, True),
    ({"alertname": "Watchdog", "severity": "ticket"}, False),
]


def inhibited_states(url, cases):
    requests.post(f"{url}/api/v2/alerts", json=[{"labels": labels} for labels, _ in cases], timeout=5).raise_for_status()
    alerts = requests.get(f"{url}/api/v2/alerts", timeout=5).json()
    return {frozenset(a["labels"].items()): bool(a["status"]["inhibitedBy"]) for a in alerts}


def test_inhibitions_match_the_labels_the_rules_produce(alertmanager):  # noqa: F811
    states = inhibited_states(alertmanager, CASES)
    wrong = [(labels, expected) for labels, expected in CASES if states[frozenset(labels.items())] != expected]
    assert not wrong, f"(alert, expected inhibited) pairs that disagree: {wrong}"
    states = inhibited_states(alertmanager, NOTHING_SCRAPED)
    wrong = [(labels, expected) for labels, expected in NOTHING_SCRAPED
             if states[frozenset(labels.items())] != expected]
    assert not wrong, f"(alert, expected inhibited) pairs that disagree: {wrong}"
