variable "project_id" {
  type        = string
  description = "Google Cloud project that owns the repository."
}

variable "region" {
  type        = string
  description = "Location of the Artifact Registry repository (same region as Cloud Run: pulls stay in-region)."
}

variable "repository_id" {
  type        = string
  description = "Id of the Docker repository."
  default     = "flightdeck"
}

variable "keep_recent_versions" {
  type        = number
  description = "Number of most recent image versions the cleanup policy always keeps (rollback targets)."
  default     = 30
}

variable "delete_untagged_after" {
  type        = string
  description = "Age after which untagged images are deleted, as seconds with an 's' suffix."
  default     = "1209600s"
}

variable "writer_members" {
  type        = map(string)
  description = "IAM members allowed to push images (the deployer), keyed by a stable name."
  default     = {}
}

variable "reader_members" {
  type        = map(string)
  description = "IAM members allowed to pull images, keyed by a stable name. Cloud Run in the same project pulls with its own service agent and needs no entry."
  default     = {}
}

variable "labels" {
  type        = map(string)
  description = "Labels applied to the repository."
  default     = {}
}
