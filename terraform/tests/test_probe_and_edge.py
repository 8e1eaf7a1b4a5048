"""The black-box prober and the third-party edge, as the parsed HCL declares them.

The prober (modules/runtime/probe.tf) exists, runs `flightdeck probe` once with CPU always on,
is scraped like the other services, publishes to the events topic and nowhere else, reads the
API through the public edge with its own key, and has no way to the database. The API
(modules/runtime's instance of modules/service) is reachable only through the edge load balancer (modules/edge), whose Cloud
Armor policy throttles per API key and per IP for keyless requests. CD reaches the revision it
has just deployed through the same edge (candidate.<domain>, the tag "candidate", the same Cloud
Armor policy) with its own key, whose secret only the deployer reads (modules/identity/smoke.tf).
"""

from __future__ import annotations

import json
import re

import pytest

from hcl import TERRAFORM, blocks, parse, unquote

ENVS = ("staging", "prod")


def resource(module: str, rtype: str, name: str) -> dict:
    found = [b for b in blocks("resource", under=f"modules/{module}/") if b.labels == (rtype, name)]
    assert len(found) == 1, f"modules/{module} declares {rtype}.{name} {len(found)} times"
    return found[0].body


def stack_module(name: str) -> dict:
    """A module call of the stack, which every environment instantiates (test_structure.py)."""
    found = [b for b in blocks("module", under="stack/") if b.labels == (name,)]
    assert len(found) == 1, f"stack calls module {name} {len(found)} times"
    return found[0].body


def runtime_service(name: str) -> dict:
    """modules/runtime's call of modules/service for one service (api, ingest)."""
    found = [b for b in blocks("module", under="modules/runtime/") if b.labels == (name,)]
    assert len(found) == 1, f"modules/runtime calls module {name} {len(found)} times"
    assert unquote(found[0].body["source"]) == "../service"
    return found[0].body


def text(value) -> str:
    return json.dumps(value, default=str)


def containers(service: dict) -> list[dict]:
    return service["template"][0]["containers"]


def literal_env(container: dict) -> dict[str, str]:
    """Static env blocks of a container, name -> value (or the value_source block)."""
    return {unquote(e["name"]): e.get("value_source", e.get("value")) for e in container.get("env", [])}


def dynamic_env(container: dict) -> str:
    """The for_each expression of the container's dynamic env block."""
    for d in container.get("dynamic", []):
        if '"env"' in d:
            return d['"env"']["for_each"]
    return ""


PROBE = resource("runtime", "google_cloud_run_v2_service", "probe")
# The API and the ingest worker: modules/service, called by modules/runtime with what differs.
SERVICE = resource("service", "google_cloud_run_v2_service", "main")
API = runtime_service("api")

# Every way the prober's identity can appear in the stack, and where it may.
PROBE_IDENTITY = re.compile(r"module\.identity\.probe_(member|email)")
PROBE_IDENTITY_ALLOWED = {("pubsub", "prober_member"), ("runtime", "service_accounts")}


# --- the prober ------------------------------------------------------------------


def test_probe_runs_flightdeck_probe_as_one_always_on_instance():
    app = containers(PROBE)[0]
    assert [unquote(a) for a in app["args"]] == ["probe"]
    assert PROBE["template"][0]["scaling"][0] == {"min_instance_count": 1, "max_instance_count": 1, "__is_block__": True}
    assert all(c["resources"][0]["cpu_idle"] is False for c in containers(PROBE)), "CPU must stay allocated between requests"
    assert unquote(PROBE["ingress"]) == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    assert PROBE["invoker_iam_disabled"] is False
    assert unquote(PROBE["template"][0]["service_account"]) == "${var.service_accounts.probe}"


