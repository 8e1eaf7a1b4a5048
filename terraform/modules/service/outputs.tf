output "name" {
  description = "Name of the Cloud Run service."
  value       = google_cloud_run_v2_service.main.name
}

output "uri" {
  description = "run.app URL of the service (what its ingress admits decides who can reach it)."
  value       = google_cloud_run_v2_service.main.uri
}
