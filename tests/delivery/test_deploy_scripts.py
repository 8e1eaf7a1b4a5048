"""Behaviour of the scripts cd.yml and deploy.yml run, against fakes: a fake gcloud and cosign that
record their arguments and play Pub/Sub, Cloud Run, Secret Manager and Artifact Registry, and a
local HTTP server that plays the new API revision behind the edge's candidate host (answering from
the API's OpenAPI document, openapi_fake.py, and, like the app, refusing /v1/* without a valid API
key) and the Cloud Monitoring API. Everything stays on 127.0.0.1.
"""

import json
import os
import pathlib
import re
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import ROOT
from openapi_fake import OpenApiFake

SCRIPTS = ROOT / ".github" / "scripts"

FAKE_GCLOUD = r"""#!/usr/bin/env bash
# Test double for gcloud: logs each call; plays Pub/Sub, Cloud Run and Artifact Registry.
printf '%s\n' "$*" >> "$FAKE_DIR/calls"
case "$*" in
  "pubsub topics publish"*)
    for arg in "$@"; do
      case "$prev" in
        --message) printf '%s' "$arg" > "$FAKE_DIR/published" ;;
        --attribute) printf '%s' "$arg" > "$FAKE_DIR/attributes" ;;
      esac
      prev="$arg"
    done
    echo "messageIds: ['1']" ;;
  "auth print-access-token") echo "access-token" ;;
  "secrets versions access"*)
    if [[ -f "$FAKE_DIR/secret" ]]; then cat "$FAKE_DIR/secret"
    else echo "ERROR: (gcloud.secrets.versions.access) NOT_FOUND: Secret Version [latest] not found" >&2; exit 1; fi ;;
  "run services describe"*)
    if [[ -f "$FAKE_DIR/absent-$4" ]]; then
      echo "ERROR: (gcloud.run.services.describe) Cannot find service [$4]" >&2; exit 1
    elif [[ -f "$FAKE_DIR/describe-denied" ]]; then
      echo "ERROR: (gcloud.run.services.describe) PERMISSION_DENIED: run.services.get" >&2; exit 1
    elif [[ -f "$FAKE_DIR/describe-after-latest.json" ]] && grep -q -- "--to-latest" "$FAKE_DIR/calls"; then
      cat "$FAKE_DIR/describe-after-latest.json"
    elif [[ -f "$FAKE_DIR/describe-after-deploy.json" ]] && grep -q "^run deploy" "$FAKE_DIR/calls"; then
      cat "$FAKE_DIR/describe-after-deploy.json"
    else
      cat "$FAKE_DIR/describe.json"
    fi ;;
  "artifacts docker images describe"*)
    digest="$(jq -r --arg i "$5" '.[$i] // empty' "$FAKE_DIR/images.json")"
    if [[ -n "$digest" ]]; then echo "$digest"
    elif [[ -f "$FAKE_DIR/registry-down" ]]; then echo "ERROR: (gcloud.artifacts) PERMISSION_DENIED" >&2; exit 1
    else echo "ERROR: (gcloud.artifacts.docker.images.describe) NOT_FOUND: $5" >&2; exit 1; fi ;;
  "artifacts docker tags add"*)
    src="$5" dst="$6"
    jq --arg d "$dst" --arg v "${src##*@}" '.[$d] = $v' "$FAKE_DIR/images.json" > "$FAKE_DIR/images.tmp"
    mv "$FAKE_DIR/images.tmp" "$FAKE_DIR/images.json" ;;
  *) exit 0 ;;
esac
"""

FAKE_COSIGN = r"""#!/usr/bin/env bash
# Test double for cosign: verify succeeds when FAKE_DIR/verified lists the image; copy and tags.
printf 'cosign %s\n' "$*" >> "$FAKE_DIR/calls"
last="${@: -1}"
case "$1" in
  verify|verify-attestation) grep -qxF "$1 $last" "$FAKE_DIR/verified" 2>/dev/null ;;
  sign|attest) exit 0 ;;
  copy)
    jq --arg d "$3" --arg v "${2##*@}" '.[$d] = $v' "$FAKE_DIR/images.json" > "$FAKE_DIR/images.tmp"
    mv "$FAKE_DIR/images.tmp" "$FAKE_DIR/images.json" ;;
esac
"""