def test_probe_gets_every_setting_it_reads():
    """config.rs: PubSubSettings (project, topic), ProbeSettings, HttpSettings, TelemetrySettings."""
    app = containers(PROBE)[0]
    dynamic = dynamic_env(app)
    for name in ("PUBSUB_TOPIC", "PROBE_API_URL", "PROBE_INTERVAL_MS", "PROBE_TIMEOUT_MS"):
        assert f"{name} =" in dynamic, f"the probe gets no {name}"
    assert "local.telemetry_env" in dynamic
    telemetry = parse(TERRAFORM / "modules/runtime/main.tf")["locals"][0]["telemetry_env"]
    assert {"GOOGLE_CLOUD_PROJECT", "METRICS_PORT", "LOG_FORMAT", "FLIGHTDECK_SYSTEM"} <= set(telemetry)
    # The subscription and the dead-letter topic are the worker's, not the prober's.
    assert "PUBSUB_SUBSCRIPTION" not in text(PROBE) and "PUBSUB_DLQ_TOPIC" not in text(PROBE)


def test_probe_is_scraped_like_the_other_services():
    names = [unquote(c["name"]) for c in containers(PROBE)]
    assert "prometheus-collector" in names
    volume = PROBE["template"][0]["volumes"][0]["secret"][0]
    assert unquote(volume["secret"]) == '${google_secret_manager_secret.gmp_config["probe"].secret_id}'
    gmp = parse(TERRAFORM / "modules/runtime/main.tf")["locals"][0]
    assert gmp["service_names"].get("probe") == "${var.probe.name}", "no collector config for the probe"


def test_probe_reads_the_api_through_the_edge_with_its_own_key():
    key = literal_env(containers(PROBE)[0])["PROBE_API_KEY"][0]["secret_key_ref"][0]
    assert unquote(key["secret"]) == "${google_secret_manager_secret.probe_api_key.secret_id}"
    assert unquote(key["version"]) == "latest"
    default = parse(TERRAFORM / "modules/runtime/variables.tf")["variable"]
    probe_var = next(v['"probe"'] if '"probe"' in v else v["probe"] for v in default if "probe" in v or '"probe"' in v)
    assert 'api_key_secret_id = optional(string, "flightdeck-probe-api-key")' in probe_var["type"]
    # Created empty: an operator adds the version, Terraform never holds the key.
    versions = [b for b in blocks("resource") if b.labels[0] == "google_secret_manager_secret_version"]
    assert all("probe_api_key" not in text(v.body) for v in versions)
    probe = stack_module("runtime")["probe"]
    assert probe["api_url"] == "${module.edge.url}", "the probe must read through the public URL"


def test_probe_has_no_database_access():
    body = text(PROBE)
    assert "cloud-sql-proxy" not in body and "DATABASE_URL" not in body and "database_url" not in body
    assert "vpc_access" not in PROBE["template"][0], "the probe needs no VPC egress: it reaches nothing private"
    # Only the accounts of `runtime` become Cloud SQL IAM users; the prober's is not one of them.
    identity = parse(TERRAFORM / "modules/identity/main.tf")["locals"][0]
    assert set(identity["runtime"]) - {"__is_block__"} == {"api", "ingest", "migrate"}
    emails = next(b for b in blocks("output", under="modules/identity/") if b.labels == ("service_account_emails",))
    assert "google_service_account.runtime" in emails.body["value"] and "probe" not in emails.body["value"]
    assert unquote(stack_module("database")["iam_service_accounts"]) == "${module.identity.service_account_emails}"


def test_probe_identity_is_granted_only_the_events_topic_and_its_runtime():
    """In the stack, the prober's account goes only to Pub/Sub's probe publishers and to the runtime;
    the environments only pass values to the stack."""
    for m in blocks("module", under="stack/"):
        for argument, value in m.body.items():
            if PROBE_IDENTITY.search(text(value)):
                assert (m.labels[0], argument) in PROBE_IDENTITY_ALLOWED, f"stack: {m.labels[0]}.{argument} gets the probe's identity"
    assert stack_module("pubsub")["prober_member"] == "${module.identity.probe_member}"
    for env in ENVS:
        assert not any(PROBE_IDENTITY.search(text(m.body)) for m in blocks("module", under=f"envs/{env}/"))


