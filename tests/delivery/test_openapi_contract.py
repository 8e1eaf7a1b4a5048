"""The fake API of the deploy-script tests is the real one's contract: fixtures/openapi.json was
recorded from the binary (record_openapi.py), the fake is strict about it, every request the deploy
scripts send is valid under it, and, when the binary and PostgreSQL are there (as in `make test`),
the fixture must equal what the binary serves now, so the fake cannot drift silently.
"""

import re

import pytest

from conftest import ROOT
from live_api import BINARY, contract, database_reachable, fetch_openapi, serve
from openapi_fake import FIXTURE, OpenApiFake, load

SCRIPTS = ROOT / ".github" / "scripts"


def script_requests():
    """The GET requests canary-check.sh and post-deploy-check.sh send, with their shell variables
    given the values the workflow gives them."""
    values = {"origin": "SCL", "PROBE_FLIGHT_ID": "PROBE-1764000000000-42-1", "flight_id": "PROBE-1764000000000-42-1"}
    canary = (SCRIPTS / "canary-check.sh").read_text()
    probe = (SCRIPTS / "post-deploy-check.sh").read_text()
    paths = re.findall(r'"?(/[a-z0-9/._?=${}A-Z-]+)"?', re.search(r"^paths=\((.*)\)$", canary, re.M).group(1))
    paths += re.findall(r'"(/v1/flights/\$\{PROBE_FLIGHT_ID\})"', canary)
    paths += re.search(r"^for path in (.*); do$", probe, re.M).group(1).split()
    # With the key and without it (the 401 check): either way a request the API accepts as valid.
    paths += re.findall(r'get(?:_without_key)? "(/v1/[^"]+)"', probe)
    resolved = [re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], p) for p in paths]
    assert len(resolved) >= 9, resolved
    return resolved


def test_the_fixture_was_recorded_from_the_binary():
    document = load()
    assert document["openapi"].startswith("3.")
    assert {"/v1/events", "/v1/flights/{flight_id}", "/v1/stats/delays", "/readyz", "/healthz", "/openapi.json"} <= \
        set(document["paths"])


def test_the_fake_refuses_what_the_real_api_refuses():
    fake = OpenApiFake()
    assert fake.problems("/v1/stats/delays")[0] == 400, "origin is required"
    assert fake.problems("/v1/stats/delays?origin=scl")[0] == 400, "origin is three uppercase letters"
    assert fake.problems("/v1/events?limit=0")[0] == 400
    assert fake.problems("/v1/events?limit=501")[0] == 400
    assert fake.problems("/v1/nothing")[0] == 404
    assert fake.problems("/v1/stats/delays?origin=SCL")[0] == 200
    assert fake.problems("/v1/events?limit=500")[0] == 200


@pytest.mark.parametrize("request_path", script_requests())
def test_every_request_the_deploy_scripts_send_is_valid(request_path):
    status, problems = OpenApiFake().problems(request_path)
    assert status == 200, f"{request_path}: {problems}"


def test_the_fixture_is_what_the_binary_serves():
    if not BINARY.exists():
        pytest.skip(f"{BINARY} is not built (make test builds it before this runs)")
    if not database_reachable():
        pytest.skip("PostgreSQL is not reachable on TEST_DATABASE_URL; `flightdeck serve` needs it to start")
    with serve() as url:
        live = fetch_openapi(url)
    assert contract(live) == contract(load()), (
        f"the API's OpenAPI document changed: run `python tests/delivery/record_openapi.py` to update {FIXTURE}, "
        "then make the deploy scripts' requests valid again"
    )
