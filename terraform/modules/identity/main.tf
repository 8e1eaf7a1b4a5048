# Identities: one service account per workload (API, ingest worker, migrate job, prober), a deployer
# account for the CD workflows and a read-only planner for CI's `terraform plan`, both reached
# from GitHub Actions through Workload Identity Federation (no key files), and the few grants
# that only exist at project level. Grants on a specific resource (subscription, topic,
# instance, repository, service) live in the module that owns the resource; the deployer's API
# key for CD's smoke check is the deployer's own credential, so its secret lives here (smoke.tf).

locals {
  runtime = {
    api     = "Runs `flightdeck serve` (flightdeck-api)."
    ingest  = "Runs `flightdeck ingest` (flightdeck-ingest)."
    migrate = "Runs `flightdeck migrate` (flightdeck-migrate job)."
  }

  runtime_members = { for k, sa in google_service_account.runtime : k => "serviceAccount:${sa.email}" }

  # The prober is kept out of `runtime` on purpose: every account there gets a Cloud SQL IAM user
  # (modules/database), and the prober never touches the database.
  probe_member = "serviceAccount:${google_service_account.probe.email}"

  # Every account whose workload exports metrics (Managed Prometheus sidecar) and traces.
  telemetry_members = merge(local.runtime_members, { probe = local.probe_member })

  # GitHub's job_workflow_ref is "<owner>/<repo>/.github/workflows/<file>@<ref>": the workflow
  # file that runs the job (for a reusable workflow, the called file) at the ref it ran from.
  workflow_prefix = "${var.github_repository}/.github/workflows/"

  deploy_workflow_refs = flatten([for w in var.deploy_workflows : [for r in var.deploy_refs : "${local.workflow_prefix}${w}@${r}"]])
  deploy_workflow_prefixes = flatten([for w in var.deploy_workflows : [
    for p in var.deploy_ref_prefixes : "${local.workflow_prefix}${w}@${p}"
  ]])

  # The deployer: only jobs of the deploy environment (whose protection rules GitHub enforces:
  # branches, reviewers), run by the deploy workflows, from the deploy refs.
  deploy_condition = join(" || ", concat(
    ["assertion.job_workflow_ref in [${join(", ", [for r in local.deploy_workflow_refs : "'${r}'"])}]"],
    [for p in local.deploy_workflow_prefixes : "assertion.job_workflow_ref.startsWith('${p}')"],
  ))
  deploy_ref_condition = join(" || ", concat(
    ["assertion.ref in [${join(", ", [for r in var.deploy_refs : "'${r}'"])}]"],
    [for p in var.deploy_ref_prefixes : "assertion.ref.startsWith('${p}')"],
  ))

  # The planner: jobs of the plan environment run by the CI workflow, on any ref (pull requests
  # included); it can only read.
  plan_condition = "assertion.job_workflow_ref.startsWith('${local.workflow_prefix}${var.plan_workflow}@')"

  attribute_condition = join(" && ", [
    "assertion.repository_id == '${var.github_repository_id}'",
    "((assertion.environment == '${var.deploy_environment}' && (${local.deploy_condition}) && (${local.deploy_ref_condition})) || (assertion.environment == '${var.plan_environment}' && ${local.plan_condition}))",
  ])

  principal_set = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/attribute.environment"

  # What terraform plan must read, by role, with the reason. All read-only; no role here can
  # change a resource, read a database row or pull a secret other than those listed.
  planner_roles = {
    "roles/iam.securityReviewer"            = "Reads the IAM policies of the project and of every resource Terraform grants on."
    "roles/iam.serviceAccountViewer"        = "Reads the service accounts this module creates."
    "roles/iam.workloadIdentityPoolViewer"  = "Reads the GitHub workload identity pool and provider."
    "roles/run.viewer"                      = "Reads the Cloud Run services and the migrate job."
    "roles/pubsub.viewer"                   = "Reads topics and subscriptions (not messages)."
    "roles/cloudsql.viewer"                 = "Reads the Cloud SQL instance, database and IAM users (no data)."
    "roles/artifactregistry.reader"         = "Reads the repository and its cleanup policies."
    "roles/secretmanager.viewer"            = "Reads secret metadata, the probe's API key included (payloads only of the collector configs, granted in modules/runtime)."
    "roles/compute.networkViewer"           = "Reads the VPC, subnet, firewall rules, the private service access range and the edge load balancer (address, NEG, backend, Cloud Armor policy, certificate, proxies)."
    "roles/monitoring.viewer"               = "Reads alert policies, notification channels, uptime checks and SLOs."
    "roles/bigquery.metadataViewer"         = "Reads the archive dataset and table definitions (no rows)."
    "roles/serviceusage.serviceUsageViewer" = "Reads which APIs are enabled (the provider checks them)."
    "roles/resourcemanager.tagViewer"       = "Reads tags bound to resources, which the provider refreshes with them."
  }
}

