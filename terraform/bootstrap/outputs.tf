output "state_bucket" {
  description = "Bucket to pass as -backend-config=bucket=... when initialising an environment."
  value       = google_storage_bucket.state.name
}

output "enabled_apis" {
  description = "APIs enabled on the project."
  value       = sort([for s in google_project_service.apis : s.service])
}
