"""Proves each custom checkov policy in terraform/policies/ fails its `fail/` fixture
and passes its `pass/` fixture: every resource the policy evaluates under
fixtures/<ID>/fail must fail, every one under fixtures/<ID>/pass must pass.

A graph policy (YAML) judges a resource by the resources it refers to; those are declared in
the fail fixture too, named `context_*`, and must pass there: the fixture then shows the
failing resource fails because of what it refers to, not because its context is wrong.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from hcl import TERRAFORM, checkov_path

POLICIES = TERRAFORM / "policies"
FIXTURES = POLICIES / "fixtures"
CHECKOV = str(checkov_path())


def policy_ids() -> list[str]:
    """Ids of the Python checks (id="...") and of the YAML graph checks (metadata id: ...)."""
    ids = []
    for path in sorted(POLICIES.glob("*.py")):
        ids += re.findall(r'id="(CKV_FD_\d+)"', path.read_text())
    for path in sorted(POLICIES.glob("*.yaml")):
        ids += re.findall(r"^\s+id:\s*(CKV_FD_\d+)\s*$", path.read_text(), flags=re.M)
    return sorted(ids, key=lambda i: int(i.rsplit("_", 1)[1]))


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(check id, fail|pass) -> [(resource, PASSED|FAILED)] for fixtures of that check."""
    proc = subprocess.run(
        [
            CHECKOV, "-d", str(FIXTURES), "--framework", "terraform",
            "--external-checks-dir", str(POLICIES), "--check", ",".join(policy_ids()),
            "--skip-download", "-o", "json",
        ],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.stdout.strip(), f"checkov printed nothing (exit {proc.returncode}): {proc.stderr[-2000:]}"
    report = json.loads(proc.stdout)
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for key, verdict in (("passed_checks", "PASSED"), ("failed_checks", "FAILED")):
        for r in report["results"][key]:
            parts = r["file_path"].strip("/").split("/")
            if parts[0] == r["check_id"]:  # a check's verdicts on its own fixtures only
                out.setdefault((r["check_id"], parts[1]), []).append((r["resource"], verdict))
    return out


def is_context(resource: str) -> bool:
    return resource.split(".", 1)[1].startswith("context_")


def test_there_are_seven_policies():
    assert policy_ids() == [f"CKV_FD_{i}" for i in range(1, 8)]


@pytest.mark.parametrize("check_id", policy_ids())
def test_policy_has_both_fixtures(check_id):
    assert list((FIXTURES / check_id / "fail").glob("*.tf")), f"{check_id} has no failing fixture"
    assert list((FIXTURES / check_id / "pass").glob("*.tf")), f"{check_id} has no passing fixture"


@pytest.mark.parametrize("check_id", policy_ids())
def test_policy_fails_the_bad_fixture(check_id, results):
    verdicts = results.get((check_id, "fail"), [])
    assert [r for r, _ in verdicts if not is_context(r)], f"{check_id} evaluated nothing in its fail fixture"
    wrongly_passed = [r for r, v in verdicts if v != "FAILED" and not is_context(r)]
    assert not wrongly_passed, f"{check_id} passed resources it must fail: {wrongly_passed}"
    wrongly_failed = [r for r, v in verdicts if v != "PASSED" and is_context(r)]
    assert not wrongly_failed, f"{check_id} failed context resources (compliant on their own): {wrongly_failed}"


@pytest.mark.parametrize("check_id", policy_ids())
def test_policy_passes_the_good_fixture(check_id, results):
    verdicts = results.get((check_id, "pass"), [])
    assert verdicts, f"{check_id} evaluated nothing in its pass fixture"
    wrongly_failed = [r for r, v in verdicts if v != "PASSED"]
    assert not wrongly_failed, f"{check_id} failed resources it must pass: {wrongly_failed}"


@pytest.mark.parametrize("check_id", policy_ids())
def test_every_fixture_resource_is_judged(check_id, results):
    """A resource the policy silently skipped would make the fixture prove nothing."""
    for kind in ("fail", "pass"):
        judged = {r for r, _ in results.get((check_id, kind), [])}
        text = "\n".join(p.read_text() for p in (FIXTURES / check_id / kind).glob("*.tf"))
        declared = {f"{t}.{n}" for t, n in re.findall(r'^resource "(\w+)" "(\w+)"', text, flags=re.M)}
        assert declared == judged, f"{check_id}/{kind}: not judged: {sorted(declared - judged)}"


def test_checkov_judges_both_services_of_the_service_module():
    """scripts/lint-infra.sh scans modules/runtime as a root because checkov does not render
    modules/service where the environments call it (runtime and edge refer to each other); that
    scan must see both services with the ingress and invoker setting runtime gives them."""
    proc = subprocess.run(
        [
            CHECKOV, "-d", str(TERRAFORM / "modules" / "runtime"), "--framework", "terraform",
            "--external-checks-dir", str(POLICIES), "--check", "CKV_FD_7", "--skip-download", "-o", "json",
        ],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.stdout.strip(), f"checkov printed nothing (exit {proc.returncode}): {proc.stderr[-2000:]}"
    report = json.loads(proc.stdout)["results"]
    verdicts = {r["resource"]: "PASSED" for r in report["passed_checks"]}
    verdicts |= {r["resource"]: "FAILED" for r in report["failed_checks"]}
    for service in ("api", "ingest"):
        assert verdicts.get(f"module.{service}.google_cloud_run_v2_service.main") == "PASSED", verdicts