def test_probe_publishers_may_publish_to_the_events_topic_only():
    for variable in ("var.prober_member", "var.probe_publisher_members"):
        users = [b for b in blocks("resource", under="modules/pubsub/") if variable in text(b.body)]
        assert len(users) == 1, f"{variable} must feed exactly one grant"
    assert "var.prober_member" in text(users[0].body)
    grant = users[0]
    assert grant.labels[0] == "google_pubsub_topic_iam_member"
    assert unquote(grant.body["topic"]) == "${google_pubsub_topic.events.name}"
    assert unquote(grant.body["role"]) == "roles/pubsub.publisher"


def test_runtime_grants_the_probe_secrets_only():
    """The runtime module's grants: secret reads for the workloads (the probe: its key and its
    collector config), run.developer for the deployer, the collector configs for the planner."""
    for grant in blocks("resource", under="modules/runtime/"):
        if not re.match(r"^google_\w+_iam_member$", grant.labels[0]):
            continue
        role, member = unquote(grant.body["role"]), unquote(grant.body["member"])
        if "var.service_accounts" in member:
            assert grant.labels[0] == "google_secret_manager_secret_iam_member", grant.address
            assert role == "roles/secretmanager.secretAccessor", grant.address
        elif member == "${var.planner_member}":
            assert role == "roles/secretmanager.secretAccessor" and "gmp_config" in text(grant.body["secret_id"]), grant.address
        else:
            assert member == "${var.deployer_member}", grant.address
            assert role == "roles/run.developer", grant.address


# --- the edge ----------------------------------------------------------------------


# Roles that let a principal invoke a Cloud Run service.
INVOKER_ROLES = {"roles/run.invoker", "roles/run.servicesInvoker"}
# The one shape of invoker grant that cannot reach the API: on a Cloud Run service of the same
# module that is not the API. Project-wide grants and grants on a service named by a variable or
# a literal may land on the API, so they count as grants on it.
ON_ANOTHER_SERVICE = re.compile(r"^\$\{google_cloud_run_v2_service\.(?!api\b)\w+(\[[^\]]*\])?\.name\}$")


def test_api_is_reachable_only_through_the_load_balancer():
    assert unquote(API["ingress"]) == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    assert API["invoker_iam_disabled"] is True
    # The service module applies what its caller says, and refuses the invoker check off with any
    # other ingress at plan time (CKV_FD_7 at scan time).
    assert SERVICE["ingress"] == "${var.ingress}" and SERVICE["invoker_iam_disabled"] == "${var.invoker_iam_disabled}"
    [precondition] = SERVICE["lifecycle"][0]["precondition"]
    assert precondition["condition"] == '${!var.invoker_iam_disabled || var.ingress == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"}'
    default = next(v for v in blocks("variable", under="modules/service/") if v.labels == ("invoker_iam_disabled",))
    assert default.body["default"] is False, "a service keeps the invoker check unless its caller turns it off"
    # The ingest worker keeps the invoker check and takes internal traffic only.
    ingest = runtime_service("ingest")
    assert ingest.get("invoker_iam_disabled", False) is False
    assert unquote(ingest["ingress"]) == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    # With the invoker check off an invoker grant admits no one, and deploy.yml reaches the new
    # revision through the edge with an API key: nothing needs one, so no one may hold one on
    # the API, not even the deployer.
    invokers = [b for b in blocks("resource") if re.match(r"^google_\w+_iam_(member|binding)$", b.labels[0])
                and unquote(b.body.get("role", "")) in INVOKER_ROLES]
    on_api = [b.address for b in invokers if not (b.labels[0].startswith("google_cloud_run_v2_service_iam_")
                                                  and ON_ANOTHER_SERVICE.match(unquote(b.body.get("name", ""))))]
    assert on_api == [], "invoker grants that reach the API service"


def stack_outputs() -> dict[str, str]:
    """The stack's outputs, which every environment outputs as module.flightdeck.<name> (test_structure.py)."""
    return {o.labels[0]: o.body["value"] for o in blocks("output", under="stack/")}


def test_environment_puts_the_edge_in_front_of_the_api():
    edge = stack_module("edge")
    assert edge["api_service_name"] == "${module.runtime.api_service_name}"
    assert edge["domain"] == "${var.api_domain}" and edge["waf_mode"] == "${var.waf_mode}"
    assert stack_module("monitoring")["api_url"] == "${module.edge.url}", "the uptime check must go through the edge"
    outputs = stack_outputs()
    assert outputs["api_url"] == "${module.edge.url}" and outputs["api_ip_address"] == "${module.edge.ip_address}"


