"""The real pipeline and a real Prometheus, started from the debug binary: the helpers shared by the
live validation (test_live_validation.py) and the fleet run (scripts/fleet.py).
"""

import json
import math
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from collections import Counter

import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get(
    "FLIGHTDECK_BIN",
    pathlib.Path(os.environ.get("CARGO_TARGET_DIR", "/var/tmp/flightdeck-target")) / "debug" / "flightdeck"))


class PipelineError(RuntimeError):
    """A process of the pipeline did not start or exited; the message carries the end of its log."""


def fail(message):
    raise PipelineError(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def services_env(env=None):
    """Runs scripts/services.sh (PostgreSQL and the emulator) and returns the variables it exports."""
    out = subprocess.run(["bash", str(ROOT / "scripts" / "services.sh")], check=True, capture_output=True,
                         text=True, timeout=180, env=env).stdout
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
                fail(f"{name} exited with {process.returncode}:\n{self.log_of(name)[-3000:]}")
            time.sleep(0.1)
        fail(f"{name} logged no listening line within {timeout}s:\n{self.log_of(name)[-3000:]}")

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
    unknown flights (404), a bad parameter (400), an unknown path, health and OpenAPI. With
    `api_key`, every call presents it and one call a round presents none (401, `_anonymous`)."""

    def __init__(self, base, pause=0.05, api_key=None):
        super().__init__(daemon=True)
        self.base = base
        self.pause = pause
        self.api_key = api_key
        self.stopped = threading.Event()
        self.statuses = Counter()

    def run(self):
        session = requests.Session()
        if self.api_key:
            session.headers["Authorization"] = f"Bearer {self.api_key}"
        keyless = requests.Session()
        flight = None
        while not self.stopped.is_set():
            paths = ["/v1/events?limit=5", "/v1/events?limit=5", "/v1/events?limit=5&status=departed",
                     "/v1/stats/delays", "/v1/stats/delays", "/v1/events?limit=0", "/v1/flights/NO-SUCH-FLIGHT",
                     "/v1/nope", "/healthz", "/readyz", "/openapi.json"]
            if flight:
                paths.append(f"/v1/flights/{urllib.parse.quote(flight)}")
            calls = [(session, path) for path in paths]
            if self.api_key:
                calls.append((keyless, "/v1/events?limit=1"))
            for client, path in calls:
                try:
                    response = client.get(self.base + path, timeout=5)
                except requests.RequestException:
                    self.statuses["error"] += 1
                    continue
                self.statuses[response.status_code] += 1
                if client is session and path.startswith("/v1/events?limit=5") and response.ok:
                    items = response.json()["items"]
                    flight = items[0]["flight_id"] if items else flight
            self.stopped.wait(self.pause)


def create_api_key(binary, env, name):
    """A consumer key with a quota no test reaches (`flightdeck apikey create` prints it last)."""
    result = subprocess.run([binary, "apikey", "create", "--name", name, "--rate", "100000", "--burst", "100000"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"apikey create failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout.strip().splitlines()[-1]


def wait_keys_loaded(metrics_address, timeout=15):
    """Until that serve has loaded its API keys (flightdeck_api_keys_active above zero)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            text = requests.get(f"http://{metrics_address}/metrics", timeout=2).text
        except requests.RequestException:
            text = ""
        for line in text.splitlines():
            if line.startswith("flightdeck_api_keys_active") and float(line.rsplit(" ", 1)[1]) > 0:
                return
        time.sleep(0.1)
    fail(f"serve at {metrics_address} loaded no API key within {timeout}s")


def exposed_metrics(address):
    """Metric names a flightdeck metrics listener exposes now (histograms by their base name too)."""
    text = requests.get(f"http://{address}/metrics", timeout=10).text
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
        elif line and not line.startswith("#"):
            names.add(line.split("{", 1)[0].split(" ", 1)[0])
    return names


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

    def wait_ready(self, process_log, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"{self.url}/-/ready", timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                fail(f"prometheus did not start:\n{process_log()[-3000:]}")
            time.sleep(0.2)
