"""Structural rules over the parsed HCL of terraform/ (fixtures excluded).

Each test names the rule it enforces; each can fail on a real change (a variable
without a type, a new project-level grant with no reason, a module one environment
forgets, an alert whose runbook section does not exist).
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest

from hcl import TERRAFORM, TOOLS_DEFAULT, blocks, is_literal, parse, terraform_run, tf_files, unquote

# Project-level grants that have no resource-level equivalent, with the reason.
# Key: "<file>:<resource type>.<name>"; value: (role, reason). Grants with an IAM
# condition that scopes them to one resource need no entry.
PROJECT_LEVEL_GRANTS = {
    "modules/identity/main.tf:google_project_iam_member.metric_writer": (
        "roles/monitoring.metricWriter",
        "Metric descriptors and time series belong to the project; there is no narrower resource to grant on.",
    ),
    "modules/identity/main.tf:google_project_iam_member.trace_agent": (
        "roles/cloudtrace.agent",
        "Traces are written to the project's trace store; Cloud Trace has no resource-level IAM.",
    ),
    "modules/identity/main.tf:google_project_iam_member.deployer_canary_reader": (
        "${google_project_iam_custom_role.canary_reader.name}",
        "The canary reads Cloud Run request counts; Cloud Monitoring has no resource-level IAM, so a custom "
        "role with monitoring.timeSeries.list alone (test_planner_and_canary_roles_only_read).",
    ),
    "modules/identity/main.tf:google_project_iam_member.planner": (
        "${each.key}",
        "terraform plan refreshes every resource of the project; each read-only role of local.planner_roles "
        "carries its reason there (test_planner_and_canary_roles_only_read).",
    ),
}

# IAM resources granted at a scope above a single resource.
BROAD_SCOPE = re.compile(r"^google_(project|folder|organization|billing_account)_iam_(member|binding|policy)$")
AUTHORITATIVE = re.compile(r"^google_\w+_iam_(binding|policy)$")


def _ids(items):
    return [i.address for i in items]


VARIABLES = blocks("variable")
OUTPUTS = blocks("output")


def test_tree_is_found():
    assert len(tf_files()) > 20, "the structural tests should see the whole terraform/ tree"
    assert len(VARIABLES) > 50


@pytest.mark.parametrize("var", VARIABLES, ids=_ids(VARIABLES))
def test_every_variable_is_typed_and_described(var):
    assert var.body.get("type"), f"{var.address} has no type"
    description = unquote(var.body.get("description", ""))
    assert isinstance(description, str) and len(description.strip()) >= 10, f"{var.address} has no useful description"


@pytest.mark.parametrize("out", OUTPUTS, ids=_ids(OUTPUTS))
def test_every_output_is_described(out):
    assert unquote(out.body.get("description", "")).strip(), f"{out.address} has no description"


def _module_dirs():
    return sorted(p.name for p in (TERRAFORM / "modules").iterdir() if p.is_dir())


ENVS = ("staging", "prod")
STACK_SOURCE = "../../stack"


def _calls(under):
    """Module calls of the .tf files in a folder, label -> source."""
    return {m.labels[0]: unquote(m.body["source"]) for m in blocks("module", under=under)
            if m.file.count("/") == under.count("/")}


def _building_blocks():
    """Modules called by other modules (e.g. service, by runtime), not by the stack."""
    return {source.removeprefix("../") for m in _module_dirs() for source in _calls(f"modules/{m}/").values()}


@pytest.mark.parametrize("env", ENVS)
def test_environment_calls_the_stack_only(env):
    assert _calls(f"envs/{env}/") == {"flightdeck": STACK_SOURCE}, (
        f"envs/{env} must only call the shared stack; what differs between environments is a value passed to it"
    )


def test_stack_instantiates_every_module():
    used = {source.removeprefix("../modules/") for source in _calls("stack/").values()}
    assert used | _building_blocks() == set(_module_dirs()), "the stack must call every module under modules/"
    assert not used & _building_blocks(), "a building block of another module is not called by the stack too"


def test_api_and_ingest_are_one_service_module_twice():
    assert _calls("modules/runtime/") == {"api": "../service", "ingest": "../service"}
    services = {b.labels[1] for b in blocks("resource") if b.labels[0] == "google_cloud_run_v2_service"}
    # The prober's shape differs (no database, no VPC egress, a secret env): it stays its own.
    assert services == {"main", "probe"}, f"Cloud Run services outside modules/service: {services}"


def _variables(under):
    return {v.labels[0]: v.body for v in blocks("variable", under=under)}


def _outputs(under):
    return {o.labels[0]: o.body for o in blocks("output", under=under)}


def test_environments_declare_the_same_variables():
    names = {env: set(_variables(f"envs/{env}/")) for env in ENVS}
    # prod may add variables (github_ref); it must not drop any staging has.
    assert names["staging"] <= names["prod"]
    # What both declare is declared alike (one set of inputs, each env its values).
    for name in names["staging"]:
        staging, prod = _variables("envs/staging/")[name], _variables("envs/prod/")[name]
        assert staging == prod, f"envs/staging and envs/prod declare variable {name} differently"


@pytest.mark.parametrize("env", ENVS)
def test_environment_passes_every_input_through_and_sets_the_rest(env):
    """Every stack input is set by the root: an operator input as var.<same name>, the others as values."""
    call = next(m.body for m in blocks("module", under=f"envs/{env}/") if m.labels == ("flightdeck",))
    call = {k: v for k, v in call.items() if not k.startswith("__")}
    stack, root = _variables("stack/"), _variables(f"envs/{env}/")
    assert set(stack) == set(call) - {"source"}, f"envs/{env} leaves stack inputs unset or sets unknown ones"
    for name in stack:
        if name in root:
            assert call[name] == f"${{var.{name}}}", f"envs/{env} passes {name} as {call[name]}, not var.{name}"
        else:
            assert "var." not in str(call[name]) or name == "deploy", f"envs/{env}: {name} is a value of the environment"
    assert set(root) - set(stack) <= {"github_ref"}, "a root variable the stack does not take"


@pytest.mark.parametrize("env", ENVS)
def test_environment_outputs_are_the_stack_outputs(env):
    stack, root = _outputs("stack/"), _outputs(f"envs/{env}/")
    assert set(root) == set(stack)
    for name, body in root.items():
        assert body["value"] == f"${{module.flightdeck.{name}}}", f"envs/{env} output {name}"
        assert body["description"] == stack[name]["description"], f"envs/{env} output {name}: description differs"


IAM_RESOURCES = [r for r in blocks("resource") if re.match(r"^google_\w+_iam_(member|binding|policy)$", r.labels[0])]


@pytest.mark.parametrize("grant", IAM_RESOURCES, ids=_ids(IAM_RESOURCES))
def test_iam_grant_is_resource_scoped_or_listed_with_reason(grant):
    rtype = grant.labels[0]
    assert not AUTHORITATIVE.match(rtype), f"{grant.address}: authoritative IAM ({rtype}) would remove grants made elsewhere; use _iam_member"
    if not BROAD_SCOPE.match(rtype):
        return  # granted on one topic, subscription, service, repository, secret, ...
    if grant.body.get("condition"):
        expression = unquote(grant.body["condition"][0].get("expression", ""))
        assert "resource.name" in expression, f"{grant.address}: the condition must pin resource.name"
        return
    assert grant.address in PROJECT_LEVEL_GRANTS, (
        f"{grant.address} is a project-level grant with no condition: scope it to a resource, "
        "or list it in PROJECT_LEVEL_GRANTS with the reason"
    )
    role, reason = PROJECT_LEVEL_GRANTS[grant.address]
    assert unquote(grant.body["role"]) == role, f"{grant.address} grants {grant.body['role']}, listed as {role}"
    assert reason


def test_project_level_allowlist_has_no_stale_entries():
    addresses = {g.address for g in IAM_RESOURCES}
    assert set(PROJECT_LEVEL_GRANTS) <= addresses


SCOPED_ATTRIBUTES = ("project", "project_id", "region", "location")


@pytest.mark.parametrize(
    "res", [r for r in blocks("resource") if not r.file.startswith("policies/")], ids=lambda r: r.address
)
def test_no_hard_coded_project_or_region(res):
    for attribute in SCOPED_ATTRIBUTES:
        value = res.body.get(attribute)
        assert not is_literal(value), f"{res.address}: {attribute} = {value} is hard-coded; pass it as a variable"


EMAIL = re.compile(r"(?<![\w$}])[\w.+-]+@[\w-]+(\.[\w-]+)+")


@pytest.mark.parametrize("path", tf_files(), ids=lambda p: p.relative_to(TERRAFORM).as_posix())
def test_no_hard_coded_email_or_project_id(path):
    text = path.read_text()
    emails = [m.group(0) for m in EMAIL.finditer(text)]
    assert not emails, f"{path.name} hard-codes {emails}; take addresses from variables"
    assert not re.search(r'project(_id)?\s*=\s*"[a-z][a-z0-9-]{4,28}[a-z0-9]"', text), f"{path.name} hard-codes a project id"


def test_every_alert_links_to_an_existing_runbook_section():
    monitoring = next(b for b in blocks("resource", under="modules/monitoring/") if b.labels[0] == "google_monitoring_alert_policy")
    assert monitoring  # the module defines alert policies
    source = (TERRAFORM / "modules/monitoring/main.tf").read_text()
    runbook = (TERRAFORM / "modules/monitoring/RUNBOOK.md").read_text()
    headings = set(re.findall(r"^## ([a-z0-9-]+)$", runbook, flags=re.M))

    locals_blocks = [l for p in tf_files() if "modules/monitoring/" in p.as_posix() for l in __import__("hcl").parse(p).get("locals", [])]
    alert_keys = set()
    for lb in locals_blocks:
        for name in ("threshold_alerts", "promql_alerts"):
            alert_keys |= set(lb.get(name, {}).keys()) - {"__is_block__"}
    anchors = set(re.findall(r'url\s*=\s*"\$\{local\.runbook\}#([a-z0-9-]+)"', source))
    wanted = {unquote(k) for k in alert_keys} | anchors
    # The alerts that also run locally are generated (prometheus_alerts.json) and link their
    # docs/runbooks section; alerts/tests/test_cloud_parity.py checks those links.
    assert len(wanted) >= 7
    missing = sorted(wanted - headings)
    assert not missing, f"RUNBOOK.md has no section for {missing}"


ROOT = TERRAFORM.parent
RUNBOOK_CONFIG = ROOT / "alerts" / "runbooks.yml"
MONITORING_RUNBOOK = "terraform/modules/monitoring/RUNBOOK.md"


def _runbook_url_base(text: str | None = None) -> str:
    text = RUNBOOK_CONFIG.read_text() if text is None else text
    m = re.search(r"^runbook_url_base:\s*(\S+)\s*$", text, flags=re.M)
    assert m, f"{RUNBOOK_CONFIG.relative_to(ROOT)} has no runbook_url_base line"
    return m.group(1)


def _locals(rel: str) -> dict:
    merged = {}
    for block in parse(TERRAFORM / rel).get("locals", []):
        merged.update(block)
    return merged


def _local_source(rel: str, name: str) -> str:
    """`name = expression` of a one-line local of terraform/<rel>, as written there."""
    m = re.search(rf"^  {name}\s*=\s*(.+)$", (TERRAFORM / rel).read_text(), flags=re.M)
    assert m, f"{rel} has no local {name}"
    return f"  {name} = {m.group(1)}\n"


def _variable_source(rel: str, name: str) -> str:
    text = (TERRAFORM / rel).read_text()
    start = text.index(f'variable "{name}" {{')
    return text[start:re.compile(r"^}", re.M).search(text, start).end()] + "\n"


def test_runbook_links_are_built_from_the_one_base():
    """Every runbook link of an alert policy starts with runbook_url_base of alerts/runbooks.yml.

    The stack reads that base (no per-environment variable), hands it to modules/monitoring, which
    links the sections of its RUNBOOK.md under it; the generated policies carry the runbook_url of
    their alerting rule (make slo-gen), which starts with the same base (make docs-check)."""
    base = _runbook_url_base()
    # The stack reads the base from alerts/runbooks.yml, by a path that reaches it from terraform/stack.
    expression = _locals("stack/main.tf").get("runbook_url_base", "")
    m = re.fullmatch(r'\$\{yamldecode\(file\("\$\{path\.module\}/([^"]+)"\)\)\.runbook_url_base\}', expression)
    assert m, f"terraform/stack must set local.runbook_url_base from alerts/runbooks.yml, not {expression!r}"
    assert (TERRAFORM / "stack" / m.group(1)).resolve() == RUNBOOK_CONFIG.resolve(), m.group(1)
    monitoring = next(b for b in blocks("module", under="stack/") if b.labels[0] == "monitoring")
    assert monitoring.body.get("runbook_url_base") == "${local.runbook_url_base}", "stack: monitoring.runbook_url_base"
    # modules/monitoring: its RUNBOOK.md under the base, a file of this repository.
    assert _locals("modules/monitoring/main.tf").get("runbook") == f'"${{var.runbook_url_base}}{MONITORING_RUNBOOK}"'
    assert (ROOT / MONITORING_RUNBOOK).is_file()
    # Every link: a section of that runbook, or the generated rule's runbook_url.
    wrong = []
    for resource in blocks("resource"):
        for documentation in resource.body.get("documentation", []):
            for link in documentation.get("links", []):
                url = link.get("url", "")
                if url == "${each.value.runbook_url}" and resource.labels[:2] == ("google_monitoring_alert_policy", "prometheus"):
                    continue
                if resource.file == "modules/monitoring/main.tf" and re.fullmatch(r'"\$\{local\.runbook\}#[^"]+"', url):
                    continue
                wrong.append(f"{resource.address}: {url}")
    assert not wrong, f"runbook links not built from runbook_url_base of alerts/runbooks.yml: {wrong}"
    generated = json.loads((TERRAFORM / "modules/monitoring/prometheus_alerts.json").read_text())["alerts"]
    stale = sorted(k for k, a in generated.items() if not a["runbook_url"].startswith(base))
    assert not stale, f"prometheus_alerts.json: runbook_url of {stale} does not start with {base}: run `make slo-gen`"
    # No other source of the base: no variable, tfvars key or CI-required key.
    names = {"runbook_base_url", "runbook_url_base"}
    extra = [v.address for v in blocks("variable") if v.labels[0] in names and not v.file.startswith("modules/monitoring/")]
    assert not extra, f"the runbook base comes from alerts/runbooks.yml, not from {extra}"
    for path in [*TERRAFORM.glob("envs/*/*.tfvars*"), *(ROOT / ".github/workflows").glob("*.yml")]:
        assert not names & set(re.findall(r"\w+", path.read_text())), f"{path.relative_to(ROOT)} still sets a runbook base"


def test_runbook_links_follow_the_base_when_it_moves():
    """Terraform itself evaluates the stack's and the module's runbook locals, in a copy of the repository
    layout whose alerts/runbooks.yml names another default branch: the link follows that one line."""
    moved = RUNBOOK_CONFIG.read_text().replace(_runbook_url_base(), "https://github.com/someone/elsewhere/blob/master/")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "alerts").mkdir()
        (work / "alerts/runbooks.yml").write_text(moved)
        stack, module, env = (work / "terraform" / d for d in ("stack", "modules/monitoring", "envs/any"))
        for d in (stack, module, env):
            d.mkdir(parents=True)
        (stack / "main.tf").write_text(
            "locals {\n" + _local_source("stack/main.tf", "runbook_url_base") + "}\n"
            'module "monitoring" {\n  source           = "../modules/monitoring"\n'
            "  runbook_url_base = local.runbook_url_base\n}\n"
            'output "runbook" {\n  value = module.monitoring.runbook\n}\n')
        (module / "main.tf").write_text(
            _variable_source("modules/monitoring/variables.tf", "runbook_url_base")
            + "locals {\n" + _local_source("modules/monitoring/main.tf", "runbook") + "}\n"
            'output "runbook" {\n  value = local.runbook\n}\n')
        (env / "main.tf").write_text('module "stack" {\n  source = "../../stack"\n}\n'
                                     'output "runbook" {\n  value = module.stack.runbook\n}\n')
        terraform_run(env, "init", "-input=false", "-backend=false")
        terraform_run(env, "apply", "-input=false", "-auto-approve", "-lock=false")
        out = json.loads(terraform_run(env, "output", "-json"))
    assert out["runbook"]["value"] == f"https://github.com/someone/elsewhere/blob/master/{MONITORING_RUNBOOK}"


def test_tools_default_matches_lib_sh():
    lib = (ROOT / "scripts/lib.sh").read_text()
    m = re.search(r'^export FLIGHTDECK_TOOLS="\$\{FLIGHTDECK_TOOLS:-([^}]+)\}"$', lib, flags=re.M)
    assert m and m.group(1) == TOOLS_DEFAULT, "terraform/tests/hcl.py TOOLS_DEFAULT differs from scripts/lib.sh"


def test_slo_defaults_match_the_brief():
    import json

    # The SLOs come from slo/specs through the generated tfvars (the module has no default).
    slos = json.loads((TERRAFORM / "envs" / "prod" / "slo.auto.tfvars.json").read_text())["slos"]
    availability, latency = slos["api-availability"], slos["api-latency"]
    assert availability["goal"] == 0.999 and availability["rolling_period_days"] == 28
    assert latency["goal"] == 0.99 and latency["latency_threshold_seconds"] == 0.25


SLO_ATTRIBUTES = {"display_name", "service", "kind", "goal", "rolling_period_days", "latency_threshold_seconds",
                  "total_filter", "bad_filter", "distribution_filter", "range_max", "burn_rate_alerts"}
BURN_ATTRIBUTES = {"name", "severity", "long_window", "short_window", "threshold"}


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_generated_slo_tfvars_fit_the_slos_variable(env):
    """slo.auto.tfvars.json (written by the slo/ generator) must match the typed variable."""
    import json

    path = TERRAFORM / "envs" / env / "slo.auto.tfvars.json"
    if not path.exists():
        pytest.skip("no generated SLO file for this environment yet")
    slos = json.loads(path.read_text())["slos"]
    assert slos, "the generated file defines no SLO"
    for slo_id, slo in slos.items():
        assert set(slo) <= SLO_ATTRIBUTES, f"{slo_id}: unknown attributes {set(slo) - SLO_ATTRIBUTES}"
        assert {"display_name", "kind", "goal", "rolling_period_days"} <= set(slo)
        assert slo["kind"] in ("availability", "latency", "good_total", "distribution_cut")
        assert 0 < slo["goal"] < 1
        assert slo["kind"] != "latency" or slo.get("latency_threshold_seconds", 0) > 0
        for alert in slo.get("burn_rate_alerts", []):
            assert set(alert) == BURN_ATTRIBUTES, f"{slo_id}: burn-rate alert {alert}"
            assert re.fullmatch(r"[0-9]+s", alert["long_window"]) and re.fullmatch(r"[0-9]+s", alert["short_window"])


READ_ONLY_ROLE = re.compile(r"^roles/[\w.]+\.(\w*[vV]iewer|reader|securityReviewer)$")


def test_planner_and_canary_roles_only_read():
    """The planner's project roles are read-only, each with a reason; the canary role only lists series."""
    from hcl import parse

    identity = parse(TERRAFORM / "modules/identity/main.tf")
    planner_roles = {unquote(k): unquote(v) for k, v in identity["locals"][0]["planner_roles"].items()
                     if not k.startswith("__")}
    assert len(planner_roles) >= 8
    for role, reason in planner_roles.items():
        assert READ_ONLY_ROLE.match(role), f"planner role {role} is not a viewer/reader role"
        assert role not in ("roles/viewer", "roles/editor", "roles/owner")
        assert len(reason) > 20, f"planner role {role} has no reason"
    custom = next(b for b in blocks("resource", under="modules/identity/")
                  if b.labels == ("google_project_iam_custom_role", "canary_reader"))
    assert [unquote(p) for p in custom.body["permissions"]] == ["monitoring.timeSeries.list"]


