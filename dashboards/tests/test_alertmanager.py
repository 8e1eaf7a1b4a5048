"""alerts/alertmanager.yml inhibits what it says it does, checked on a real Alertmanager.

`amtool check-config` proves the file loads and alerts/tests/alertmanager-routes.txt the routing;
inhibition can only be seen on a running Alertmanager: alerts are posted through its API and
the ones it reports as inhibited are compared with what the runbooks promise.
"""

import shutil
import socket
import subprocess
import time

import pytest
import requests

from conftest import ROOT

CONFIG = ROOT / "alerts" / "alertmanager.yml"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory):
    binary = shutil.which("alertmanager") or shutil.which("prometheus-alertmanager")
    if not binary:
        pytest.fail("alertmanager is not installed: run scripts/install-prometheus.sh")
    port = free_port()
    process = subprocess.Popen(
        [binary, f"--config.file={CONFIG}", f"--storage.path={tmp_path_factory.mktemp('alertmanager')}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"{url}/-/ready", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"alertmanager did not start: {process.stderr.read() if process.poll() is not None else 'timeout'}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


SOURCES = [
    {"alertname": "SLOBurnRatePage", "severity": "page", "slo": "api-availability", "system": "s1"},
    {"alertname": "FlightdeckIngestStalled", "severity": "page", "slo": "ingest-freshness", "system": "s1"},
    {"alertname": "FlightdeckJobDown", "severity": "page", "system": "s1", "job": "flightdeck-ingest"},
]
# (labels of a ticket, inhibited?)
TICKETS = [
    ({"alertname": "SLOBurnRateTicket", "severity": "ticket", "slo": "api-availability", "system": "s1"}, True),
    ({"alertname": "SLOBurnRateTicket", "severity": "ticket", "slo": "api-availability", "system": "s2"}, False),
    ({"alertname": "SLOBurnRateTicket", "severity": "ticket", "slo": "api-latency", "system": "s1"}, False),
    ({"alertname": "FlightdeckIngestLagHigh", "severity": "ticket", "slo": "ingest-freshness", "system": "s1"}, True),
    ({"alertname": "SLOBurnRateTicket", "severity": "ticket", "slo": "ingest-freshness", "system": "s1"}, True),
    ({"alertname": "FlightdeckTargetDown", "severity": "ticket", "system": "s1", "job": "flightdeck-ingest",
      "instance": "i1"}, True),
    ({"alertname": "FlightdeckDatabasePoolSaturated", "severity": "ticket", "system": "s1", "job": "flightdeck-ingest",
      "instance": "i1"}, True),
    ({"alertname": "FlightdeckDatabasePoolSaturated", "severity": "ticket", "system": "s1", "job": "flightdeck-api",
      "instance": "a1"}, False),
    ({"alertname": "FlightdeckDeadLetterRateHigh", "severity": "ticket", "system": "s1"}, False),
]


def test_a_page_silences_the_tickets_it_explains_and_only_those(alertmanager):
    posted = [{"labels": labels} for labels in SOURCES + [t for t, _ in TICKETS]]
    requests.post(f"{alertmanager}/api/v2/alerts", json=posted, timeout=5).raise_for_status()
    alerts = requests.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
    inhibited = {frozenset(a["labels"].items()): bool(a["status"]["inhibitedBy"]) for a in alerts}
    assert len(inhibited) == len(posted)
    # A page is never inhibited, except the stall that FlightdeckJobDown of the ingest job explains
    # (alerts/alertmanager.yml; alerts/tests/test_alertmanager_rules.py covers that inhibition).
    for labels in SOURCES:
        explained = labels["alertname"] == "FlightdeckIngestStalled"
        assert inhibited[frozenset(labels.items())] == explained, f"page inhibited or not, wrongly: {labels}"
    wrong = [(labels, expected) for labels, expected in TICKETS if inhibited[frozenset(labels.items())] != expected]
    assert not wrong, f"(ticket, expected inhibited) pairs that disagree: {wrong}"
