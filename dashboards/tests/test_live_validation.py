"""Live validation: every dashboard query and every rule, evaluated on real data.

Starts the real pipeline on a fresh database and fresh Pub/Sub names (pubsub-setup, migrate,
ingest, serve, a publisher at 200 events/s with 2% poison messages), drives API traffic that
includes 400s and 404s, and a real Prometheus that scrapes both metrics ports every second with
the `system` label and loads every rule file (alerts/rules and slo/_gen). Then:

- every loaded rule evaluates with health "ok";
- every query of every dashboard, variables substituted, evaluates without error and returns a
  finite value, except the panels declared incident-only and the queries of metrics declared not
  yet exported (NOT_YET_EXPORTED, while app/src/telemetry/metrics.rs does not register them),
  which must evaluate cleanly; queries of panels marked Google Cloud only are skipped, each with
  its reason in the report (the local Prometheus has no Cloud Monitoring metrics);
- no symptom alert is pending or firing on this healthy traffic.

Needs the debug binary (cargo build -p flightdeck), prometheus (scripts/install-prometheus.sh),
PostgreSQL and the Pub/Sub emulator (scripts/services.sh starts them). About a minute.
"""

import json
import math
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import uuid
import warnings
from collections import Counter

import pytest
import requests
import yaml

from conftest import (
    BUILTIN_VARIABLES, CLOUD_MARKER, NOT_YET_EXPORTED, ROOT, SLO_RULES, cloud_only_panels, is_incident_only,
    panel_queries, pending_metrics_in, rule_files, slo_rules_present, sources, substitute, uses_cloud_metric,
)

pytestmark = pytest.mark.live