# Fields (by the text that uses them) and the google provider version that introduced them
# (terraform-provider-google CHANGELOG). A module using one must floor the provider at least there,
# and an environment at least at the highest floor of the modules it calls.
FIELD_FLOORS = {
    # "cloudrunv2: added google_cloud_run_v2_job support for depends_on and startup_probe" (6.39.0)
    ("google_cloud_run_v2_job", "depends_on"): (6, 39),
    ("google_cloud_run_v2_job", "startup_probe"): (6, 39),
    # "cloudrunv2: added invoker_iam_disabled field to google_cloud_run_v2_service" (6.8.0)
    ("google_cloud_run_v2_service", "invoker_iam_disabled"): (6, 8),
    # "cloudrunv2: added deletion_protection field to google_cloudrunv2_service" (6.0.0)
    ("google_cloud_run_v2_service", "deletion_protection"): (6, 0),
    # "compute: added rule.rate_limit_options.enforce_on_key_configs field to
    # google_compute_security_policy resource" (6.14.0)
    ("google_compute_security_policy", "enforce_on_key_configs"): (6, 14),
    # "compute: promoted labels field on google_compute_global_address resource from beta to GA" (5.38.0)
    ("google_compute_global_address", "labels"): (5, 38),
}


def _floor(path):
    text = path.read_text()
    match = re.search(r'(?<!_)version\s*=\s*">=\s*(\d+)\.(\d+)', text)
    assert match, f"{path} does not floor the google provider"
    return int(match.group(1)), int(match.group(2))


