# flightdeck in one Google Cloud project: every module of ../modules, wired together once.
# Each environment (../envs/staging, ../envs/prod) is a thin root that calls this module with
# its values (sizes, deploy refs, the archive switch) and keeps its own backend and state.

locals {
  # `system` on every resource (the subscription included) matches FLIGHTDECK_SYSTEM of the
  # services, so Pub/Sub metrics join the app's series by system (docs/metrics.md).
  labels = { app = "flightdeck", env = var.environment, system = "flightdeck-${var.environment}" }
  # The one base of every runbook link (alerts/runbooks.yml, which the alert rules' runbook_url
  # also start with): moving the repository or its default branch changes that line only.
  runbook_url_base = yamldecode(file("${path.module}/../../alerts/runbooks.yml")).runbook_url_base
}

module "network" {
  source     = "../modules/network"
  project_id = var.project_id
  region     = var.region
  name       = "flightdeck-${var.environment}"
}

module "identity" {
  source               = "../modules/identity"
  project_id           = var.project_id
  region               = var.region
  github_repository_id = var.github_repository_id
  github_repository    = var.github_repository
  # Which GitHub environment, refs and workflows may act as the deployer, and where CI plans.
  deploy_environment  = var.deploy.environment
  deploy_refs         = var.deploy.refs
  deploy_ref_prefixes = var.deploy.ref_prefixes
  plan_environment    = var.deploy.plan_environment
  state_bucket        = var.state_bucket
  # The smoke-check API key secret (deploy.yml); readable by the deployer only.
  labels = local.labels
}

module "registry" {
  source         = "../modules/registry"
  project_id     = var.project_id
  region         = var.region
  writer_members = { deployer = module.identity.deployer_member }
  # Who may pull (and copy) images from here: in staging, the production deployer, which copies
  # the digest staging ran into the production registry.
  reader_members = var.image_reader_members
  labels         = local.labels
}

module "pubsub" {
  source                  = "../modules/pubsub"
  project_id              = var.project_id
  region                  = var.region
  subscriber_members      = { ingest = module.identity.runtime_members.ingest }
  dlq_publisher_members   = { ingest = module.identity.runtime_members.ingest }
  publisher_members       = var.publisher_members
  dlq_subscriber_members  = var.dlq_operators
  probe_publisher_members = { deployer = module.identity.deployer_member }
  # flightdeck-probe: publisher on the events topic, the only Pub/Sub resource it may touch.
  prober_member    = module.identity.probe_member
  bigquery_archive = { enabled = var.bigquery_archive_enabled }
  labels           = local.labels
}

module "database" {
  source                            = "../modules/database"
  project_id                        = var.project_id
  region                            = var.region
  instance_name                     = "flightdeck-${var.environment}"
  tier                              = var.database.tier
  availability_type                 = var.database.availability_type
  disk_size_gb                      = var.database.disk_size_gb
  retained_backups                  = var.database.retained_backups
  max_connections                   = var.database.max_connections
  network_id                        = module.network.network_id
  private_service_access_connection = module.network.private_service_access_connection
  iam_service_accounts              = module.identity.service_account_emails
  labels                            = local.labels
}

module "runtime" {
  source              = "../modules/runtime"
  project_id          = var.project_id
  region              = var.region
  environment         = var.environment
  image               = var.image
  service_accounts    = merge(module.identity.service_account_emails, { probe = module.identity.probe_email })
  iam_db_users        = module.database.iam_db_users
  database_name       = module.database.database_name
  sql_connection_name = module.database.connection_name
  network_id          = module.network.network_id
  subnet_id           = module.network.run_subnet_id
  deployer_member     = module.identity.deployer_member
  planner_member      = "serviceAccount:${module.identity.planner_email}"
  labels              = local.labels

  pubsub = {
    topic        = module.pubsub.topic_name
    subscription = module.pubsub.subscription_name
    dlq_topic    = module.pubsub.dlq_topic_name
  }

  api    = var.api
  ingest = var.ingest

  # Reads through the public URL with its own API key (terraform/README.md, "The probe's API key").
  probe = {
    enabled     = var.probe_enabled
    api_url     = module.edge.url
    interval_ms = var.probe_interval_ms
  }
}

# The only way in for third parties: HTTPS load balancer, Cloud Armor (rate limits per API key and
# per IP, OWASP WAF), managed certificate; the API's ingress admits nothing else from outside.
module "edge" {
  source           = "../modules/edge"
  project_id       = var.project_id
  region           = var.region
  api_service_name = module.runtime.api_service_name
  domain           = var.api_domain
  waf_mode         = var.waf_mode
  labels           = local.labels
}

module "monitoring" {
  source                 = "../modules/monitoring"
  project_id             = var.project_id
  environment            = var.environment
  api_service_name       = module.runtime.api_service_name
  api_url                = module.edge.url
  ingest_service_name    = module.runtime.ingest_service_name
  subscription_name      = module.pubsub.subscription_name
  database_instance_name = module.database.instance_name
  notification_channels  = var.notification_channels
  runbook_url_base       = local.runbook_url_base
  slos                   = var.slos
  uptime_check_period    = var.uptime_check_period
  labels                 = local.labels
}
