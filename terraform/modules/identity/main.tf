# Identities: one service account per workload (API, ingest worker, migrate job),
# a deployer account for GitHub Actions reached through Workload Identity
# Federation (no key files), and the few grants that only exist at project level.
# Grants on a specific resource (subscription, topic, instance, repository,
# service) live in the module that owns the resource.

locals {
  runtime = {
    api     = "Runs `flightdeck serve` (flightdeck-api)."
    ingest  = "Runs `flightdeck ingest` (flightdeck-ingest)."
    migrate = "Runs `flightdeck migrate` (flightdeck-migrate job)."
  }

  runtime_members = { for k, sa in google_service_account.runtime : k => "serviceAccount:${sa.email}" }

  attribute_condition = join(" && ", compact([
    "assertion.repository_id == '${var.github_repository_id}'",
    # The pinned branch, or a release tag (tag protection limits who may push v* tags).
    var.github_ref == null ? "" : "(assertion.ref == '${var.github_ref}' || assertion.ref.startsWith('refs/tags/v'))",
  ]))
}

resource "google_service_account" "runtime" {
  for_each     = local.runtime
  project      = var.project_id
  account_id   = "${var.name_prefix}-${each.key}"
  display_name = "${var.name_prefix} ${each.key}"
  description  = each.value
}

resource "google_service_account" "deployer" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-deployer"
  display_name = "${var.name_prefix} deployer"
  description  = "Used by GitHub Actions through Workload Identity Federation to push images and deploy Cloud Run revisions."
}

# --- Project-level grants (no resource-level IAM exists for these roles) -------

resource "google_project_iam_member" "metric_writer" {
  for_each = local.runtime_members
  project  = var.project_id
  role     = "roles/monitoring.metricWriter"
  member   = each.value
}

resource "google_project_iam_member" "trace_agent" {
  for_each = local.runtime_members
  project  = var.project_id
  role     = "roles/cloudtrace.agent"
  member   = each.value
}

# --- GitHub Actions: Workload Identity Federation --------------------------------

resource "google_iam_workload_identity_pool" "github" {
  project                   = var.project_id
  workload_identity_pool_id = var.workload_identity_pool_id
  display_name              = "GitHub Actions"
  description               = "OIDC tokens of the flightdeck repository's workflows."
}

resource "google_iam_workload_identity_pool_provider" "github" {
  # checkov:skip=CKV_GCP_125: the condition pins assertion.repository_id (immutable numeric id) and, in prod, assertion.ref; the check only recognises an assertion.sub string match on owner/name, which a renamed or re-created repository could satisfy.
  project                            = var.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.github.workload_identity_pool_id
  workload_identity_pool_provider_id = "github"
  display_name                       = "GitHub"
  description                        = "Trusts only tokens from one repository (by numeric id) and, where set, one ref."

  # Without this condition any repository on GitHub could exchange its token.
  attribute_condition = local.attribute_condition

  attribute_mapping = {
    "google.subject"          = "assertion.sub"
    "attribute.repository_id" = "assertion.repository_id"
    "attribute.repository"    = "assertion.repository"
    "attribute.ref"           = "assertion.ref"
  }

  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "google_service_account_iam_member" "deployer_wif" {
  service_account_id = google_service_account.deployer.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/attribute.repository_id/${var.github_repository_id}"
}

# A deploy sets a runtime service account on a revision, which needs actAs on
# exactly those accounts and no others.
resource "google_service_account_iam_member" "deployer_acts_as_runtime" {
  for_each           = google_service_account.runtime
  service_account_id = each.value.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.deployer.email}"
}