def _resource_source(text, rtype):
    """Source of every `resource "rtype"` block in text (up to the next top-level block)."""
    out = []
    for m in re.finditer(rf'^resource "{rtype}"', text, re.M):
        end = re.search(r"^(resource|data|locals|variable|output|module) ", text[m.end():], re.M)
        out.append(text[m.start(): m.end() + (end.start() if end else len(text))])
    return "\n".join(out)


def _needed_floor(module_dir):
    text = "\n".join(p.read_text() for p in sorted(module_dir.glob("*.tf")))
    needed = (0, 0)
    for (rtype, field), version in FIELD_FLOORS.items():
        if re.search(rf"^\s*{field}\s*[={{]", _resource_source(text, rtype), re.M):
            needed = max(needed, version)
    return needed


@pytest.mark.parametrize("module", _module_dirs())
def test_module_provider_floor_covers_the_fields_it_uses(module):
    module_dir = TERRAFORM / "modules" / module
    assert _floor(module_dir / "versions.tf") >= _needed_floor(module_dir), f"modules/{module}: raise the google floor"


def test_runtime_floor_is_detected():
    """The table above finds what it should: the runtime module needs 6.39 for the migrate job."""
    assert _needed_floor(TERRAFORM / "modules" / "runtime") == (6, 39)


def test_edge_floor_is_detected():
    """...and the edge module 6.14 for the per-API-key throttle (enforce_on_key_configs)."""
    assert _needed_floor(TERRAFORM / "modules" / "edge") == (6, 14)


def _modules_under(folder):
    """Module folders a folder calls, transitively (relative to terraform/)."""
    found = set()
    for source in _calls(f"{folder}/").values():
        target = (TERRAFORM / folder / source).resolve().relative_to(TERRAFORM).as_posix()
        found |= {target} | _modules_under(target)
    return found


@pytest.mark.parametrize("env", ENVS)
def test_environment_provider_floor_is_the_highest_of_its_modules(env):
    used = _modules_under(f"envs/{env}")
    assert {f"modules/{m}" for m in _module_dirs()} | {"stack"} == used
    highest = max(_floor(TERRAFORM / m / "versions.tf") for m in used)
    assert _floor(TERRAFORM / "envs" / env / "versions.tf") >= highest
    assert _floor(TERRAFORM / "stack" / "versions.tf") >= highest
