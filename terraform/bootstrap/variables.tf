variable "project_id" {
  type        = string
  description = "Google Cloud project to bootstrap (one per environment)."
}

variable "region" {
  type        = string
  description = "Region of the state bucket (the environment's region)."
}

variable "state_bucket" {
  type        = string
  description = "Globally unique name of the Terraform state bucket, e.g. <project_id>-tfstate."
}
