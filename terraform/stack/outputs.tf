output "api_url" {
  description = "Public base URL of the API (the edge load balancer); consumers send an API key (X-API-Key or Authorization: Bearer)."
  value       = module.edge.url
}

output "api_ip_address" {
  description = "Address of the edge load balancer: the A records of api_domain and of candidate.<api_domain> (api_candidate_url)."
  value       = module.edge.ip_address
}

output "api_candidate_url" {
  description = "URL of the API revision tagged candidate, which deploy.yml smoke-checks with its API key before the canary (GitHub environment variable API_DOMAIN = api_domain)."
  value       = module.edge.candidate_url
}

output "security_policy" {
  description = "Cloud Armor policy in front of the API."
  value       = module.edge.security_policy_name
}

output "probe_api_key_secret" {
  description = "Secret Manager secret that holds the probe's API key (an operator adds its version)."
  value       = module.runtime.probe_api_key_secret
}

output "smoke_api_key_secret" {
  description = "Secret Manager secret that holds deploy.yml's smoke-check API key (an operator adds its version; only the deployer reads it)."
  value       = module.identity.smoke_api_key_secret
}

output "topic" {
  description = "Pub/Sub topic events are published to."
  value       = module.pubsub.topic_id
}

output "subscription" {
  description = "Pull subscription the ingest worker consumes."
  value       = module.pubsub.subscription_id
}

output "dlq_topic" {
  description = "Dead-letter topic."
  value       = module.pubsub.dlq_topic_name
}

output "dlq_subscription" {
  description = "Subscription to inspect and replay dead letters."
  value       = module.pubsub.dlq_subscription_name
}

output "image_repository" {
  description = "Artifact Registry path CI pushes the image to."
  value       = module.registry.repository_url
}

output "migrate_job" {
  description = "Cloud Run job to execute before each rollout."
  value       = module.runtime.migrate_job_name
}

output "sql_connection_name" {
  description = "Cloud SQL connection name (PROJECT:REGION:INSTANCE)."
  value       = module.database.connection_name
}

output "database_grants_sql" {
  description = "One-time SQL that grants the IAM database users their privileges (see README, Database grants)."
  value       = module.database.grants_sql
}

output "deployer_service_account" {
  description = "Service account GitHub Actions impersonates."
  value       = module.identity.deployer_email
}

output "deployer_member" {
  description = "The deployer as an IAM member; in prod, put it in staging's image_reader_members so it can promote images."
  value       = module.identity.deployer_member
}

output "planner_service_account" {
  description = "Read-only service account CI's terraform plan impersonates (GitHub variable GCP_PLAN_SA of the plan environment)."
  value       = module.identity.planner_email
}

output "workload_identity_provider" {
  description = "Value for google-github-actions/auth workload_identity_provider."
  value       = module.identity.workload_identity_provider
}

output "slo_names" {
  description = "SLO resource names."
  value       = module.monitoring.slo_names
}