# The smoke-check key as `flightdeck apikey create` prints it: fdk_<12 hex>_<43 base64url>.
KEY = "fdk_0123456789ab_" + "k" * 43


class FakeCloud:
    """The new API revision behind the candidate host (from the OpenAPI document, /v1/* only with
    the API key, as the app) plus Cloud Monitoring, on loopback."""

    def __init__(self, tmp: pathlib.Path):
        self.tmp = tmp
        self.api = OpenApiFake()
        self.flight_polls = 0
        self.serve_after_polls = 2
        self.fail_paths = set()
        self.slow_paths = set()
        self.auth_off = False  # a revision that serves data without a key
        self.refuse_key = False  # a revision (or a revoked key) that refuses the smoke-check key
        self.requests = []
        self.keyless = []  # /v1/* requests that carried no key at all
        self.authorizations = set()  # every Authorization header the API saw
        self.invalid = []
        # One entry per Monitoring query; the last one repeats (metrics arrive late).
        self.request_counts = [{"2xx": 1000, "5xx": 0}]
        self.monitoring_queries = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                if url.path.startswith("/v3/projects/"):
                    fake.monitoring_queries.append(urllib.parse.parse_qs(url.query))
                    counts = fake.request_counts[min(len(fake.monitoring_queries), len(fake.request_counts)) - 1]
                    series = [{"metric": {"labels": {"response_code_class": k}},
                               "points": [{"value": {"int64Value": str(v)}}]} for k, v in counts.items()]
                    return self.reply(200, json.dumps({"timeSeries": series}))
                authorization, api_key = self.headers.get("Authorization"), self.headers.get("X-API-Key")
                if authorization:
                    fake.authorizations.add(authorization)
                if url.path.startswith("/v1/") and not fake.auth_off:
                    if authorization is None and api_key is None:
                        fake.keyless.append(self.path)
                        return self.reply(401, json.dumps({"status": 401, "detail": "an API key is required"}))
                    if fake.refuse_key or KEY not in (api_key, authorization and authorization.removeprefix("Bearer ")):
                        return self.reply(401, json.dumps({"status": 401, "detail": "invalid API key"}))
                fake.requests.append(self.path)
                if url.path in fake.slow_paths:
                    time.sleep(3)
                if url.path in fake.fail_paths:
                    return self.reply(503, "down")
                status, problems = fake.api.problems(self.path)
                if status != 200:
                    fake.invalid.append((self.path, status, problems))
                    return self.reply(status, json.dumps({"status": status, "detail": "; ".join(problems)}))
                if url.path.startswith("/v1/flights/"):
                    fake.flight_polls += 1
                    published = fake.tmp / "published"
                    if published.exists() and fake.flight_polls > fake.serve_after_polls:
                        event = json.loads(published.read_text())
                        if url.path.endswith("/" + event["flight_id"]):
                            return self.reply(200, json.dumps({"flight_id": event["flight_id"], "events": [event]}))
                    return self.reply(404, json.dumps({"status": 404}))
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
    for name, text in (("gcloud", FAKE_GCLOUD), ("cosign", FAKE_COSIGN)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (tmp_path / "images.json").write_text("{}")
    (tmp_path / "api-key").write_text(KEY)
    fake = FakeCloud(tmp_path)
    yield fake
    fake.close()


def run(script, cloud, *args, **env):
    base = {
        "PATH": f"{cloud.tmp / 'bin'}:{os.environ['PATH']}",
        "FAKE_DIR": str(cloud.tmp),
        "API_URL": cloud.url,
        "API_KEY_FILE": str(cloud.tmp / "api-key"),
        "PROJECT_ID": "flightdeck-test",
        "TOPIC": "flight-events",
        "REGION": "southamerica-west1",
        "POLL_INTERVAL_SECONDS": "0.1",
        "PROBE_INTERVAL_SECONDS": "0.1",
        "PROBE_TIMEOUT_SECONDS": "1",
        "METRICS_POLL_SECONDS": "0.1",
        "METRICS_WAIT_SECONDS": "2",
        "MIN_REQUESTS": "10",
        "MONITORING_API": cloud.url,
        "GITHUB_RUN_ID": "42",
        "GITHUB_RUN_ATTEMPT": "1",
        "SIGNER_IDENTITY_REGEXP": "^https://github.com/o/r/.github/workflows/cd.yml@refs/heads/develop$",
    }
    base.update(env)
    return subprocess.run([str(SCRIPTS / script), *args], env=base, capture_output=True, text=True, timeout=60)


def calls(cloud):
    path = cloud.tmp / "calls"
    return path.read_text().splitlines() if path.exists() else []


# --- post-deploy-check.sh: the deployment's synthetic probe -------------------------------------

def test_synthetic_probe_publishes_a_marked_event_and_waits_until_the_api_serves_it(cloud):
    result = run("post-deploy-check.sh", cloud, CHECK_TIMEOUT_SECONDS="20")
    assert result.returncode == 0, result.stderr
    event = json.loads((cloud.tmp / "published").read_text())
    assert re.fullmatch(r"PROBE-[0-9]{13}-42-1", event["flight_id"]), event["flight_id"]
    assert re.fullmatch(r"[A-Za-z0-9-]{1,64}", event["flight_id"])
    assert len(event["event_id"]) == 36
    attributes = dict(a.split("=", 1) for a in (cloud.tmp / "attributes").read_text().split(","))
    assert attributes == {"schema_version": "1", "synthetic": "true"}
    publish = [c for c in calls(cloud) if c.startswith("pubsub topics publish")]
    assert len(publish) == 1 and "flight-events --project flightdeck-test" in publish[0]
    assert cloud.flight_polls > cloud.serve_after_polls
    assert result.stdout.strip() == f"flight_id={event['flight_id']}", "the canary reads the same flight"
    assert cloud.invalid == [], f"the probe sent requests the API refuses: {cloud.invalid}"


def test_synthetic_probe_fails_when_the_event_never_shows_up(cloud):
    cloud.serve_after_polls = 10**9
    result = run("post-deploy-check.sh", cloud, CHECK_TIMEOUT_SECONDS="1")
    assert result.returncode == 1
    assert "was not served within 1s" in result.stderr


def test_synthetic_probe_fails_fast_when_the_revision_is_not_ready(cloud):
    cloud.fail_paths = {"/readyz"}
    result = run("post-deploy-check.sh", cloud, CHECK_TIMEOUT_SECONDS="20")
    assert result.returncode == 1
    assert "GET /readyz answered 503" in result.stderr
    assert not any(c.startswith("pubsub") for c in calls(cloud))


def test_synthetic_probe_sends_the_api_key_as_a_bearer_token(cloud):
    result = run("post-deploy-check.sh", cloud, CHECK_TIMEOUT_SECONDS="20")
    assert result.returncode == 0, result.stderr
    assert cloud.authorizations == {f"Bearer {KEY}"}, "the key, as a bearer token, and nothing else"
    assert KEY not in result.stdout + result.stderr, "the key must never reach the log"


def test_synthetic_probe_fails_fast_when_the_key_is_refused(cloud):
    (cloud.tmp / "api-key").write_text("fdk_0123456789ab_" + "x" * 43)
    result = run("post-deploy-check.sh", cloud, CHECK_TIMEOUT_SECONDS="20")
    assert result.returncode == 1
    assert "with the smoke-check key answered 401" in result.stderr and "revoked" in result.stderr
    assert not any(c.startswith("pubsub") for c in calls(cloud))


def test_synthetic_probe_says_what_to_check_when_the_candidate_host_does_not_answer(cloud):
    # No listener: what a missing A record or a certificate still PROVISIONING looks like to curl.
    result = run("post-deploy-check.sh", cloud, API_URL="http://127.0.0.1:9", CHECK_TIMEOUT_SECONDS="1")
    assert result.returncode == 1
    assert "GET /healthz answered 000" in result.stderr and "A record" in result.stderr
    assert not any(c.startswith("pubsub") for c in calls(cloud))


def test_synthetic_probe_checks_that_a_request_without_a_key_gets_401(cloud):
    result = run("post-deploy-check.sh", cloud, CHECK_TIMEOUT_SECONDS="20")
    assert result.returncode == 0, result.stderr
    assert cloud.keyless == ["/v1/events?limit=1"], "exactly one keyless data request, refused with 401"


def test_synthetic_probe_fails_when_the_new_revision_serves_data_without_a_key(cloud):
    cloud.auth_off = True
    result = run("post-deploy-check.sh", cloud, CHECK_TIMEOUT_SECONDS="20")
    assert result.returncode == 1
    assert "without an API key answered 200, expected 401" in result.stderr
    assert not any(c.startswith("pubsub") for c in calls(cloud)), "nothing is published for a revision without auth"


@pytest.mark.parametrize("script", ["post-deploy-check.sh", "canary-check.sh"])
def test_the_checks_refuse_a_run_app_url(cloud, script):
    """The API's ingress admits only the load balancer: a run.app URL cannot work from a runner."""
    result = run(script, cloud, API_URL="https://candidate---flightdeck-api-abc-tl.a.run.app",
                 CANARY_SECONDS="1", REVISION="r", CHECK_TIMEOUT_SECONDS="1")
    assert result.returncode == 1
    assert "run.app URL" in result.stderr and "candidate host of the load balancer" in result.stderr
    assert cloud.requests == [] and cloud.keyless == [] and calls(cloud) == []


@pytest.mark.parametrize("script", ["post-deploy-check.sh", "canary-check.sh"])
def test_the_key_never_goes_on_a_command_line(script):
    text = (SCRIPTS / script).read_text()
    assert '-H @"$header"' in text, "curl reads the Authorization header from a file"
    assert not re.search(r"-H\s+[\"']?Authorization: Bearer \$\{?API_KEY", text)
    assert "API_KEY_FILE" in text and "ID_TOKEN" not in text


# --- canary-check.sh -----------------------------------------------------------------------------

def test_canary_sends_only_requests_the_real_api_accepts(cloud):
    result = run("canary-check.sh", cloud, CANARY_SECONDS="1", REVISION="flightdeck-api-00002",
                 PROBE_FLIGHT_ID="PROBE-1700000000000-42-1")
    assert result.returncode == 0, result.stderr
    assert cloud.invalid == [], f"the canary sent requests the API refuses: {cloud.invalid}"
    probed = {cloud.api.match(urllib.parse.urlsplit(p).path)[0] for p in cloud.requests}
    assert {"/v1/events", "/v1/stats/delays", "/readyz"} <= probed
    query = cloud.monitoring_queries[0]
    assert 'resource.labels.revision_name="flightdeck-api-00002"' in query["filter"][0]
    assert query["aggregation.groupByFields"] == ["metric.labels.response_code_class"]


def test_canary_counts_a_4xx_as_no_failure(cloud):
    # An unknown flight is a 404 from the real API: logged, not a failure.
    result = run("canary-check.sh", cloud, CANARY_SECONDS="1", REVISION="r", PROBE_FLIGHT_ID="PROBE-unknown")
    assert result.returncode == 0, result.stderr
    assert "answered 404 (not counted" in result.stderr


def test_canary_fails_on_a_5xx(cloud):
    cloud.fail_paths = {"/v1/stats/delays"}
    result = run("canary-check.sh", cloud, CANARY_SECONDS="1", REVISION="r")
    assert result.returncode == 1
    assert "GET /v1/stats/delays?origin=SCL failed: 503" in result.stderr
    assert cloud.monitoring_queries == []


def test_canary_fails_when_the_new_revision_refuses_the_key(cloud):
    cloud.refuse_key = True
    result = run("canary-check.sh", cloud, CANARY_SECONDS="1", REVISION="r")
    assert result.returncode == 1
    assert "failed: 401 (the new revision refused the smoke-check key)" in result.stderr
    assert cloud.monitoring_queries == []


def test_canary_sends_the_api_key_and_never_logs_it(cloud):
    result = run("canary-check.sh", cloud, CANARY_SECONDS="1", REVISION="r")
    assert result.returncode == 0, result.stderr
    assert cloud.authorizations == {f"Bearer {KEY}"} and cloud.keyless == []
    assert KEY not in result.stdout + result.stderr


def test_canary_fails_on_a_timeout(cloud):
    cloud.slow_paths = {"/v1/events"}
    result = run("canary-check.sh", cloud, CANARY_SECONDS="1", REVISION="r")
    assert result.returncode == 1
    assert "failed: 000 (timeout or no answer)" in result.stderr


def test_canary_waits_for_late_metrics(cloud):
    cloud.request_counts = [{}, {"2xx": 3}, {"2xx": 995, "5xx": 5}]
    result = run("canary-check.sh", cloud, CANARY_SECONDS="1", MAX_5XX_RATIO="0.01", REVISION="r",
                 METRICS_WAIT_SECONDS="20")
    assert result.returncode == 0, result.stderr
    assert len(cloud.monitoring_queries) == 3
    assert "5 of 1000 requests were 5xx" in result.stderr


def test_canary_fails_with_too_few_samples(cloud):
    cloud.request_counts = [{"2xx": 4}]
    result = run("canary-check.sh", cloud, CANARY_SECONDS="1", REVISION="r", METRICS_WAIT_SECONDS="1")
    assert result.returncode == 1
    assert "too few samples" in result.stderr


def test_canary_fails_when_the_5xx_ratio_is_above_the_limit(cloud):
    cloud.request_counts = [{"2xx": 900, "5xx": 100}]
    result = run("canary-check.sh", cloud, CANARY_SECONDS="1", MAX_5XX_RATIO="0.01", REVISION="r")
    assert result.returncode == 1
    assert "5xx ratio above 0.01" in result.stderr


# --- cloudrun.sh ---------------------------------------------------------------------------------

def write_describe(cloud, traffic, name="describe.json", latest=None):
    status = {"url": "https://flightdeck-api-abc.a.run.app", "traffic": traffic}
    if latest:
        status["latestCreatedRevisionName"] = latest
    (cloud.tmp / name).write_text(json.dumps({"status": status}))


def test_cloudrun_deploy_tagged_deploys_without_traffic_and_reports_the_revision_not_a_run_app_url(cloud):
    write_describe(cloud, [{"revisionName": "flightdeck-api-00001", "percent": 100}])
    write_describe(cloud, [
        {"revisionName": "flightdeck-api-00001", "percent": 100},
        {"revisionName": "flightdeck-api-00002", "tag": "candidate", "url": "https://candidate---flightdeck-api-abc.a.run.app"},
    ], name="describe-after-deploy.json", latest="flightdeck-api-00002")
    result = run("cloudrun.sh", cloud, "deploy-tagged", "flightdeck-api", "reg/flightdeck@sha256:00", "candidate")
    assert result.returncode == 0, result.stderr
    outputs = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert outputs == {"tag": "candidate", "revision": "flightdeck-api-00002"}
    assert "run.app" not in result.stdout, "nothing downstream may call the run.app URL: the ingress refuses it"
    deploy = next(c for c in calls(cloud) if c.startswith("run deploy"))
    assert "--no-traffic --tag candidate" in deploy and "--image reg/flightdeck@sha256:00" in deploy
    assert not any("--remove-tags" in c for c in calls(cloud))


def test_cloudrun_deploy_tagged_takes_the_tag_from_a_revision_a_failed_run_left_it_on(cloud):
    write_describe(cloud, [
        {"revisionName": "flightdeck-api-00001", "percent": 100},
        {"revisionName": "flightdeck-api-00001", "tag": "candidate"},
    ])
    write_describe(cloud, [
        {"revisionName": "flightdeck-api-00001", "percent": 100},
        {"revisionName": "flightdeck-api-00003", "tag": "candidate"},
    ], name="describe-after-deploy.json", latest="flightdeck-api-00003")
    result = run("cloudrun.sh", cloud, "deploy-tagged", "flightdeck-api", "img", "candidate")
    assert result.returncode == 0, result.stderr
    assert "revision=flightdeck-api-00003" in result.stdout
    changes = [c.split()[:3] + [w for w in c.split() if w.startswith("--") and w != "--quiet"] for c in calls(cloud)
               if not c.startswith("run services describe")]
    assert changes[0] == ["run", "services", "update-traffic", "--region", "--remove-tags"]
    assert changes[1][:2] == ["run", "deploy"], "the stale tag goes before the deploy"


def test_cloudrun_deploy_tagged_fails_when_the_tag_is_missing(cloud):
    write_describe(cloud, [{"revisionName": "flightdeck-api-00001", "percent": 100}], latest="flightdeck-api-00002")
    result = run("cloudrun.sh", cloud, "deploy-tagged", "flightdeck-api", "img", "candidate")
    assert result.returncode == 1
    assert "no new revision tagged candidate" in result.stderr


def test_cloudrun_deploy_tagged_fails_when_the_tag_is_not_on_the_revision_just_created(cloud):
    write_describe(cloud, [
        {"revisionName": "flightdeck-api-00001", "percent": 100},
        {"revisionName": "flightdeck-api-00001", "tag": "candidate"},
    ], latest="flightdeck-api-00002")
    result = run("cloudrun.sh", cloud, "deploy-tagged", "flightdeck-api", "img", "candidate")
    assert result.returncode == 1
    assert "(tagged: flightdeck-api-00001, latest created: flightdeck-api-00002)" in result.stderr


def test_cloudrun_present_tells_a_missing_service_from_an_error(cloud):
    write_describe(cloud, [{"revisionName": "flightdeck-probe-00001", "percent": 100}])
    assert run("cloudrun.sh", cloud, "present", "flightdeck-probe").stdout == "true\n"
    (cloud.tmp / "absent-flightdeck-probe").write_text("")
    absent = run("cloudrun.sh", cloud, "present", "flightdeck-probe")
    assert absent.returncode == 0 and absent.stdout == "false\n"
    (cloud.tmp / "absent-flightdeck-probe").unlink()
    (cloud.tmp / "describe-denied").write_text("")
    denied = run("cloudrun.sh", cloud, "present", "flightdeck-probe")
    assert denied.returncode == 1 and "PERMISSION_DENIED" in denied.stderr, "an error is not an absent service"


def test_cloudrun_promote_hands_traffic_back_to_latest_and_removes_deploy_tags(cloud):
    write_describe(cloud, [
        {"revisionName": "flightdeck-api-00008", "percent": 100, "latestRevision": True},
        {"revisionName": "flightdeck-api-00008", "percent": 0, "tag": "candidate"},
        {"revisionName": "flightdeck-api-00005", "percent": 0, "tag": "sha-old"},
        {"revisionName": "flightdeck-api-00003", "percent": 0, "tag": "keep-me"},
    ])
    result = run("cloudrun.sh", cloud, "promote", "flightdeck-api", "flightdeck-api-00008", "candidate")
    assert result.returncode == 0, result.stderr
    traffic = [c for c in calls(cloud) if c.startswith("run services update-traffic")]
    assert "--to-latest" in traffic[0]
    assert "--to-revisions" not in " ".join(traffic), "promotion must not pin a named revision"
    assert "--remove-tags candidate,sha-old" in traffic[1], "the candidate host serves nothing between deploys"


def test_cloudrun_promote_fails_when_latest_is_another_revision(cloud):
    write_describe(cloud, [{"revisionName": "flightdeck-api-00009", "percent": 100, "latestRevision": True}])
    result = run("cloudrun.sh", cloud, "promote", "flightdeck-api", "flightdeck-api-00008")
    assert result.returncode == 1
    assert "serves 'flightdeck-api-00009', not flightdeck-api-00008" in result.stderr


def test_cloudrun_deploy_latest_unpins_the_service(cloud):
    result = run("cloudrun.sh", cloud, "deploy-latest", "flightdeck-ingest", "reg/flightdeck@sha256:00")
    assert result.returncode == 0, result.stderr
    assert [c.split()[:3] for c in calls(cloud)] == [["run", "deploy", "flightdeck-ingest"],
                                                     ["run", "services", "update-traffic"]]
    assert "--to-latest" in calls(cloud)[1]


def test_cloudrun_serving_revision_and_rollback_with_tag_removal(cloud):
    write_describe(cloud, [
        {"revisionName": "flightdeck-api-00007", "percent": 90},
        {"revisionName": "flightdeck-api-00008", "percent": 10, "tag": "sha-x"},
    ])
    serving = run("cloudrun.sh", cloud, "serving-revision", "flightdeck-api")
    assert serving.stdout.strip() == "flightdeck-api-00007"
    rollback = run("cloudrun.sh", cloud, "rollback", "flightdeck-api", "flightdeck-api-00007", "sha-x")
    assert rollback.returncode == 0
    assert any("--to-revisions flightdeck-api-00007=100" in c for c in calls(cloud))
    assert any("--remove-tags sha-x" in c for c in calls(cloud))


def test_cloudrun_rollback_without_a_previous_revision_changes_no_traffic(cloud):
    result = run("cloudrun.sh", cloud, "rollback", "flightdeck-api", "")
    assert result.returncode == 0
    assert calls(cloud) == []


def test_cloudrun_rollback_removes_the_tag_only_when_a_revision_holds_it(cloud):
    # A run that failed before the API deploy: nothing holds the tag, nothing to remove.
    write_describe(cloud, [{"revisionName": "flightdeck-api-00007", "percent": 100}])
    result = run("cloudrun.sh", cloud, "rollback", "flightdeck-api", "flightdeck-api-00007", "candidate")
    assert result.returncode == 0, result.stderr
    assert not any("--remove-tags" in c for c in calls(cloud))


# --- api-key.sh: the smoke-check key ---------------------------------------------------------------

def test_api_key_is_masked_and_written_for_the_checks(cloud):
    (cloud.tmp / "secret").write_text(KEY)
    out = cloud.tmp / "runner-temp" / "smoke-api-key"
    out.parent.mkdir()
    result = run("api-key.sh", cloud, "flightdeck-smoke-api-key", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"::add-mask::{KEY}\n", "the mask command is the only line carrying the key"
    assert KEY not in result.stderr
    assert out.read_text() == KEY and (out.stat().st_mode & 0o777) == 0o600
    assert calls(cloud) == ["secrets versions access latest --secret flightdeck-smoke-api-key --project flightdeck-test"]


def test_api_key_without_a_version_says_how_to_add_it(cloud):
    out = cloud.tmp / "smoke-api-key"
    result = run("api-key.sh", cloud, "flightdeck-smoke-api-key", str(out))
    assert result.returncode == 1
    assert "has no version yet" in result.stderr and "terraform/README.md" in result.stderr
    assert not out.exists()


def test_api_key_refuses_a_whole_command_output_without_printing_it(cloud):
    (cloud.tmp / "secret").write_text(f"created key ci-smoke\n{KEY}\n")
    out = cloud.tmp / "smoke-api-key"
    result = run("api-key.sh", cloud, "flightdeck-smoke-api-key", str(out))
    assert result.returncode == 1
    assert "not one API key on one line" in result.stderr
    assert KEY not in result.stdout + result.stderr and not out.exists()


# --- image.sh: build once, promote the digest -----------------------------------------------------

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64
STAGING = "southamerica-west1-docker.pkg.dev/fd-staging/flightdeck"
PROD = "southamerica-west1-docker.pkg.dev/fd-prod/flightdeck"


def images(cloud, value=None):
    path = cloud.tmp / "images.json"
    if value is not None:
        path.write_text(json.dumps(value))
    return json.loads(path.read_text())


def test_image_digest_is_empty_for_a_missing_tag_and_an_error_otherwise(cloud):
    images(cloud, {f"{STAGING}/flightdeck:tree-1": DIGEST})
    assert run("image.sh", cloud, "digest", f"{STAGING}/flightdeck:tree-1").stdout.strip() == DIGEST
    missing = run("image.sh", cloud, "digest", f"{STAGING}/flightdeck:tree-2")
    assert missing.returncode == 0 and missing.stdout == ""
    (cloud.tmp / "registry-down").write_text("")
    down = run("image.sh", cloud, "digest", f"{STAGING}/flightdeck:tree-2")
    assert down.returncode != 0 and "PERMISSION_DENIED" in down.stderr


def test_image_is_signed_once(cloud):
    ref = f"{STAGING}/flightdeck@{DIGEST}"
    assert run("image.sh", cloud, "sign", ref).returncode == 0
    assert f"cosign sign --yes {ref}" in calls(cloud)
    (cloud.tmp / "verified").write_text(f"verify {ref}\n")
    (cloud.tmp / "calls").unlink()
    assert run("image.sh", cloud, "sign", ref).returncode == 0
    assert not any(c.startswith("cosign sign") for c in calls(cloud)), "a re-run must not sign again"


def test_image_verify_fails_without_a_signature_of_the_workflow(cloud):
    ref = f"{STAGING}/flightdeck@{DIGEST}"
    result = run("image.sh", cloud, "verify", ref)
    assert result.returncode != 0
    verify = next(c for c in calls(cloud) if c.startswith("cosign verify "))
    assert "--certificate-identity-regexp ^https://github.com/o/r/.github/workflows/cd.yml@refs/heads/develop$" in verify
    (cloud.tmp / "verified").write_text(f"verify {ref}\nverify-attestation {ref}\n")
    assert run("image.sh", cloud, "verify", ref).returncode == 0


def test_image_verify_refuses_a_tag_reference(cloud):
    result = run("image.sh", cloud, "verify", f"{STAGING}/flightdeck:latest")
    assert result.returncode == 2 and "is not an IMAGE@sha256" in result.stderr


def test_promotion_refuses_a_tree_that_never_passed_staging(cloud):
    images(cloud, {f"{STAGING}/flightdeck:tree-t1": DIGEST})
    result = run("image.sh", cloud, "promote", STAGING, PROD, "t1")
    assert result.returncode == 1
    assert "never passed staging" in result.stderr
    assert not any(c.startswith("cosign copy") for c in calls(cloud))


def test_promotion_copies_the_staged_digest_once(cloud):
    images(cloud, {f"{STAGING}/flightdeck:staged-t1": DIGEST})
    first = run("image.sh", cloud, "promote", STAGING, PROD, "t1")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == DIGEST
    assert f"cosign copy {STAGING}/flightdeck@{DIGEST} {PROD}/flightdeck:tree-t1" in calls(cloud)
    (cloud.tmp / "calls").unlink()
    again = run("image.sh", cloud, "promote", STAGING, PROD, "t1")  # a re-run, or a tag on the same tree
    assert again.returncode == 0 and again.stdout.strip() == DIGEST
    assert not any(c.startswith("cosign copy") for c in calls(cloud))


def test_promotion_fails_when_production_holds_another_digest_for_the_tree(cloud):
    images(cloud, {f"{STAGING}/flightdeck:staged-t1": DIGEST, f"{PROD}/flightdeck:tree-t1": OTHER})
    result = run("image.sh", cloud, "promote", STAGING, PROD, "t1")
    assert result.returncode == 1 and "staging ran" in result.stderr


def test_mark_staged_tags_once_and_refuses_another_digest(cloud):
    assert run("image.sh", cloud, "mark-staged", STAGING, DIGEST, "t1").returncode == 0
    assert images(cloud)[f"{STAGING}/flightdeck:staged-t1"] == DIGEST
    assert run("image.sh", cloud, "mark-staged", STAGING, DIGEST, "t1").returncode == 0
    assert sum(c.startswith("artifacts docker tags add") for c in calls(cloud)) == 1
    assert run("image.sh", cloud, "mark-staged", STAGING, OTHER, "t1").returncode == 1


def test_images_are_verified_against_the_build_job_identity_by_default(cloud):
    ref = f"{STAGING}/flightdeck@{DIGEST}"
    result = run("image.sh", cloud, "verify", ref, SIGNER_IDENTITY_REGEXP="",
                 GITHUB_SERVER_URL="https://github.com", GITHUB_REPOSITORY="flightdeck-sre/flightdeck")
    assert result.returncode != 0
    verify = next(c for c in calls(cloud) if c.startswith("cosign verify "))
    expected = r"^https://github\.com/flightdeck-sre/flightdeck/\.github/workflows/cd\.yml@refs/heads/(develop|hotfix/.+)$"
    assert f"--certificate-identity-regexp {expected} " in verify
    assert "--certificate-oidc-issuer https://token.actions.githubusercontent.com" in verify
