variable "project_id" {
  type        = string
  description = "Google Cloud project that owns the service accounts and the workload identity pool."
}

variable "region" {
  type        = string
  description = "Region that stores the replica of the smoke-check API key secret (user-managed replication, like the other secrets)."
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

variable "github_repository" {
  type        = string
  description = "owner/name of the GitHub repository; job_workflow_ref, which the trust condition checks, starts with it."

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name."
  }
}

variable "deploy_environment" {
  type        = string
  description = "GitHub environment whose jobs may act as the deployer (staging, production). Its protection rules (deployment branches, required reviewers) are enforced by GitHub before the job gets a token."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]+$", var.deploy_environment))
    error_message = "deploy_environment must be a GitHub environment name (letters, digits, - and _)."
  }
}

variable "deploy_workflows" {
  type        = list(string)
  description = "Workflow files (under .github/workflows) whose jobs may act as the deployer: cd.yml builds, deploy.yml (called by it) deploys."
  default     = ["cd.yml", "deploy.yml"]

  validation {
    condition     = length(var.deploy_workflows) > 0 && alltrue([for w in var.deploy_workflows : can(regex("^[A-Za-z0-9_.-]+\\.ya?ml$", w))])
    error_message = "deploy_workflows must name at least one workflow file such as cd.yml."
  }
}

variable "deploy_refs" {
  type        = list(string)
  description = "Exact git refs the deploy workflows may run from (e.g. [\"refs/heads/master\"])."

  validation {
    condition     = length(var.deploy_refs) > 0 && alltrue([for r in var.deploy_refs : can(regex("^refs/(heads|tags)/[^*' ]+$", r))])
    error_message = "deploy_refs must be full refs such as refs/heads/master, without wildcards or quotes."
  }
}

variable "deploy_ref_prefixes" {
  type        = list(string)
  description = "Ref prefixes the deploy workflows may also run from (e.g. [\"refs/tags/v\"] for release tags, which tag protection limits to maintainers)."
  default     = []

  validation {
    condition     = alltrue([for p in var.deploy_ref_prefixes : can(regex("^refs/(heads|tags)/[^*' ]+$", p))])
    error_message = "deploy_ref_prefixes must start with refs/heads/ or refs/tags/ and hold no wildcard or quote."
  }
}

variable "plan_environment" {
  type        = string
  description = "GitHub environment of CI's terraform plan job for this project; its jobs may act as the read-only planner."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]+$", var.plan_environment))
    error_message = "plan_environment must be a GitHub environment name (letters, digits, - and _)."
  }
}

variable "plan_workflow" {
  type        = string
  description = "Workflow file (under .github/workflows) whose plan job may act as the planner."
  default     = "ci.yml"
}

variable "state_bucket" {
  type        = string
  description = "GCS bucket of this environment's Terraform state, which the planner may read; null grants nothing."
  default     = null
}

variable "workload_identity_pool_id" {
  type        = string
  description = "Id of the workload identity pool for GitHub Actions."
  default     = "github-actions"
}

variable "smoke_api_key_secret_id" {
  type        = string
  description = "Secret Manager secret id of the API key deploy.yml's smoke check and canary send (created without a version; an operator adds it, terraform/README.md). deploy.yml reads this name."
  default     = "flightdeck-smoke-api-key"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.smoke_api_key_secret_id))
    error_message = "smoke_api_key_secret_id must be 1-255 letters, digits, - or _ (a Secret Manager secret id)."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels of the resources that accept them here (the smoke-check API key secret; service accounts and pools take none)."
  default     = {}
}
