"""Live validation: every dashboard query and every rule, evaluated on real data.

Starts the real pipeline on a fresh database and fresh Pub/Sub names (pubsub-setup, migrate,
ingest, serve, a publisher at 200 events/s with 2% poison messages, the black-box probe every
second), drives API traffic with an API key (400s and 404s included) and without one (401s), and
a real Prometheus that scrapes the three metrics ports every second with the `system` label and
loads every rule file (alerts/rules and slo/_gen). Then:

- every loaded rule evaluates with health "ok";
- every query of every dashboard, variables substituted, evaluates without error and returns a
  finite value, except the panels declared incident-only and the queries of metrics declared not
  yet exported (NOT_YET_EXPORTED) that the running processes do not expose, which must evaluate
  cleanly; queries of panels marked Google Cloud only are skipped, each with
  its reason in the report (the local Prometheus has no Cloud Monitoring metrics);
- no symptom alert is pending or firing on this healthy traffic.

Needs the debug binary (cargo build -p flightdeck), prometheus (scripts/install-prometheus.sh),
PostgreSQL and the Pub/Sub emulator (scripts/services.sh starts them). About a minute.
"""

import os
import shutil
import time
import urllib.parse
import uuid
import warnings

import pytest
import requests
import yaml

from conftest import (
    BUILTIN_VARIABLES, CLOUD_MARKER, NOT_YET_EXPORTED, SLO_RULES, cloud_only_panels, is_incident_only,
    panel_queries, pending_metrics_in, rule_files, slo_rules_present, substitute, uses_cloud_metric,
)
from pipeline import (
    BINARY, Processes, Prometheus, Traffic, create_api_key, exposed_metrics, free_port, psql, run, services_env,
    wait_keys_loaded,
)

pytestmark = pytest.mark.live

