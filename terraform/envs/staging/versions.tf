terraform {
  required_version = ">= 1.6"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.39, < 8.0"
    }
  }

  # Partial configuration: the bucket is supplied at init time so no project id is
  # committed: terraform init -backend-config="bucket=<state bucket>"
  backend "gcs" {
    prefix = "flightdeck/staging"
  }
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app = "flightdeck"
    env = local.environment
  }
}