SYSTEM = "flightdeck-local"
PROJECT = "flightdeck-local"
# Seconds of traffic before queries are evaluated: $__rate_interval (30s) plus a few scrapes.
WARM_UP = 36
BINARY = pathlib.Path(os.environ.get(
    "FLIGHTDECK_BIN",
    pathlib.Path(os.environ.get("CARGO_TARGET_DIR", "/var/tmp/flightdeck-target")) / "debug" / "flightdeck"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def services_env():
    """Runs scripts/services.sh (PostgreSQL and the emulator) and returns the variables it exports."""
    out = subprocess.run(["bash", str(ROOT / "scripts" / "services.sh")], check=True, capture_output=True,
                         text=True, timeout=180).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = value.strip("'\"")
    return env


class Processes:
    """Processes started by the test, each in its own session, stopped in reverse order."""

    def __init__(self, logs: pathlib.Path):
        self.logs = logs
        self.running = []

    def start(self, name, args, env):
        log = (self.logs / f"{name}.log").open("w")
        process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.running.append((name, process, log))
        return process

    def log_of(self, name):
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def wait_for_listening(self, name, timeout=30):
        """The addresses a `serve`/`ingest` process logged in its "listening" line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_of(name).splitlines():
                if '"listening"' in line:
                    fields = json.loads(line)
                    return fields["http_addr"], fields["metrics_addr"]
            process = next(p for n, p, _ in self.running if n == name)
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}:\n{self.log_of(name)[-3000:]}")
            time.sleep(0.1)
        pytest.fail(f"{name} logged no listening line within {timeout}s:\n{self.log_of(name)[-3000:]}")

    def stop(self, name):
        for n, process, log in self.running:
            if n == name and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                log.close()

    def stop_all(self):
        for name, _, _ in reversed(self.running):
            self.stop(name)


def run(args, env, timeout=60):
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}"


def psql(admin_url, sql):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", admin_url, "-c", sql], check=True,
                   capture_output=True, text=True, timeout=60)


class Traffic(threading.Thread):
    """Calls the API until stopped: lists (repeated, so the micro-cache hits), stats, known and
    unknown flights (404), a bad parameter (400), an unknown path, health and OpenAPI."""

    def __init__(self, base):
        super().__init__(daemon=True)
        self.base = base
        self.stopped = threading.Event()
        self.statuses = Counter()

    def run(self):
        session = requests.Session()
        flight = None
        while not self.stopped.is_set():
            paths = ["/v1/events?limit=5", "/v1/events?limit=5", "/v1/events?limit=5&status=departed",
                     "/v1/stats/delays", "/v1/stats/delays", "/v1/events?limit=0", "/v1/flights/NO-SUCH-FLIGHT",
                     "/v1/nope", "/healthz", "/readyz", "/openapi.json"]
            if flight:
                paths.append(f"/v1/flights/{urllib.parse.quote(flight)}")
            for path in paths:
                try:
                    response = session.get(self.base + path, timeout=5)
                except requests.RequestException:
                    self.statuses["error"] += 1
                    continue
                self.statuses[response.status_code] += 1
                if path.startswith("/v1/events?limit=5") and response.ok:
                    items = response.json()["items"]
                    flight = items[0]["flight_id"] if items else flight
            self.stopped.wait(0.05)


class Prometheus:
    def __init__(self, url):
        self.url = url

    def query(self, expr):
        response = requests.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body = response.json()
        assert response.ok and body["status"] == "success", f"{expr}\n-> {response.status_code} {body}"
        return body["data"]

    def finite(self, expr):
        """Whether expr returns at least one finite sample."""
        data = self.query(expr)
        if data["resultType"] == "scalar":
            return math.isfinite(float(data["result"][1]))
        return any(math.isfinite(float(s["value"][1])) for s in data["result"])

    def rules(self):
        body = requests.get(f"{self.url}/api/v1/rules", timeout=10).json()
        return [r for g in body["data"]["groups"] for r in g["rules"]]


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
           "LOG_FORMAT": "json", "RUST_LOG": "info"}
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)  # no collector here: traces have their own test

    processes = Processes(tmp)
    traffic = None
    psql(admin_url, f'CREATE DATABASE "{database}"')
    try:
        run([BINARY, "pubsub-setup"], env)
        run([BINARY, "migrate"], env)
        processes.start("ingest", [BINARY, "ingest"], env)
        processes.start("serve", [BINARY, "serve"], env)
        _, ingest_metrics = processes.wait_for_listening("ingest")
        api_http, api_metrics = processes.wait_for_listening("serve")

        port = free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(path) for path in rule_files()],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": [target], "labels": {"system": SYSTEM}}]}
                for job, target in (("flightdeck-api", api_metrics), ("flightdeck-ingest", ingest_metrics))
            ],
        }
        (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
        processes.start("prometheus", [prometheus_bin, f"--config.file={tmp / 'prometheus.yml'}",
                                       f"--storage.tsdb.path={tmp / 'tsdb'}",
                                       f"--web.listen-address=127.0.0.1:{port}"], env)
        prometheus = Prometheus(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{prometheus.url}/-/ready", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"prometheus did not start:\n{processes.log_of('prometheus')[-3000:]}")
            time.sleep(0.2)

        processes.start("publish", [BINARY, "publish", "--rate", "200", "--invalid-ratio", "0.02"], env)
        traffic = Traffic(f"http://{api_http}")
        traffic.start()
        started = time.monotonic()
        time.sleep(WARM_UP)
        # The slowest signals: both targets up, and lag observed (events published and stored).
        for expr in ('count(up{job=~"flightdeck-api|flightdeck-ingest"} == 1) == 2',
                     "sum(rate(flightdeck_ingest_lag_seconds_count[30s])) > 0"):
            while not prometheus.finite(expr):
                if time.monotonic() - started > WARM_UP + 30:
                    pytest.fail(f"no data for {expr} after {WARM_UP + 30}s; logs in {tmp}")
                time.sleep(1)
        yield prometheus, traffic
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
    _, traffic = live
    assert traffic.statuses[200] > 50 and traffic.statuses[400] > 5 and traffic.statuses[404] > 5, traffic.statuses


def test_every_rule_file_is_loaded_and_every_rule_is_healthy(live):
    prometheus, _ = live
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
    prometheus, _ = live
    assert prometheus.query('ALERTS{alertname=~"Flightdeck.*"}')["result"] == []


QUERIES = panel_queries()
CLOUD_ONLY = cloud_only_panels()
EXPORTED = sources.exported_metrics()


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
    prometheus, _ = live
    if "slo:" in expr and not slo_rules_present():
        pytest.skip(f"{SLO_RULES} does not exist yet")
    reason = cloud_skip_reason(uid, title, expr)
    if reason:
        pytest.skip(reason)
    query = substitute(expr, {**BUILTIN_VARIABLES, "system": SYSTEM})
    pending = pending_metrics_in(expr, EXPORTED)
    if is_incident_only(uid, title):
        prometheus.query(query)  # must evaluate; empty is expected while healthy
    elif pending:
        # Must evaluate; data is required once app/src/telemetry/metrics.rs registers the metric.
        prometheus.query(query)
        warnings.warn(f"{uid}:{title}: not required to return data: "
                      + "; ".join(f"{m}: {NOT_YET_EXPORTED[m]}" for m in pending))
    else:
        assert prometheus.finite(query), f"no finite value for {query}"
