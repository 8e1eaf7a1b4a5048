output "service_account_emails" {
  description = "Emails of the database workloads' service accounts, keyed by workload: api, ingest, migrate (each gets a Cloud SQL IAM user)."
  value       = { for k, sa in google_service_account.runtime : k => sa.email }
}

output "probe_email" {
  description = "Email of the prober's service account (no database user: it is not in service_account_emails)."
  value       = google_service_account.probe.email
}

output "probe_member" {
  description = "The prober's service account as an IAM member."
  value       = local.probe_member
}

output "runtime_members" {
  description = "Runtime service accounts as IAM members (serviceAccount:...), keyed by workload."
  value       = local.runtime_members
}

output "deployer_email" {
  description = "Email of the deployer service account GitHub Actions impersonates."
  value       = google_service_account.deployer.email
}

output "deployer_member" {
  description = "Deployer service account as an IAM member."
  value       = "serviceAccount:${google_service_account.deployer.email}"
}

output "smoke_api_key_secret" {
  description = "Secret Manager secret id of deploy.yml's smoke-check API key, which only the deployer may read (an operator adds its version)."
  value       = google_secret_manager_secret.smoke_api_key.secret_id
}

output "planner_email" {
  description = "Email of the read-only service account CI's terraform plan impersonates."
  value       = google_service_account.planner.email
}

output "workload_identity_provider" {
  description = "Full provider name for google-github-actions/auth `workload_identity_provider`."
  value       = google_iam_workload_identity_pool_provider.github.name
}

output "github_attribute_condition" {
  description = "The CEL condition the provider enforces on GitHub OIDC tokens (repository id, environment, job_workflow_ref, ref)."
  value       = local.attribute_condition
}
