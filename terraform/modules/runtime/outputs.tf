output "api_service_name" {
  description = "Name of the API Cloud Run service."
  value       = google_cloud_run_v2_service.api.name
}

output "api_url" {
  description = "HTTPS URL of the API (callers need roles/run.invoker and an ID token)."
  value       = google_cloud_run_v2_service.api.uri
}

output "ingest_service_name" {
  description = "Name of the ingest worker Cloud Run service."
  value       = google_cloud_run_v2_service.ingest.name
}

output "migrate_job_name" {
  description = "Name of the Cloud Run job that runs migrations."
  value       = google_cloud_run_v2_job.migrate.name
}

output "location" {
  description = "Region of the services and the job."
  value       = var.region
}
