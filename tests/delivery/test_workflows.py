"""GitHub Actions hygiene and the CI/CD contract, beyond what actionlint and zizmor enforce."""

import os
import re

import pytest

from conftest import ROOT, load_yaml, triggers

WORKFLOW_DIR = ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.yml"))
ACTION_FILES = sorted((ROOT / ".github").glob("actions/**/action.yml"))
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*[\"']?(?P<ref>[^\s\"'#]+)[\"']?\s*(?P<comment>#.*)?$")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def uses_lines():
    for path in WORKFLOWS + ACTION_FILES:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = USES_LINE.match(line)
            if match:
                yield path.relative_to(ROOT), number, match["ref"], match["comment"] or ""


def jobs(path):
    return load_yaml(path)["jobs"].items()


def steps(job):
    return job.get("steps", [])


def test_ci_and_cd_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "cd.yml"}


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version_in_a_comment():
    seen = list(uses_lines())
    assert seen, "no `uses:` found: the parser no longer matches the workflows"
    for path, number, ref, comment in seen:
        if ref.startswith("./"):
            continue
        assert PINNED.match(ref), f"{path}:{number}: {ref} is not pinned to a 40-character commit SHA"
        assert re.match(r"#\s*v\d", comment), f"{path}:{number}: {ref} has no '# vX.Y.Z' comment"


