"""GitHub Actions hygiene and the CI/CD contract, beyond what actionlint and zizmor enforce."""

import json
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
    workflow = load_yaml(path)
    if set(triggers(workflow)) == {"workflow_call"}:
        # A reusable workflow runs inside its caller's group; each of its jobs has its own.
        assert all(job["concurrency"]["group"] for _, job in jobs(path))
        return
    assert workflow["concurrency"]["group"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_job_declares_permissions_and_a_timeout(path):
    for name, job in jobs(path):
        assert "permissions" in job, f"{path.name}: job {name} has no permissions block"
        if "uses" in job:
            # A call of a reusable workflow cannot set a timeout: every job of the called file has one.
            called = ROOT / job["uses"].removeprefix("./")
            assert called.is_file(), f"{path.name}: job {name} calls a missing {job['uses']}"
            continue
        assert isinstance(job.get("timeout-minutes"), int), f"{path.name}: job {name} has no timeout-minutes"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkouts_do_not_persist_credentials(path):
    for name, job in jobs(path):
        for step in steps(job):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, f"{path.name}: {name}"


OIDC_USERS = ("google-github-actions/auth@", "sigstore/cosign-installer@")


def job_uses_oidc(job) -> bool:
    if "uses" in job:
        return any(job_uses_oidc(j) for _, j in jobs(ROOT / job["uses"].removeprefix("./")))
    return any(step.get("uses", "").startswith(OIDC_USERS) for step in steps(job))


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_oidc_token_is_granted_only_to_jobs_that_use_it(path):
    for name, job in jobs(path):
        grants = (job.get("permissions") or {}).get("id-token") == "write"
        wants = job_uses_oidc(job)
        assert grants == wants, f"{path.name}: job {name} id-token: write is {grants}, uses OIDC: {wants}"


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


@pytest.mark.parametrize("target", ["lint", "test-rust", "test-containers", "slo-check", "docs-check",
                                    "test-observability", "api-contract", "budget", "lint-infra", "lint-delivery"])
def test_ci_runs_the_make_targets(target):
    assert re.search(rf"^make {re.escape(target)}$", ci_commands(), re.M)


def test_ci_runs_the_load_budgets_and_leaves_the_k6_gate_alone_manual():
    """make budget (ratios to ceilings measured in the same run, then k6 at a share of the capacity
    just measured) replaced make loadtest in CI: absolute thresholds drift with the runner."""
    assert not re.search(r"^make loadtest(-full)?$", ci_commands(), re.M)
    assert re.search(r"^loadtest:.*## ", (ROOT / "Makefile").read_text(), re.M), "make loadtest stays a manual target"
    job = load_yaml(WORKFLOW_DIR / "ci.yml")["jobs"]["rust-test"]
    runs = [step.get("run", "") for step in steps(job)]
    assert "make budget" in runs and any("emulators pubsub start" in run for run in runs)
    budget = steps(job)[runs.index("make budget")]
    # The job's emulator container is fresh, so the budget uses it instead of starting its own.
    assert budget.get("env", {}).get("BUDGET_OWN_EMULATOR") == "0"


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


def test_testcontainers_suites_must_run_where_docker_exists():
    job = load_yaml(WORKFLOW_DIR / "ci.yml")["jobs"]["containers"]
    assert job["env"]["REQUIRE_DOCKER"] == "1"
    assert any(step.get("run") == "make test-containers" for step in steps(job))


def test_the_live_observability_validation_runs_with_the_binary_and_services():
    job = load_yaml(WORKFLOW_DIR / "ci.yml")["jobs"]["sre"]
    runs = [step.get("run", "") for step in steps(job)]
    assert runs.index("make build") < runs.index("make test-observability")
    assert runs.index("make build") < runs.index("make api-contract")
    assert "postgres" in job["services"] and job["env"]["PUBSUB_EMULATOR_HOST"]
    assert "OBSERVABILITY_LIVE" not in json.dumps(job), "the live validation must not be switched off"


def test_plans_run_per_environment_with_backend_variables_and_the_planner():
    job = load_yaml(WORKFLOW_DIR / "ci.yml")["jobs"]["terraform-plan"]
    envs = {(m["env"], m["github_environment"]) for m in job["strategy"]["matrix"]["include"]}
    assert envs == {("staging", "plan-staging"), ("prod", "plan-production")}
    assert job["environment"] == "${{ matrix.github_environment }}"
    text = json.dumps(job)
    assert '-backend-config=\\"bucket=${STATE_BUCKET}\\"' in text
    assert "ci.auto.tfvars.json" in text and "-lock=false" in text
    auth = next(s for s in steps(job) if s.get("uses", "").startswith("google-github-actions/auth@"))
    assert auth["with"]["service_account"] == "${{ vars.GCP_PLAN_SA }}"
    assert job["env"]["TF_VAR_github_repository_id"] == "${{ github.repository_id }}"


def workflow(name):
    return load_yaml(WORKFLOW_DIR / name)


def test_cd_builds_once_on_develop_and_hotfixes_and_promotes_on_master_and_tags():
    cd = workflow("cd.yml")
    on = triggers(cd)
    assert set(on["push"]["branches"]) == {"develop", "master", "hotfix/**"}
    assert on["push"]["tags"] == ["v*.*.*"]
    build, staging, production = (cd["jobs"][k] for k in ("build", "staging", "production"))
    assert "develop" in build["if"] and "hotfix/" in build["if"] and "master" not in build["if"]
    assert staging["needs"] == "build" and staging["with"]["digest"] == "${{ needs.build.outputs.digest }}"
    assert "needs" not in production, "production must not wait for (or run) a build"
    assert "master" in production["if"] and "refs/tags/v" in production["if"]
    assert staging["uses"] == production["uses"] == "./.github/workflows/deploy.yml"
    # Only the build job builds; deploy.yml has no build step.
    builders = [(w, n) for w in ("cd.yml", "deploy.yml") for n, j in workflow(w)["jobs"].items()
                for s in steps(j) if s.get("uses", "").startswith("docker/build-push-action@")]
    assert builders == [("cd.yml", "build")]


def test_cd_build_reuses_the_image_of_the_tree_and_records_sbom_and_provenance():
    build = workflow("cd.yml")["jobs"]["build"]
    by_id = {s.get("id"): s for s in steps(build) if s.get("id")}
    assert "rev-parse 'HEAD^{tree}'" in by_id["tree"]["run"]
    assert "image.sh digest" in by_id["existing"]["run"]
    push = by_id["build"]
    assert push["if"] == "steps.existing.outputs.digest == ''"
    assert push["with"]["provenance"] == "mode=max" and push["with"]["sbom"] is True
    assert push["with"]["tags"].endswith("/flightdeck:tree-${{ steps.tree.outputs.id }}"), "one tag: the tree id"
    runs = " ".join(s.get("run", "") for s in steps(build))
    assert "image.sh sign" in runs and "image.sh attest" in runs


def deploy_job():
    return workflow("deploy.yml")["jobs"]["deploy"]


def test_deploy_steps_run_in_the_safe_order():
    job = deploy_job()
    names = [step.get("name") or step.get("uses", "").split("@")[0] for step in steps(job)]

    def at(fragment):
        matches = [i for i, name in enumerate(names) if fragment in name]
        assert matches, f"no step named like {fragment!r} in {names}"
        return matches[0]

    order = ["Check the edge configuration", "Image reference by digest", "Verify the signature",
             "Smoke-check API key", "Record the revisions", "Run migrations", "Deploy ingest", "Deploy the prober",
             "no traffic and a tag", "Synthetic probe", "Canary (", "Canary error-rate", "Promote to 100%",
             "Mark the image as passed in staging", "Roll back"]
    positions = [at(fragment) for fragment in order]
    assert positions == sorted(positions), list(zip(order, positions))
    rollback = steps(job)[at("Roll back")]
    assert "failure()" in rollback["if"] and "cancelled()" in rollback["if"], "roll back on cancel and timeout too"
    verify = steps(job)[at("Verify the signature")]
    assert "image.sh verify" in verify["run"]
    assert "promote" in steps(job)[at("Promote to 100%")]["run"]
    assert "--to-revisions" not in steps(job)[at("Promote to 100%")]["run"]


def test_deploy_steps_that_can_hang_have_their_own_timeout():
    job = deploy_job()
    total = 0
    for step in steps(job):
        name = step.get("name", "")
        if any(f in name for f in ("migrations", "Deploy", "Synthetic probe", "error-rate", "Roll back")):
            assert isinstance(step.get("timeout-minutes"), int), f"{name} has no timeout-minutes"
            total += step["timeout-minutes"]
    # Step timeouts fail the step (so the rollback runs) before the job's own timeout cancels it.
    assert total < job["timeout-minutes"]


def test_deploy_migrates_and_deploys_the_verified_digest_not_a_tag():
    job = deploy_job()
    for step in steps(job):
        if "IMAGE_REF" in step.get("env", {}):
            assert step["env"]["IMAGE_REF"] == "${{ steps.image.outputs.ref }}"
        assert ":${{ github.sha }}" not in step.get("run", "")
    deploys = [s for s in steps(job) if "gcloud run" in s.get("run", "") and "deploy" in s.get("run", "")
               or "deploy-tagged" in s.get("run", "") or "deploy-latest" in s.get("run", "")]
    assert deploys and all(s["env"]["IMAGE_REF"] for s in deploys)


def test_deploy_environment_is_the_caller_input_and_one_at_a_time():
    job = deploy_job()
    assert job["environment"]["name"] == "${{ inputs.environment }}"
    assert job["concurrency"]["cancel-in-progress"] is False
    assert "${{ inputs.environment }}" in job["concurrency"]["group"]


def test_the_canary_reads_the_flight_of_the_synthetic_probe():
    job = deploy_job()
    canary = next(s for s in steps(job) if "canary-check.sh" in s.get("run", ""))
    assert canary["env"]["PROBE_FLIGHT_ID"] == "${{ steps.probe.outputs.flight_id }}"


# --- the checks call the new revision like a consumer: through the edge, with an API key ----------

EDGE = (ROOT / "terraform/modules/edge/main.tf").read_text()
KEY_FILE = "${{ runner.temp }}/smoke-api-key"


def step_running(script):
    found = [s for s in steps(deploy_job()) if script in s.get("run", "")]
    assert len(found) == 1, f"deploy.yml runs {script} in {len(found)} steps"
    return found[0]


def test_the_candidate_tag_and_host_are_the_ones_the_edge_routes():
    """modules/edge sends candidate.<domain> to the revision tagged candidate; deploy.yml must tag the
    new revision so and call that host."""
    tag = re.search(r'^\s*candidate_tag\s*=\s*"([a-z0-9-]+)"$', EDGE, re.M).group(1)
    assert re.search(r'^\s*candidate_domain\s*=\s*"\$\{local\.candidate_tag\}\.\$\{var\.domain\}"$', EDGE, re.M)
    assert re.search(r"^\s*tag\s*=\s*local\.candidate_tag$", EDGE, re.M), "the candidate NEG must name the tag"
    env = deploy_job()["env"]
    assert env["CANDIDATE_TAG"] == tag
    assert env["CANDIDATE_URL"] == f"https://{tag}.${{{{ vars.API_DOMAIN }}}}"
    assert env["API_DOMAIN"] == "${{ vars.API_DOMAIN }}"
    deploy = step_running("deploy-tagged")
    assert '"$CANDIDATE_TAG"' in deploy["run"] and "--no-traffic" not in deploy["run"]  # cloudrun.sh adds it
    assert '"$CANDIDATE_TAG"' in step_running("cloudrun.sh promote")["run"], "the tag goes when the revision is promoted"
    assert '"$API_SERVICE" "$PREVIOUS_API" "$CANDIDATE_TAG"' in step_running("cloudrun.sh rollback")["run"]


@pytest.mark.parametrize("script", ["post-deploy-check.sh", "canary-check.sh"])
def test_the_checks_go_through_the_edge_with_the_api_key(script):
    step = step_running(script)
    assert step["env"]["API_URL"] == "${{ env.CANDIDATE_URL }}", f"{script} must call the candidate host of the edge"
    assert step["env"]["API_KEY_FILE"] == KEY_FILE
    assert set(step["env"]) <= {"API_URL", "API_KEY_FILE", "REVISION", "PROBE_FLIGHT_ID"}, "no identity token"


def test_nothing_calls_a_run_app_url_or_mints_an_identity_token():
    """The API's ingress refuses run.app from GitHub's runners and its invoker check is off."""
    text = json.dumps(workflow("deploy.yml"))  # every value, no comments
    for banned in ("run.app", "tag_url", "service_url", "id_token", "ID_TOKEN", "idtoken"):
        assert banned not in text, f"deploy.yml uses {banned}"
    for step in steps(deploy_job()):
        assert "token_format" not in step.get("with", {}), f"{step.get('name')}: CD calls the API with a key, not a token"
    for script in ("post-deploy-check.sh", "canary-check.sh", "cloudrun.sh"):
        body = (ROOT / ".github/scripts" / script).read_text()
        assert "ID_TOKEN" not in body and "tag_url" not in body, script


def test_the_smoke_key_is_read_before_anything_changes_and_masked():
    job = deploy_job()
    step = step_running("api-key.sh")
    assert step["run"] == '.github/scripts/api-key.sh "$SMOKE_KEY_SECRET_ID" "$API_KEY_FILE"'
    assert step["env"]["API_KEY_FILE"] == KEY_FILE
    assert job["env"]["SMOKE_KEY_SECRET_ID"] == "flightdeck-smoke-api-key"
    script = (ROOT / ".github/scripts/api-key.sh").read_text()
    assert 'echo "::add-mask::${key}"' in script
    assert script.index("::add-mask::") < script.index('>"$file"'), "masked before it is written anywhere"
    names = [s.get("name", "") for s in steps(job)]
    assert names.index(step["name"]) < next(i for i, n in enumerate(names) if "Run migrations" in n)


def test_the_smoke_check_proves_auth_is_on_in_the_new_revision():
    """A request without a key must get 401 and one with the key 200, before the event is published."""
    text = (ROOT / ".github/scripts/post-deploy-check.sh").read_text()
    keyless = text.index('get_without_key "/v1/')
    assert re.search(r'get_without_key "/v1/[^"]+"\)"\nif \[\[ "\$status" != 401 \]\]', text), "the 401 must be required"
    assert keyless < text.index("gcloud pubsub topics publish")
    assert re.search(r'^get_without_key\(\) \{.*\n  curl [^\n]*"\$\{api\}\$1"', text, re.M), "and it must send no key"
    assert "-H" not in re.search(r"^get_without_key\(\) \{.*?^\}", text, re.M | re.S).group(0).split("\n", 1)[1]


def test_cd_rolls_out_the_prober_when_it_exists_and_rolls_it_back():
    job = deploy_job()
    assert job["env"]["PROBE_SERVICE"] == "flightdeck-probe"
    runtime = (ROOT / "terraform/modules/runtime/variables.tf").read_text()
    assert 'name              = optional(string, "flightdeck-probe")' in runtime, "the service Terraform creates"
    record = next(s for s in steps(job) if s.get("id") == "previous")
    assert 'cloudrun.sh present "$PROBE_SERVICE"' in record["run"] and "probe_present=" in record["run"]
    deploy = next(s for s in steps(job) if "Deploy the prober" in s.get("name", ""))
    assert deploy["if"] == "steps.previous.outputs.probe_present == 'true'", "skipped while probe_enabled is false"
    assert deploy["run"] == '.github/scripts/cloudrun.sh deploy-latest "$PROBE_SERVICE" "$IMAGE_REF"'
    assert deploy["env"]["IMAGE_REF"] == "${{ steps.image.outputs.ref }}"
    rollback = step_running("cloudrun.sh rollback")
    assert 'rollback "$PROBE_SERVICE" "$PREVIOUS_PROBE"' in rollback["run"]
    assert rollback["env"]["PREVIOUS_PROBE"] == "${{ steps.previous.outputs.probe }}"


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
    assert ecosystems >= {"cargo", "github-actions", "docker", "terraform"}
    for update in config["updates"]:
        assert update["cooldown"]["default-days"] >= 7