SYSTEM = "flightdeck-local"
PROJECT = "flightdeck-local"
# Seconds of traffic before queries are evaluated: $__rate_interval (30s) plus a few scrapes.
WARM_UP = 36
# The dashboards' own variables as a viewer leaves them: this system, every consumer.
DASHBOARD_VARIABLES = {"system": SYSTEM, "consumer": ".*"}
# Every run of the probe is in each 30s rate window several times over (production: 10 s).
PROBE_INTERVAL_MS = "1000"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    if not BINARY.is_file():
        pytest.fail(f"{BINARY} is missing: run 'cargo build -p flightdeck' first")
    prometheus_bin = shutil.which("prometheus")
    if not prometheus_bin:
        pytest.fail("prometheus is not installed: run scripts/install-prometheus.sh")
    if not shutil.which("psql"):
        pytest.fail("psql is not installed: apt-get install postgresql-client")

    tmp = tmp_path_factory.mktemp("live")
    services = services_env()
    admin_url = services["TEST_DATABASE_URL"]
    run_id = uuid.uuid4().hex[:10]
    database = f"flightdeck_obs_{run_id}"
    names = {"PUBSUB_TOPIC": f"obs-{run_id}-events", "PUBSUB_SUBSCRIPTION": f"obs-{run_id}-ingest",
             "PUBSUB_DLQ_TOPIC": f"obs-{run_id}-dlq"}
    env = {**os.environ, **services, **names,
           "DATABASE_URL": urllib.parse.urlparse(admin_url)._replace(path=f"/{database}").geturl(),
           "GOOGLE_CLOUD_PROJECT": PROJECT, "PORT": "0", "METRICS_PORT": "0", "HOST": "127.0.0.1",
           "LOG_FORMAT": "json", "RUST_LOG": "info", "API_KEYS_REFRESH_MS": "500"}
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)  # no collector here: traces have their own test

    processes = Processes(tmp)
    traffic = None
    psql(admin_url, f'CREATE DATABASE "{database}"')
    try:
        run([BINARY, "pubsub-setup"], env)
        run([BINARY, "migrate"], env)
        # One consumer for the traffic and the probe; keyless calls are the `_anonymous` consumer.
        api_key = create_api_key(BINARY, env, "live-validation")
        processes.start("ingest", [BINARY, "ingest"], env)
        processes.start("serve", [BINARY, "serve"], env)
        _, ingest_metrics = processes.wait_for_listening("ingest")
        api_http, api_metrics = processes.wait_for_listening("serve")
        wait_keys_loaded(api_metrics)
        processes.start("probe", [BINARY, "probe"],
                        {**env, "PROBE_API_URL": f"http://{api_http}", "PROBE_INTERVAL_MS": PROBE_INTERVAL_MS,
                         "PROBE_API_KEY": api_key})
        _, probe_metrics = processes.wait_for_listening("probe")

        port = free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(path) for path in rule_files()],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": [target], "labels": {"system": SYSTEM}}]}
                for job, target in (("flightdeck-api", api_metrics), ("flightdeck-ingest", ingest_metrics),
                                    ("flightdeck-probe", probe_metrics))
            ],
        }
        (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
        processes.start("prometheus", [prometheus_bin, f"--config.file={tmp / 'prometheus.yml'}",
                                       f"--storage.tsdb.path={tmp / 'tsdb'}",
                                       f"--web.listen-address=127.0.0.1:{port}"], env)
        prometheus = Prometheus(f"http://127.0.0.1:{port}")
        prometheus.wait_ready(lambda: processes.log_of("prometheus"))

        processes.start("publish", [BINARY, "publish", "--rate", "200", "--invalid-ratio", "0.02"], env)
        traffic = Traffic(f"http://{api_http}", api_key=api_key)
        traffic.start()
        started = time.monotonic()
        time.sleep(WARM_UP)
        # The slowest signals: the three targets up, lag observed (events published and stored) and
        # probes read back through the API.
        for expr in ('count(up{job=~"flightdeck-api|flightdeck-ingest|flightdeck-probe"} == 1) == 3',
                     "sum(rate(flightdeck_ingest_lag_seconds_count[30s])) > 0",
                     "sum(rate(flightdeck_probe_freshness_seconds_count[30s])) > 0"):
            while not prometheus.finite(expr):
                if time.monotonic() - started > WARM_UP + 30:
                    pytest.fail(f"no data for {expr} after {WARM_UP + 30}s; logs in {tmp}")
                time.sleep(1)
        # What this build exposes: a declared not-yet-exported metric it exposes must have data.
        exposed = exposed_metrics(api_metrics) | exposed_metrics(ingest_metrics) | exposed_metrics(probe_metrics)
        yield prometheus, traffic, exposed
    finally:
        if traffic:
            traffic.stopped.set()
            traffic.join(timeout=10)
        processes.stop_all()
        psql(admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        emulator = f"http://{services['PUBSUB_EMULATOR_HOST']}/v1/projects/{PROJECT}"
        for kind, name in (("subscriptions", names["PUBSUB_SUBSCRIPTION"]), ("topics", names["PUBSUB_TOPIC"]),
                           ("topics", names["PUBSUB_DLQ_TOPIC"])):
            requests.delete(f"{emulator}/{kind}/{name}", timeout=10)


def test_traffic_included_client_errors(live):
    _, traffic, _ = live
    assert traffic.statuses[200] > 50 and traffic.statuses[400] > 5 and traffic.statuses[404] > 5, traffic.statuses
    assert traffic.statuses[401] > 5, traffic.statuses


def test_every_rule_file_is_loaded_and_every_rule_is_healthy(live):
    prometheus, _, _ = live
    expected = sum(len(group["rules"]) for path in rule_files()
                   for group in yaml.safe_load(path.read_text())["groups"])
    deadline = time.monotonic() + 10
    while any(r["health"] == "unknown" for r in prometheus.rules()) and time.monotonic() < deadline:
        time.sleep(0.5)
    rules = prometheus.rules()
    assert len(rules) == expected
    unhealthy = [(r["name"], r["health"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert not unhealthy


def test_no_symptom_alert_is_pending_or_firing_on_healthy_traffic(live):
    prometheus, _, _ = live
    assert prometheus.query('ALERTS{alertname=~"Flightdeck.*"}')["result"] == []


QUERIES = panel_queries()
CLOUD_ONLY = cloud_only_panels()


def cloud_skip_reason(uid, title, expr):
    """Why a query is not evaluated locally, or None. Only panels marked CLOUD_MARKER are skipped,
    and a marked panel must read a Cloud Monitoring metric: the marker cannot hide a local query."""
    if (uid, title) not in CLOUD_ONLY:
        assert not uses_cloud_metric(expr), f"{uid}:{title} reads a Cloud Monitoring metric without the marker"
        return None
    assert uses_cloud_metric(expr), f"{uid}:{title} is marked Google Cloud only but reads no Cloud metric"
    return f"Google Cloud only ({CLOUD_MARKER!r}): no Cloud Monitoring metrics in the local Prometheus"


@pytest.mark.parametrize("uid,title,ref,expr", QUERIES, ids=[f"{q[0]}:{q[1]}:{q[2]}" for q in QUERIES])
def test_dashboard_query_evaluates_and_returns_data(live, uid, title, ref, expr):
    prometheus, _, exposed = live
    if "slo:" in expr and not slo_rules_present():
        pytest.skip(f"{SLO_RULES} does not exist yet")
    reason = cloud_skip_reason(uid, title, expr)
    if reason:
        pytest.skip(reason)
    query = substitute(expr, {**BUILTIN_VARIABLES, **DASHBOARD_VARIABLES})
    pending = pending_metrics_in(expr, exposed)
    if is_incident_only(uid, title):
        prometheus.query(query)  # must evaluate; empty is expected while healthy
    elif pending:
        # Must evaluate; data is required as soon as the processes expose the metric.
        prometheus.query(query)
        warnings.warn(f"{uid}:{title}: not required to return data: "
                      + "; ".join(f"{m}: {NOT_YET_EXPORTED[m]}" for m in pending))
    else:
        assert prometheus.finite(query), f"no finite value for {query}"