def test_one_action_is_pinned_to_one_sha_across_workflows():
    pins = {}
    for path, number, ref, _ in uses_lines():
        if "@" in ref:
            action, sha = ref.split("@", 1)
            pins.setdefault(action, set()).add(sha)
    assert {a: s for a, s in pins.items() if len(s) > 1} == {}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_grants_nothing_by_default(path):
    assert load_yaml(path)["permissions"] == {}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_has_a_concurrency_group(path):
    assert load_yaml(path)["concurrency"]["group"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_job_declares_permissions_and_a_timeout(path):
    for name, job in jobs(path):
        assert "permissions" in job, f"{path.name}: job {name} has no permissions block"
        assert isinstance(job.get("timeout-minutes"), int), f"{path.name}: job {name} has no timeout-minutes"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkouts_do_not_persist_credentials(path):
    for name, job in jobs(path):
        for step in steps(job):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, f"{path.name}: {name}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_oidc_token_is_granted_only_to_jobs_that_use_it(path):
    oidc_users = ("google-github-actions/auth@", "sigstore/cosign-installer@")
    for name, job in jobs(path):
        wants_oidc = any(step.get("uses", "").startswith(oidc_users) for step in steps(job))
        grants = (job.get("permissions") or {}).get("id-token") == "write"
        assert grants == wants_oidc, f"{path.name}: job {name} id-token: write is {grants}, uses OIDC: {wants_oidc}"


def test_google_cloud_auth_is_keyless_everywhere():
    text = "\n".join(p.read_text() for p in WORKFLOWS)
    assert "credentials_json" not in text
    assert "GOOGLE_APPLICATION_CREDENTIALS" not in text
    for path in WORKFLOWS:
        for _, job in jobs(path):
            for step in steps(job):
                if step.get("uses", "").startswith("google-github-actions/auth@"):
                    assert step["with"]["workload_identity_provider"] == "${{ vars.GCP_WIF_PROVIDER }}"


def test_ci_runs_on_pull_requests_and_on_the_long_lived_branches():
    on = triggers(load_yaml(WORKFLOW_DIR / "ci.yml"))
    assert "pull_request" in on
    assert set(on["push"]["branches"]) >= {"develop", "master", "main"}


def ci_commands():
    return "\n".join(
        step.get("run", "") for _, job in jobs(WORKFLOW_DIR / "ci.yml") for step in steps(job)
    )


@pytest.mark.parametrize("target", ["lint", "test-rust", "lint-infra", "lint-delivery"])
def test_ci_runs_the_make_targets_that_exist(target):
    assert re.search(rf"^make {re.escape(target)}$", ci_commands(), re.M)


@pytest.mark.parametrize("target", ["loadtest", "slo-check", "promtool-test"])
def test_ci_runs_the_sre_targets_once_the_makefile_has_them(target):
    assert f".github/scripts/make-if-defined.sh {target}" in ci_commands()


def test_ci_has_the_security_checks():
    ci = load_yaml(WORKFLOW_DIR / "ci.yml")
    used = [step.get("uses", "").split("@")[0] for _, job in ci["jobs"].items() for step in steps(job)]
    for action in ("aquasecurity/trivy-action", "anchore/sbom-action", "actions/upload-artifact",
                   "gitleaks/gitleaks-action"):
        assert action in used
    sbom = next(s for _, j in ci["jobs"].items() for s in steps(j) if s.get("uses", "").startswith("anchore/"))
    assert sbom["with"]["format"] == "cyclonedx-json"
    commands = ci_commands()
    assert "check advisories" in commands
    assert "init -backend=false" in commands and "validate" in commands


def test_ci_tests_run_against_postgres_and_the_pubsub_emulator():
    job = load_yaml(WORKFLOW_DIR / "ci.yml")["jobs"]["rust-test"]
    assert "postgres" in job["services"]
    assert job["env"]["PUBSUB_EMULATOR_HOST"] == "127.0.0.1:8085"
    assert job["env"]["TEST_DATABASE_URL"].startswith("postgres://postgres@127.0.0.1:5432/")
    assert any("emulators pubsub start" in step.get("run", "") for step in steps(job))


def cd_job():
    workflow = load_yaml(WORKFLOW_DIR / "cd.yml")
    assert list(workflow["jobs"]) == ["deploy"], "build, test and promote must share one job (one digest)"
    return workflow, workflow["jobs"]["deploy"]


def test_cd_deploys_develop_to_staging_and_master_or_tags_to_production():
    workflow, job = cd_job()
    on = triggers(workflow)
    assert set(on["push"]["branches"]) == {"develop", "master"}
    assert on["push"]["tags"] == ["v*.*.*"]
    expected = "${{ github.ref == 'refs/heads/develop' && 'staging' || 'production' }}"
    assert job["environment"]["name"] == expected
    assert job["concurrency"]["cancel-in-progress"] is False


def test_cd_steps_run_in_the_safe_order():
    _, job = cd_job()
    names = [step.get("name") or step.get("uses", "").split("@")[0] for step in steps(job)]

    def at(fragment):
        matches = [i for i, name in enumerate(names) if fragment in name]
        assert matches, f"no step named like {fragment!r} in {names}"
        return matches[0]

    order = ["Build and push", "Image reference by digest", "Sign the image", "Attest the SBOM",
             "Record the revisions", "Run migrations", "Deploy ingest", "no traffic and a tag",
             "Post-deploy integration test", "Canary (", "Canary error-rate", "Promote to 100%", "Roll back"]
    positions = [at(fragment) for fragment in order]
    assert positions == sorted(positions), list(zip(order, positions))
    rollback = steps(job)[at("Roll back")]
    assert rollback["if"].startswith("failure()")


def test_cd_migrates_and_deploys_the_signed_digest_not_a_tag():
    _, job = cd_job()
    for step in steps(job):
        if "IMAGE_REF" in step.get("env", {}):
            assert step["env"]["IMAGE_REF"] == "${{ steps.image.outputs.ref }}"
        assert ":${{ github.sha }}\"" not in step.get("run", "")
    deploys = [s for s in steps(job) if "gcloud run deploy" in s.get("run", "") or "deploy-tagged" in s.get("run", "")]
    assert deploys and all(s["env"]["IMAGE_REF"] for s in deploys)


def test_scripts_called_by_workflows_exist_and_are_executable():
    text = "\n".join(p.read_text() for p in WORKFLOWS)
    scripts = set(re.findall(r"(\.github/scripts/[\w.-]+\.sh|scripts/[\w.-]+\.sh)", text))
    assert scripts
    for script in scripts:
        path = ROOT / script
        assert path.is_file(), script
        assert os.access(path, os.X_OK), f"{script} is not executable"


def test_dependabot_updates_every_pinned_ecosystem_with_a_cooldown():
    config = load_yaml(ROOT / ".github" / "dependabot.yml")
    ecosystems = {u["package-ecosystem"] for u in config["updates"]}
    assert ecosystems >= {"cargo", "github-actions", "docker"}
    for update in config["updates"]:
        assert update["cooldown"]["default-days"] >= 7
