output "repository_id" {
  description = "Id of the Docker repository."
  value       = google_artifact_registry_repository.this.repository_id
}

output "repository_url" {
  description = "Image path prefix, REGION-docker.pkg.dev/PROJECT/REPOSITORY; the image is <repository_url>/flightdeck:<tag>."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.this.repository_id}"
}