def _rules() -> list[dict]:
    return resource("edge", "google_compute_security_policy", "api")["rule"]


def test_cloud_armor_throttles_per_api_key_and_per_ip_without_a_key():
    rules = {r["priority"]: r for r in _rules()}
    per_key = rules[2000]["rate_limit_options"][0]
    assert unquote(rules[2000]["action"]) == "throttle"
    assert per_key["enforce_on_key_configs"][0] == {"enforce_on_key_type": '"HTTP_HEADER"', "enforce_on_key_name": '"X-API-Key"', "__is_block__": True}
    assert unquote(per_key["exceed_action"]) == "deny(429)"
    assert per_key["rate_limit_threshold"][0]["count"] == "${var.rate_limits.per_key.count}"
    anonymous = rules[2020]["rate_limit_options"][0]
    assert unquote(anonymous["enforce_on_key"]) == "IP" and unquote(anonymous["exceed_action"]) == "deny(429)"
    assert anonymous["rate_limit_threshold"][0]["count"] == "${var.rate_limits.anonymous.count}"
    # Every throttle comes after every WAF rule: a throttle's "allow" ends evaluation.
    assert max(p for p, r in rules.items() if unquote(r["action"]) != "throttle" and p < 2147483647) < min(
        p for p, r in rules.items() if unquote(r["action"]) == "throttle")


def test_owasp_rules_follow_waf_mode():
    policy = resource("edge", "google_compute_security_policy", "api")
    waf = policy["dynamic"][0]['"rule"']["content"][0]
    assert waf["preview"] == '${var.waf_mode == "preview"}'
    assert "evaluatePreconfiguredWaf(" in waf["match"][0]["expr"][0]["expression"]
    families = set(parse(TERRAFORM / "modules/edge/armor.tf")["locals"][0]["waf_rules"]) - {"__is_block__"}
    assert {"sqli", "xss", "lfi", "rce", "scannerdetection"} <= families


def test_http_only_redirects_to_https():
    redirect = resource("edge", "google_compute_url_map", "http_redirect")["default_url_redirect"][0]
    assert redirect["https_redirect"] is True
    rule = resource("edge", "google_compute_global_forwarding_rule", "http_redirect")
    assert rule["target"] == "${google_compute_target_http_proxy.http_redirect.id}"
    https = resource("edge", "google_compute_target_https_proxy", "api")
    assert https["ssl_certificates"] == ["${google_compute_managed_ssl_certificate.api.id}",
                                         "${google_compute_managed_ssl_certificate.candidate.id}"]


# --- the candidate host: CD's way to the revision it has just deployed ---------------


EDGE_LOCALS = parse(TERRAFORM / "modules/edge/main.tf")["locals"][0]


def test_candidate_host_reaches_the_tagged_revision_only():
    """candidate.<domain> routes to a serverless NEG pinned to the tag deploy.yml gives the new
    revision; every other host keeps the service's traffic split."""
    assert unquote(EDGE_LOCALS["candidate_tag"]) == "candidate"
    assert unquote(EDGE_LOCALS["candidate_domain"]) == "${local.candidate_tag}.${var.domain}"
    tagged = resource("edge", "google_compute_region_network_endpoint_group", "candidate")["cloud_run"][0]
    assert tagged["service"] == "${var.api_service_name}" and tagged["tag"] == "${local.candidate_tag}"
    public = resource("edge", "google_compute_region_network_endpoint_group", "api")["cloud_run"][0]
    assert "tag" not in public, "the public NEG must follow the traffic split, not a tag"
    url_map = resource("edge", "google_compute_url_map", "api")
    assert url_map["default_service"] == "${google_compute_backend_service.api.id}"
    [host_rule] = url_map["host_rule"]
    [matcher] = url_map["path_matcher"]
    assert host_rule["hosts"] == ["${local.candidate_domain}"] and host_rule["path_matcher"] == matcher["name"]
    assert matcher["default_service"] == "${google_compute_backend_service.candidate.id}"
    assert "path_rule" not in matcher and "route_rules" not in matcher, "the whole candidate host goes to the tag"
    backend = resource("edge", "google_compute_backend_service", "candidate")
    assert backend["backend"][0]["group"] == "${google_compute_region_network_endpoint_group.candidate.id}"
    cert = resource("edge", "google_compute_managed_ssl_certificate", "candidate")
    assert cert["managed"][0]["domains"] == ["${local.candidate_domain}"]
    assert cert["lifecycle"][0]["create_before_destroy"] is True


