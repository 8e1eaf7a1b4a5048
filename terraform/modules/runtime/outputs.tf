output "api_service_name" {
  description = "Name of the API Cloud Run service."
  value       = module.api.name
}

output "api_run_url" {
  description = "run.app URL of the API service. It refuses internet traffic (ingress internal + load balancer): third parties use the edge module's url."
  value       = module.api.uri
}

output "ingest_service_name" {
  description = "Name of the ingest worker Cloud Run service."
  value       = module.ingest.name
}

output "probe_service_name" {
  description = "Name of the prober's Cloud Run service, or null while probe.enabled is false."
  value       = one(google_cloud_run_v2_service.probe[*].name)
}

output "probe_api_key_secret" {
  description = "Secret Manager secret id that holds the probe's API key (an operator adds its version)."
  value       = google_secret_manager_secret.probe_api_key.secret_id
}

output "migrate_job_name" {
  description = "Name of the Cloud Run job that runs migrations."
  value       = google_cloud_run_v2_job.migrate.name
}

output "location" {
  description = "Region of the services and the job."
  value       = var.region
}