resource "google_service_account" "runtime" {
  for_each     = local.runtime
  project      = var.project_id
  account_id   = "${var.name_prefix}-${each.key}"
  display_name = "${var.name_prefix} ${each.key}"
  description  = each.value
}

resource "google_service_account" "probe" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-probe"
  display_name = "${var.name_prefix} probe"
  description  = "Runs `flightdeck probe` (flightdeck-probe): publishes synthetic events, reads them back through the public API. No database access."
}

resource "google_service_account" "deployer" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-deployer"
  display_name = "${var.name_prefix} deployer"
  description  = "GitHub Actions CD (environment ${var.deploy_environment}): pushes and promotes images, migrates, deploys and checks Cloud Run revisions."
}

resource "google_service_account" "planner" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-planner"
  display_name = "${var.name_prefix} planner"
  description  = "GitHub Actions CI (environment ${var.plan_environment}): terraform plan, read-only."
}

# --- Project-level grants (no resource-level IAM exists for these roles) -------

resource "google_project_iam_member" "metric_writer" {
  for_each = local.telemetry_members
  project  = var.project_id
  role     = "roles/monitoring.metricWriter"
  member   = each.value
}

resource "google_project_iam_member" "trace_agent" {
  for_each = local.telemetry_members
  project  = var.project_id
  role     = "roles/cloudtrace.agent"
  member   = each.value
}

# The canary reads the new revision's request counts; monitoring has no resource-level IAM, so
# this custom role holds the one permission that needs instead of roles/monitoring.viewer.
resource "google_project_iam_custom_role" "canary_reader" {
  project     = var.project_id
  role_id     = "${replace(var.name_prefix, "-", "_")}_canary_reader"
  title       = "${var.name_prefix} canary reader"
  description = "Reads Cloud Monitoring time series (Cloud Run request counts) for the CD canary check."
  permissions = ["monitoring.timeSeries.list"]
}

resource "google_project_iam_member" "deployer_canary_reader" {
  project = var.project_id
  role    = google_project_iam_custom_role.canary_reader.name
  member  = "serviceAccount:${google_service_account.deployer.email}"
}

resource "google_project_iam_member" "planner" {
  for_each = local.planner_roles
  project  = var.project_id
  role     = each.key
  member   = "serviceAccount:${google_service_account.planner.email}"
}

# The planner reads the Terraform state (and lists it at init); it never takes the lock
# (`plan -lock=false`), so it needs no write.
resource "google_storage_bucket_iam_member" "planner_state" {
  count  = var.state_bucket == null ? 0 : 1
  bucket = var.state_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.planner.email}"
}

# --- GitHub Actions: Workload Identity Federation --------------------------------

resource "google_iam_workload_identity_pool" "github" {
  project                   = var.project_id
  workload_identity_pool_id = var.workload_identity_pool_id
  display_name              = "GitHub Actions"
  description               = "OIDC tokens of the flightdeck repository's CD and plan jobs."
}

resource "google_iam_workload_identity_pool_provider" "github" {
  # checkov:skip=CKV_GCP_125: the condition pins assertion.repository_id (immutable numeric id), the GitHub environment and assertion.job_workflow_ref (workflow file and ref); the check only recognises an assertion.sub string match on owner/name, which a renamed or re-created repository could satisfy.
  project                            = var.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.github.workload_identity_pool_id
  workload_identity_pool_provider_id = "github"
  display_name                       = "GitHub"
  description                        = "Trusts one repository (numeric id), its deploy environment from the CD workflows on the deploy refs, and its plan environment from CI."

  # Without this condition any repository on GitHub could exchange its token.
  attribute_condition = local.attribute_condition

  attribute_mapping = {
    "google.subject"             = "assertion.sub"
    "attribute.repository_id"    = "assertion.repository_id"
    "attribute.repository"       = "assertion.repository"
    "attribute.ref"              = "assertion.ref"
    "attribute.environment"      = "assertion.environment"
    "attribute.job_workflow_ref" = "assertion.job_workflow_ref"
  }

  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

# Only tokens of the deploy environment (which the provider ties to the deploy workflows and
# refs) can act as the deployer. It mints no identity token: the API admits no Google identity
# (invoker check off, load balancer only), so deploy.yml calls it with an API key (smoke.tf).
resource "google_service_account_iam_member" "deployer_wif" {
  service_account_id = google_service_account.deployer.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "${local.principal_set}/${var.deploy_environment}"
}

resource "google_service_account_iam_member" "planner_wif" {
  service_account_id = google_service_account.planner.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "${local.principal_set}/${var.plan_environment}"
}

# A deploy sets a runtime service account on a revision, which needs actAs on
# exactly those accounts and no others.
resource "google_service_account_iam_member" "deployer_acts_as_runtime" {
  for_each           = google_service_account.runtime
  service_account_id = each.value.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.deployer.email}"
}

resource "google_service_account_iam_member" "deployer_acts_as_probe" {
  service_account_id = google_service_account.probe.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.deployer.email}"
}
