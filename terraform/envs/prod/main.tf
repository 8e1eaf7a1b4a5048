# flightdeck prod: the same stack as staging (../../stack), with a regional (HA) database, the API
# kept warm with always-on CPU, deploys only from master or release tags, raw events archived
# to BigQuery.

locals {
  environment = "prod"
}

module "flightdeck" {
  source      = "../../stack"
  environment = local.environment

  # Only deploy.yml (called by cd.yml) in the GitHub environment `production` (required
  # reviewers), from the protected master branch or a protected v* release tag, deploys to prod;
  # CI plans in `plan-production`.
  deploy = {
    environment      = "production"
    refs             = [var.github_ref]
    ref_prefixes     = ["refs/tags/v"]
    plan_environment = "plan-production"
  }

  bigquery_archive_enabled = true

  database = {
    tier              = "db-custom-2-7680"
    availability_type = "REGIONAL"
    disk_size_gb      = 20
    retained_backups  = 30
    max_connections   = 200
  }

  # One warm instance avoids cold starts eating the latency SLO; always-on CPU
  # keeps the metrics sidecar scraping between requests.
  api = {
    min_instances = 1
    max_instances = 10
    cpu_always_on = true
    db_pool_max   = 10
  }

  # max_instances * DB_POOL_MAX of both services stays under max_connections (200).
  ingest = {
    min_instances = 1
    max_instances = 4
    db_pool_max   = 8
  }

  probe_interval_ms   = 30000
  uptime_check_period = "60s"

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
