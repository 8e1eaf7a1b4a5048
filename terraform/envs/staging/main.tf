# flightdeck staging: the same stack as prod (../../stack), smaller and cheaper: zonal database,
# API scaled to zero, request-based CPU for the API, no BigQuery archive.

locals {
  environment = "staging"
}

module "flightdeck" {
  source      = "../../stack"
  environment = local.environment

  # cd.yml builds and deploy.yml deploys to staging from develop and hotfix branches, in the
  # GitHub environment `staging`; CI plans in `plan-staging`.
  deploy = {
    environment      = "staging"
    refs             = ["refs/heads/develop"]
    ref_prefixes     = ["refs/heads/hotfix/"]
    plan_environment = "plan-staging"
  }

  bigquery_archive_enabled = false

  database = {
    tier              = "db-custom-1-3840"
    availability_type = "ZONAL"
    disk_size_gb      = 10
    retained_backups  = 7
    max_connections   = 100
  }

  api = {
    min_instances = 0
    max_instances = 3
    cpu_always_on = false
    db_pool_max   = 5
  }

  ingest = {
    min_instances = 1
    max_instances = 2
    db_pool_max   = 5
  }

  probe_interval_ms   = 60000
  uptime_check_period = "300s"

  # The operator's inputs (terraform.tfvars, CI's TF_VAR_* and ci.auto.tfvars.json).
  project_id            = var.project_id
  region                = var.region
  image                 = var.image
  github_repository_id  = var.github_repository_id
  github_repository     = var.github_repository
  state_bucket          = var.state_bucket
  image_reader_members  = var.image_reader_members
  api_domain            = var.api_domain
  waf_mode              = var.waf_mode
  probe_enabled         = var.probe_enabled
  publisher_members     = var.publisher_members
  dlq_operators         = var.dlq_operators
  notification_channels = var.notification_channels
  slos                  = var.slos
}