def test_both_backends_sit_behind_the_same_cloud_armor_policy():
    backends = [b for b in blocks("resource", under="modules/edge/") if b.labels[0] == "google_compute_backend_service"]
    assert {b.labels[1] for b in backends} == {"api", "candidate"}
    for b in backends:
        assert b.body["security_policy"] == "${google_compute_security_policy.api.id}", b.address
        assert unquote(b.body["load_balancing_scheme"]) == "EXTERNAL_MANAGED", b.address
        assert b.body["log_config"][0]["enable"] is True, f"{b.address}: Cloud Armor's verdicts must be logged"


def test_environment_outputs_the_candidate_url():
    assert stack_outputs()["api_candidate_url"] == "${module.edge.candidate_url}"
    edge_outputs = {o.labels[0]: o.body["value"] for o in blocks("output", under="modules/edge/")}
    assert unquote(edge_outputs["candidate_url"]) == "https://${local.candidate_domain}"


# --- the deploy smoke check's API key ------------------------------------------------


def test_smoke_key_secret_is_created_empty_and_only_the_deployer_reads_it():
    secret = resource("identity", "google_secret_manager_secret", "smoke_api_key")
    assert secret["secret_id"] == "${var.smoke_api_key_secret_id}"
    default = next(v for v in blocks("variable", under="modules/identity/") if v.labels == ("smoke_api_key_secret_id",))
    assert unquote(default.body["default"]) == "flightdeck-smoke-api-key"
    # Created empty: an operator adds the version, Terraform never holds the key.
    versions = [b for b in blocks("resource") if b.labels[0] == "google_secret_manager_secret_version"]
    assert all("smoke_api_key" not in text(v.body) for v in versions)
    readers = [b for b in blocks("resource") if re.match(r"^google_\w+_iam_member$", b.labels[0])
               and "smoke_api_key" in text(b.body)]
    assert [b.labels for b in readers] == [("google_secret_manager_secret_iam_member", "deployer_smoke_api_key")]
    grant = readers[0].body
    assert grant["secret_id"] == "${google_secret_manager_secret.smoke_api_key.secret_id}"
    assert unquote(grant["role"]) == "roles/secretmanager.secretAccessor"
    assert unquote(grant["member"]) == "serviceAccount:${google_service_account.deployer.email}"


def test_the_deployer_mints_no_identity_token():
    """The API admits no Google identity (invoker check off, load balancer only): CD uses a key."""
    roles = [unquote(b.body.get("role", "")) for b in blocks("resource") if "iam" in b.labels[0]]
    assert "roles/iam.serviceAccountOpenIdTokenCreator" not in roles
    assert "roles/iam.serviceAccountTokenCreator" not in roles


# --- labels ------------------------------------------------------------------------


def test_every_module_that_takes_labels_gets_the_environment_labels():
    """local.labels carries system = flightdeck-<env> (FLIGHTDECK_SYSTEM), so every labelled resource has it."""
    local_labels = parse(TERRAFORM / "stack" / "main.tf")["locals"][0]["labels"]
    assert unquote(local_labels["system"]) == "flightdeck-${var.environment}"
    for m in blocks("module", under="stack/"):
        module = unquote(m.body["source"]).removeprefix("../modules/")
        takes_labels = any(v.labels == ("labels",) for v in blocks("variable", under=f"modules/{module}/"))
        if takes_labels:
            assert m.body.get("labels") == "${local.labels}", f"stack: module {m.labels[0]} gets no labels = local.labels"
    # ...and so do both services of modules/runtime.
    for name in ("api", "ingest"):
        assert runtime_service(name)["labels"] == "${local.labels}"
