"""The deployer's grants in Terraform cover every call the CD scripts make, each grant with its
reason, and nothing is granted at project level that a resource-level grant could do.

Every `gcloud` command the workflows and .github/scripts run must be in GCLOUD_NEEDS; each entry
names the Terraform grant (file, resource, role) that allows it, and the test reads the Terraform
to check that grant exists, has that role and goes to the deployer. A new gcloud call without an
entry, or an entry whose grant was removed, fails here, not at 2 a.m. on the first deploy.
"""

import re

import pytest

from conftest import ROOT

TERRAFORM = ROOT / "terraform"

# gcloud command -> [(file, resource address, role, why)]; a grant of None needs no IAM.
GRANTS = {
    "registry_writer": ("stack/main.tf", "module.registry writer_members = { deployer = module.identity.deployer_member }",
                        "roles/artifactregistry.writer",
                        "push images, read them, add the staged-<tree> tag, store cosign signatures and attestations"),
    "run_developer_services": ("modules/runtime/main.tf", "google_cloud_run_v2_service_iam_member.deployer",
                               "roles/run.developer",
                               "describe, deploy and move traffic and tags of flightdeck-api/-ingest/-probe"),
    "run_developer_job": ("modules/runtime/main.tf", "google_cloud_run_v2_job_iam_member.deployer",
                          "roles/run.developer", "point flightdeck-migrate at the digest and execute it"),
    "act_as_runtime": ("modules/identity/main.tf", "google_service_account_iam_member.deployer_acts_as_runtime",
                       "roles/iam.serviceAccountUser", "a revision or job runs as a runtime service account"),
    "act_as_probe": ("modules/identity/main.tf", "google_service_account_iam_member.deployer_acts_as_probe",
                     "roles/iam.serviceAccountUser", "a flightdeck-probe revision runs as the prober's service account"),
    "topic_publisher": ("stack/main.tf", "module.pubsub probe_publisher_members = { deployer = module.identity.deployer_member }",
                        "roles/pubsub.publisher", "the synthetic probe publishes one marked event"),
    "smoke_api_key": ("modules/identity/smoke.tf", "google_secret_manager_secret_iam_member.deployer_smoke_api_key",
                      "roles/secretmanager.secretAccessor",
                      "the probe and the canary call the new revision through the edge with the CI API key"),
    "timeseries": ("modules/identity/main.tf", "google_project_iam_member.deployer_canary_reader",
                   "${google_project_iam_custom_role.canary_reader.name}",
                   "the canary reads run.googleapis.com/request_count (custom role: monitoring.timeSeries.list)"),
}

GCLOUD_NEEDS = {
    "auth configure-docker": [],
    "auth print-access-token": [],
    "artifacts docker images describe": ["registry_writer"],
    "artifacts docker tags add": ["registry_writer"],
    "run services describe": ["run_developer_services"],
    "run services update-traffic": ["run_developer_services"],
    "run deploy": ["run_developer_services", "act_as_runtime", "act_as_probe"],
    "run jobs update": ["run_developer_job", "act_as_runtime"],
    "run jobs execute": ["run_developer_job"],
    "pubsub topics publish": ["topic_publisher"],
    "secrets versions access latest": ["smoke_api_key"],
}
# Calls that are not gcloud: the API (through the edge, with the API key: no IAM on the service),
# Cloud Monitoring and cosign on the registry.
OTHER_NEEDS = {
    'curl -H @"$header" ${api}': ["smoke_api_key"],
    "/v3/projects/${PROJECT_ID}/timeSeries": ["timeseries"],
    "cosign sign": ["registry_writer"],
    "cosign attest": ["registry_writer"],
    "cosign copy": ["registry_writer"],
}


def cd_sources():
    paths = sorted((ROOT / ".github/scripts").glob("*.sh")) + [ROOT / ".github/workflows/cd.yml",
                                                               ROOT / ".github/workflows/deploy.yml"]
    return {p.relative_to(ROOT).as_posix(): p.read_text() for p in paths}


def gcloud_calls():
    calls = set()
    for name, text in cd_sources().items():
        text = text.replace("\\\n", " ")
        for line in text.splitlines():
            line = re.sub(r"(^|\s)#.*", "", line)
            for match in re.finditer(r"(?<![\w-])gcloud((?: [a-z][a-z-]*)+)", line):
                words = match.group(1).split()
                calls.add((" ".join(words), name))
    return calls


def test_the_scripts_make_gcloud_calls_at_all():
    assert len({c for c, _ in gcloud_calls()}) >= 8, "the parser no longer finds the gcloud calls"


@pytest.mark.parametrize("call,source", sorted(gcloud_calls()))
def test_every_gcloud_call_has_its_grants(call, source):
    assert call in GCLOUD_NEEDS, f"{source} runs `gcloud {call}`: add it to GCLOUD_NEEDS with the grant it needs"


