output "api_url" {
  description = "Public base URL of the API (the edge load balancer); consumers send an API key (X-API-Key or Authorization: Bearer)."
  value       = module.flightdeck.api_url
}

output "api_ip_address" {
  description = "Address of the edge load balancer: the A records of api_domain and of candidate.<api_domain> (api_candidate_url)."
  value       = module.flightdeck.api_ip_address
}

output "api_candidate_url" {
  description = "URL of the API revision tagged candidate, which deploy.yml smoke-checks with its API key before the canary (GitHub environment variable API_DOMAIN = api_domain)."
  value       = module.flightdeck.api_candidate_url
}

output "security_policy" {
  description = "Cloud Armor policy in front of the API."
  value       = module.flightdeck.security_policy
}

output "probe_api_key_secret" {
  description = "Secret Manager secret that holds the probe's API key (an operator adds its version)."
  value       = module.flightdeck.probe_api_key_secret
}

output "smoke_api_key_secret" {
  description = "Secret Manager secret that holds deploy.yml's smoke-check API key (an operator adds its version; only the deployer reads it)."
  value       = module.flightdeck.smoke_api_key_secret
}

output "topic" {
  description = "Pub/Sub topic events are published to."
  value       = module.flightdeck.topic
}

output "subscription" {
  description = "Pull subscription the ingest worker consumes."
  value       = module.flightdeck.subscription
}

output "dlq_topic" {
  description = "Dead-letter topic."
  value       = module.flightdeck.dlq_topic
}

output "dlq_subscription" {
  description = "Subscription to inspect and replay dead letters."
  value       = module.flightdeck.dlq_subscription
}

output "image_repository" {
  description = "Artifact Registry path CI pushes the image to."
  value       = module.flightdeck.image_repository
}

output "migrate_job" {
  description = "Cloud Run job to execute before each rollout."
  value       = module.flightdeck.migrate_job
}

output "sql_connection_name" {
  description = "Cloud SQL connection name (PROJECT:REGION:INSTANCE)."
  value       = module.flightdeck.sql_connection_name
}

output "database_grants_sql" {
  description = "One-time SQL that grants the IAM database users their privileges (see README, Database grants)."
  value       = module.flightdeck.database_grants_sql
}

output "deployer_service_account" {
  description = "Service account GitHub Actions impersonates."
  value       = module.flightdeck.deployer_service_account
}

output "deployer_member" {
  description = "The deployer as an IAM member; in prod, put it in staging's image_reader_members so it can promote images."
  value       = module.flightdeck.deployer_member
}

output "planner_service_account" {
  description = "Read-only service account CI's terraform plan impersonates (GitHub variable GCP_PLAN_SA of the plan environment)."
  value       = module.flightdeck.planner_service_account
}

output "workload_identity_provider" {
  description = "Value for google-github-actions/auth workload_identity_provider."
  value       = module.flightdeck.workload_identity_provider
}

output "slo_names" {
  description = "SLO resource names."
  value       = module.flightdeck.slo_names
}
