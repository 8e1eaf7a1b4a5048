# Artifact Registry Docker repository for the one flightdeck image. Tags are
# immutable (a deployed tag always means the same bytes) and a cleanup policy keeps
# storage bounded while retaining recent versions for rollback.

resource "google_artifact_registry_repository" "this" {
  # checkov:skip=CKV_GCP_84: Google-managed encryption at rest; the image holds no secrets. kms_key_name can be added when a CMEK policy applies.
  project       = var.project_id
  location      = var.region
  repository_id = var.repository_id
  format        = "DOCKER"
  description   = "flightdeck container images"
  labels        = var.labels

  docker_config {
    immutable_tags = true
  }

  cleanup_policy_dry_run = false

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = var.keep_recent_versions
    }
  }

  cleanup_policies {
    id     = "delete-old-untagged"
    action = "DELETE"
    condition {
      tag_state  = "UNTAGGED"
      older_than = var.delete_untagged_after
    }
  }
}

resource "google_artifact_registry_repository_iam_member" "writers" {
  for_each   = var.writer_members
  project    = var.project_id
  location   = google_artifact_registry_repository.this.location
  repository = google_artifact_registry_repository.this.name
  role       = "roles/artifactregistry.writer"
  member     = each.value
}

resource "google_artifact_registry_repository_iam_member" "readers" {
  for_each   = var.reader_members
  project    = var.project_id
  location   = google_artifact_registry_repository.this.location
  repository = google_artifact_registry_repository.this.name
  role       = "roles/artifactregistry.reader"
  member     = each.value
}