def test_every_other_cloud_call_is_listed():
    text = "\n".join(cd_sources().values())
    for fragment in OTHER_NEEDS:
        assert fragment.split()[0] in text
    for tool in ("cosign", "curl"):
        for m in re.finditer(rf"(?<![\w/-]){tool} ([a-z][\w-]*) [\"$-]", text):
            if tool == "cosign" and m.group(1) in ("verify", "verify-attestation"):
                continue  # reads: covered by the registry writer role
            if tool == "curl":
                continue
            assert f"{tool} {m.group(1)}" in OTHER_NEEDS, f"{tool} {m.group(1)} is not in OTHER_NEEDS"


def resource_block(text, address):
    rtype, name = address.split(".", 1)
    m = re.search(rf'^resource "{rtype}" "{name}" {{\n(.*?)^}}', text, re.M | re.S)
    return m.group(1) if m else None


@pytest.mark.parametrize("key", sorted(GRANTS))
def test_each_grant_exists_goes_to_the_deployer_and_has_a_reason(key):
    where, address, role, why = GRANTS[key]
    assert len(why) > 20
    files = sorted(TERRAFORM.glob(where))
    assert files, where
    for path in files:
        text = path.read_text()
        if address.startswith("module."):
            module, wiring = address.split(" ", 1)
            block = re.search(rf'^module "{module.split(".")[1]}" {{\n(.*?)^}}', text, re.M | re.S)
            assert block, f"{path}: no {module}"
            assert re.search(r"\s+".join(map(re.escape, wiring.split())), block.group(1)), f"{path}: {module} lacks {wiring}"
            continue
        block = resource_block(text, address)
        assert block, f"{path}: no {address}"
        expression = role.removeprefix("${").removesuffix("}")
        assert re.search(rf'^\s*role\s*=\s*("{re.escape(role)}"|{re.escape(expression)})\s*$', block, re.M), \
            f"{address} does not grant {role}"
        # To the deployer, or (the ID token) on the deployer for the deploy environment's principals.
        assert re.search(r"^\s*(member|service_account_id)\s*=.*deployer", block, re.M), \
            f"{address} is not granted to (or on) the deployer"
    if key == "registry_writer":
        registry = (TERRAFORM / "modules/registry/main.tf").read_text()
        assert '"roles/artifactregistry.writer"' in resource_block(registry, "google_artifact_registry_repository_iam_member.writers")
    if key == "topic_publisher":
        pubsub = (TERRAFORM / "modules/pubsub/main.tf").read_text()
        block = resource_block(pubsub, "google_pubsub_topic_iam_member.probe_publishers")
        assert '"roles/pubsub.publisher"' in block and "google_pubsub_topic.events.name" in block
    if key == "smoke_api_key":
        identity = (TERRAFORM / "modules/identity").glob("*.tf")
        text = "\n".join(p.read_text() for p in identity)
        grant = resource_block(text, "google_secret_manager_secret_iam_member.deployer_smoke_api_key")
        assert "google_secret_manager_secret.smoke_api_key.secret_id" in grant, "that one secret, not the project"
        default = re.search(r'variable "smoke_api_key_secret_id" {.*?default\s*=\s*"([^"]+)"', text, re.S).group(1)
        workflow = (ROOT / ".github/workflows/deploy.yml").read_text()
        assert re.search(rf"^\s+SMOKE_KEY_SECRET_ID: {re.escape(default)}$", workflow, re.M), \
            f"deploy.yml must read the secret Terraform creates ({default})"
    if key == "timeseries":
        identity = (TERRAFORM / "modules/identity/main.tf").read_text()
        assert 'permissions = ["monitoring.timeSeries.list"]' in resource_block(
            identity, "google_project_iam_custom_role.canary_reader")


def test_every_listed_need_names_a_known_grant():
    for needs in list(GCLOUD_NEEDS.values()) + list(OTHER_NEEDS.values()):
        assert set(needs) <= set(GRANTS)


def test_no_grant_is_listed_that_no_call_needs():
    used = {g for needs in list(GCLOUD_NEEDS.values()) + list(OTHER_NEEDS.values()) for g in needs}
    assert used == set(GRANTS), f"grants no call needs: {set(GRANTS) - used} (least privilege: remove them)"


def test_production_can_read_the_staging_registry_to_promote():
    stack = (TERRAFORM / "stack/main.tf").read_text()
    assert re.search(r"reader_members\s*=\s*var\.image_reader_members", stack)
    staging = (TERRAFORM / "envs/staging/main.tf").read_text()
    assert re.search(r"^\s*image_reader_members\s*=\s*var\.image_reader_members$", staging, re.M)
    example = (TERRAFORM / "envs/staging/terraform.tfvars.example").read_text()
    assert re.search(r'image_reader_members\s*=\s*{\s*\n\s*prod-deployer\s*=\s*"serviceAccount:flightdeck-deployer@', example)
