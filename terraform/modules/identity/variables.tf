variable "project_id" {
  type        = string
  description = "Google Cloud project that owns the service accounts and the workload identity pool."
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every service account id (e.g. flightdeck gives flightdeck-api@...)."
  default     = "flightdeck"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,20}$", var.name_prefix))
    error_message = "name_prefix must be 3-21 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "github_repository_id" {
  type        = string
  description = "Numeric id of the GitHub repository allowed to deploy (stable across renames and transfers, unlike owner/name). `gh api repos/OWNER/NAME --jq .id` prints it."

  validation {
    condition     = can(regex("^[0-9]+$", var.github_repository_id))
    error_message = "github_repository_id must be the numeric repository id, not owner/name."
  }
}

variable "github_ref" {
  type        = string
  description = "Git ref the deploying workflow must run on (e.g. refs/heads/main), or null to allow any ref of the repository. Set it in prod."
  default     = null

  validation {
    condition     = var.github_ref == null || can(regex("^refs/", var.github_ref))
    error_message = "github_ref must be a full ref such as refs/heads/main, or null."
  }
}

variable "workload_identity_pool_id" {
  type        = string
  description = "Id of the workload identity pool for GitHub Actions."
  default     = "github-actions"
}
