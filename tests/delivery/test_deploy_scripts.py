"""Behaviour of the scripts cd.yml and ci.yml run, against a fake gcloud and a local HTTP server.

The fake gcloud records its arguments and plays Pub/Sub and Cloud Run; the local server plays the
tagged API revision and the Cloud Monitoring API. Everything stays on 127.0.0.1.
"""

import json
import os
import pathlib
import subprocess
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import ROOT

SCRIPTS = ROOT / ".github" / "scripts"

FAKE_GCLOUD = r"""#!/usr/bin/env bash
# Test double for gcloud: logs each call; publish stores the message where the fake API reads it.
printf '%s\n' "$*" >> "$FAKE_DIR/calls"
case "$*" in
  "pubsub topics publish"*)
    for arg in "$@"; do case "$prev" in --message) printf '%s' "$arg" > "$FAKE_DIR/published";; esac; prev="$arg"; done
    echo "messageIds: ['1']" ;;
  "auth print-access-token") echo "access-token" ;;
  "run services describe"*) cat "$FAKE_DIR/describe.json" ;;
  *) exit 0 ;;
esac
"""


class FakeCloud:
    """The tagged API revision plus Cloud Monitoring, on an ephemeral loopback port."""

    def __init__(self, tmp: pathlib.Path):
        self.tmp = tmp
        self.flight_polls = 0
        self.serve_after_polls = 2
        self.fail_paths = set()
        self.request_counts = {"2xx": 120, "5xx": 0}
        self.monitoring_queries = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                if url.path.startswith("/v3/projects/"):
                    fake.monitoring_queries.append(urllib.parse.parse_qs(url.query))
                    series = [{"metric": {"labels": {"response_code_class": k}},
                               "points": [{"value": {"int64Value": str(v)}}]} for k, v in fake.request_counts.items()]
                    return self.reply(200, json.dumps({"timeSeries": series}))
                if self.headers.get("Authorization") != "Bearer id-token":
                    return self.reply(401, "no token")
                if url.path in fake.fail_paths:
                    return self.reply(503, "down")
                if url.path.startswith("/v1/flights/"):
                    fake.flight_polls += 1
                    published = fake.tmp / "published"
                    if published.exists() and fake.flight_polls > fake.serve_after_polls:
                        event = json.loads(published.read_text())
                        if url.path.endswith("/" + event["flight_id"]):
                            return self.reply(200, json.dumps({"flight_id": event["flight_id"], "events": [event]}))
                    return self.reply(404, "{}")
                return self.reply(200, "{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cloud(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gcloud = bin_dir / "gcloud"
    gcloud.write_text(FAKE_GCLOUD)
    gcloud.chmod(0o755)
    fake = FakeCloud(tmp_path)
    yield fake
    fake.close()


def run(script, cloud, *args, **env):
    base = {
        "PATH": f"{cloud.tmp / 'bin'}:{os.environ['PATH']}",
        "FAKE_DIR": str(cloud.tmp),
        "API_URL": cloud.url,
        "ID_TOKEN": "id-token",
        "PROJECT_ID": "flightdeck-test",
        "TOPIC": "flight-events",
        "REGION": "southamerica-west1",
        "POLL_INTERVAL_SECONDS": "0.1",
        "PROBE_INTERVAL_SECONDS": "0.1",
        "MONITORING_API": cloud.url,
        "GITHUB_RUN_ID": "42",
        "GITHUB_RUN_ATTEMPT": "1",
    }
    base.update(env)
    return subprocess.run([str(SCRIPTS / script), *args], env=base, capture_output=True, text=True, timeout=60)


def calls(cloud):
    path = cloud.tmp / "calls"
    return path.read_text().splitlines() if path.exists() else []


def test_post_deploy_check_publishes_a_unique_event_and_waits_until_the_api_serves_it(cloud):
    result = run("post-deploy-check.sh", cloud, CHECK_TIMEOUT_SECONDS="20")
    assert result.returncode == 0, result.stderr
    event = json.loads((cloud.tmp / "published").read_text())
    assert event["flight_id"] == "CD-42-1"
    assert len(event["event_id"]) == 36
    publish = [c for c in calls(cloud) if c.startswith("pubsub topics publish")]
    assert len(publish) == 1
    assert "flight-events --project flightdeck-test" in publish[0]
    assert "--attribute schema_version=1" in publish[0]
    assert cloud.flight_polls > cloud.serve_after_polls


def test_post_deploy_check_fails_when_the_event_never_shows_up(cloud):
    cloud.serve_after_polls = 10**9
    result = run("post-deploy-check.sh", cloud, CHECK_TIMEOUT_SECONDS="1")
    assert result.returncode == 1
    assert "was not served within 1s" in result.stderr


def test_post_deploy_check_fails_fast_when_the_revision_is_not_ready(cloud):
    cloud.fail_paths = {"/readyz"}
    result = run("post-deploy-check.sh", cloud, CHECK_TIMEOUT_SECONDS="20")
    assert result.returncode == 1
    assert "GET /readyz answered 503" in result.stderr
    assert not any(c.startswith("pubsub") for c in calls(cloud))


def test_post_deploy_check_sends_the_identity_token(cloud):
    result = run("post-deploy-check.sh", cloud, ID_TOKEN="wrong", CHECK_TIMEOUT_SECONDS="1")
    assert result.returncode == 1
    assert "answered 401" in result.stderr


def test_canary_check_passes_when_probes_succeed_and_5xx_ratio_is_low(cloud):
    cloud.request_counts = {"2xx": 995, "5xx": 5}
    result = run("canary-check.sh", cloud, CANARY_SECONDS="1", MAX_5XX_RATIO="0.01", REVISION="flightdeck-api-00002")
    assert result.returncode == 0, result.stderr
    query = cloud.monitoring_queries[0]
    assert 'resource.labels.revision_name="flightdeck-api-00002"' in query["filter"][0]
    assert query["aggregation.groupByFields"] == ["metric.labels.response_code_class"]
    assert "1000 requests" in result.stderr


def test_canary_check_fails_when_the_5xx_ratio_is_above_the_limit(cloud):
    cloud.request_counts = {"2xx": 90, "5xx": 10}
    result = run("canary-check.sh", cloud, CANARY_SECONDS="1", MAX_5XX_RATIO="0.01", REVISION="r")
    assert result.returncode == 1
    assert "5xx ratio above 0.01" in result.stderr


def test_canary_check_fails_when_a_probe_fails(cloud):
    cloud.fail_paths = {"/v1/stats/delays"}
    result = run("canary-check.sh", cloud, CANARY_SECONDS="1", REVISION="r")
    assert result.returncode == 1
    assert "GET /v1/stats/delays answered 503" in result.stderr
    assert cloud.monitoring_queries == []


def write_describe(cloud, traffic):
    (cloud.tmp / "describe.json").write_text(json.dumps(
        {"status": {"url": "https://flightdeck-api-abc.a.run.app", "traffic": traffic}}))


def test_cloudrun_deploy_tagged_deploys_without_traffic_and_reports_the_tag_url(cloud):
    write_describe(cloud, [
        {"revisionName": "flightdeck-api-00001", "percent": 100},
        {"revisionName": "flightdeck-api-00002", "tag": "sha-abc", "url": "https://sha-abc---flightdeck-api-abc.a.run.app"},
    ])
    result = run("cloudrun.sh", cloud, "deploy-tagged", "flightdeck-api", "reg/flightdeck@sha256:00", "sha-abc")
    assert result.returncode == 0, result.stderr
    outputs = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert outputs == {
        "tag": "sha-abc",
        "tag_url": "https://sha-abc---flightdeck-api-abc.a.run.app",
        "service_url": "https://flightdeck-api-abc.a.run.app",
        "revision": "flightdeck-api-00002",
    }
    deploy = next(c for c in calls(cloud) if c.startswith("run deploy"))
    assert "--no-traffic --tag sha-abc" in deploy and "--image reg/flightdeck@sha256:00" in deploy


def test_cloudrun_deploy_tagged_fails_when_the_tag_is_missing(cloud):
    write_describe(cloud, [{"revisionName": "flightdeck-api-00001", "percent": 100}])
    result = run("cloudrun.sh", cloud, "deploy-tagged", "flightdeck-api", "img", "sha-abc")
    assert result.returncode == 1
    assert "no revision tagged sha-abc" in result.stderr


def test_cloudrun_serving_revision_and_rollback(cloud):
    write_describe(cloud, [
        {"revisionName": "flightdeck-api-00007", "percent": 100},
        {"revisionName": "flightdeck-api-00008", "percent": 0, "tag": "sha-x"},
    ])
    serving = run("cloudrun.sh", cloud, "serving-revision", "flightdeck-api")
    assert serving.stdout.strip() == "flightdeck-api-00007"
    rollback = run("cloudrun.sh", cloud, "rollback", "flightdeck-api", "flightdeck-api-00007")
    assert rollback.returncode == 0
    assert any("update-traffic flightdeck-api" in c and "--to-revisions flightdeck-api-00007=100" in c
               for c in calls(cloud))


def test_cloudrun_rollback_without_a_previous_revision_changes_nothing(cloud):
    result = run("cloudrun.sh", cloud, "rollback", "flightdeck-api", "")
    assert result.returncode == 0
    assert calls(cloud) == []


def test_make_if_defined_runs_defined_targets_and_warns_on_missing_ones(tmp_path):
    (tmp_path / "Makefile").write_text("present:\n\t@echo ran-present\nbroken:\n\t@exit 3\n")
    script = str(SCRIPTS / "make-if-defined.sh")
    present = subprocess.run([script, "present"], cwd=tmp_path, capture_output=True, text=True)
    assert present.returncode == 0 and "ran-present" in present.stdout
    broken = subprocess.run([script, "broken"], cwd=tmp_path, capture_output=True, text=True)
    assert broken.returncode != 0, "a defined target that fails must fail the step"
    missing = subprocess.run([script, "absent"], cwd=tmp_path, capture_output=True, text=True)
    assert missing.returncode == 0
    assert "::warning title=make absent::" in missing.stdout
