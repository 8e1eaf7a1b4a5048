# Cloud Run workloads of flightdeck, all from one image:
#   flightdeck-api      `flightdeck serve`  HTTP API, reachable only through the edge load balancer
#   flightdeck-ingest   `flightdeck ingest` Pub/Sub pull worker, internal ingress, CPU always on
#   flightdeck-migrate  `flightdeck migrate` Cloud Run job
#   flightdeck-probe    `flightdeck probe`  black-box prober (probe.tf), no database
# Each database workload runs beside two sidecars: the Cloud SQL Auth Proxy (private
# IP, IAM login, TLS to the instance; the app talks plain Postgres to 127.0.0.1:5432
# with no password) and the Managed Service for Prometheus collector scraping
# localhost:METRICS_PORT/metrics. Egress to the database goes through Direct VPC
# egress (no Serverless VPC Access connector to run and pay for). The API and ingest
# services are two instances of modules/service; the job and the probe are shaped apart.

locals {
  labels = merge(var.labels, { app = "flightdeck", env = var.environment })

  proxy_health_port = 9801

  # What every workload that serves /metrics gets, the probe included.
  telemetry_env = {
    GOOGLE_CLOUD_PROJECT        = var.project_id
    METRICS_PORT                = tostring(var.metrics_port)
    LOG_FORMAT                  = "json"
    RUST_LOG                    = var.rust_log
    OTEL_EXPORTER_OTLP_ENDPOINT = var.otel_exporter_otlp_endpoint
    # Every series carries system="..." so fleet dashboards and SLO rules group by it.
    FLIGHTDECK_SYSTEM = "flightdeck-${var.environment}"
  }

  common_env = merge(local.telemetry_env, {
    PUBSUB_TOPIC        = var.pubsub.topic
    PUBSUB_SUBSCRIPTION = var.pubsub.subscription
    PUBSUB_DLQ_TOPIC    = var.pubsub.dlq_topic
  })

  service_names = { api = var.api.name, ingest = var.ingest.name, probe = var.probe.name }

  # The IAM user name contains '@', which must be percent-encoded in a URL. No
  # password: the proxy logs in with the service account's token.
  database_url = { for k, u in var.iam_db_users :
    k => "postgres://${urlencode(u)}@127.0.0.1:5432/${var.database_name}?sslmode=disable"
  }

  proxy_args = [
    "--auto-iam-authn",
    "--private-ip",
    "--structured-logs",
    "--health-check",
    "--http-address=0.0.0.0",
    "--http-port=${local.proxy_health_port}",
    "--port=5432",
    var.sql_connection_name,
  ]

  sql_proxy = { image = var.sql_proxy_image, args = local.proxy_args, health_port = local.proxy_health_port }

  # RunMonitoring config read by the collector from /etc/rungmp/config.yaml.
  gmp_config = { for k, name in local.service_names :
    k => yamlencode({
      apiVersion = "monitoring.googleapis.com/v1beta"
      kind       = "RunMonitoring"
      metadata   = { name = name }
      spec = {
        endpoints = [{
          port     = var.metrics_port
          path     = "/metrics"
          interval = var.scrape_interval
        }]
        targetLabels = { metadata = ["service", "revision"] }
      }
    })
  }
}

# The collector only reads its config from a mounted secret; it holds no secret value.
resource "google_secret_manager_secret" "gmp_config" {
  # checkov:skip=CKV_GCP_128: holds a non-secret scrape config, not credentials; Google-managed encryption is enough.
  for_each  = local.gmp_config
  project   = var.project_id
  secret_id = "${local.service_names[each.key]}-gmp-config"
  labels    = local.labels

  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }
}

resource "google_secret_manager_secret_version" "gmp_config" {
  for_each    = local.gmp_config
  secret      = google_secret_manager_secret.gmp_config[each.key].id
  secret_data = each.value
}

resource "google_secret_manager_secret_iam_member" "gmp_config_accessor" {
  for_each  = local.gmp_config
  project   = var.project_id
  secret_id = google_secret_manager_secret.gmp_config[each.key].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${var.service_accounts[each.key]}"
}

# terraform plan refreshes the secret versions, which reads their (non-secret) payload.
resource "google_secret_manager_secret_iam_member" "gmp_config_planner" {
  for_each  = { for k, v in local.gmp_config : k => v if var.planner_member != null }
  project   = var.project_id
  secret_id = google_secret_manager_secret.gmp_config[each.key].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = var.planner_member
}

# --- flightdeck-api and flightdeck-ingest: one service module, two instances ------

module "api" {
  source = "../service"

  project_id      = var.project_id
  region          = var.region
  name            = var.api.name
  labels          = local.labels
  image           = var.image
  args            = ["serve"]
  service_account = var.service_accounts.api

  # Third parties come only through the edge load balancer (modules/edge: Cloud Armor rate
  # limits and WAF) and authenticate with API keys, which the app checks; the load balancer
  # carries no Google identity, so the invoker IAM check is off. The run.app URL refuses
  # internet traffic. CKV_FD_7 accepts the invoker check off only with this ingress. Disabling
  # the check rather than granting allUsers also works where domain-restricted sharing forbids
  # allUsers in IAM policies.
  ingress              = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
  invoker_iam_disabled = true

  scaling         = { min_instances = var.api.min_instances, max_instances = var.api.max_instances }
  concurrency     = var.api.concurrency
  request_timeout = var.api.request_timeout
  cpu             = var.api.cpu
  memory          = var.api.memory
  cpu_always_on   = var.api.cpu_always_on

  app_port = var.app_port
  env = merge(local.common_env, {
    DATABASE_URL = local.database_url.api
    DB_POOL_MAX  = tostring(var.api.db_pool_max)
  })

  network_id        = var.network_id
  subnet_id         = var.subnet_id
  sql_proxy         = local.sql_proxy
  gmp_sidecar_image = var.gmp_sidecar_image
  gmp_config_secret = google_secret_manager_secret.gmp_config["api"].secret_id

  depends_on = [
    google_secret_manager_secret_version.gmp_config,
    google_secret_manager_secret_iam_member.gmp_config_accessor,
  ]
}

module "ingest" {
  source = "../service"

  project_id      = var.project_id
  region          = var.region
  name            = var.ingest.name
  labels          = local.labels
  image           = var.image
  args            = ["ingest"]
  service_account = var.service_accounts.ingest

  # A pull worker: nothing calls it but Cloud Run's own probes.
  ingress              = "INGRESS_TRAFFIC_INTERNAL_ONLY"
  invoker_iam_disabled = false

  # Always at least one puller; CPU-based autoscaling adds more under backlog. CPU stays
  # allocated with no inbound request, which a streaming-pull worker needs to make progress.
  scaling       = { min_instances = var.ingest.min_instances, max_instances = var.ingest.max_instances }
  cpu           = var.ingest.cpu
  memory        = var.ingest.memory
  cpu_always_on = true

  app_port = var.app_port
  env = merge(local.common_env, {
    DATABASE_URL         = local.database_url.ingest
    DB_POOL_MAX          = tostring(var.ingest.db_pool_max)
    INGEST_STREAMS       = tostring(var.ingest.streams)
    INGEST_BATCH_MAX     = tostring(var.ingest.batch_max)
    INGEST_BATCH_WAIT_MS = tostring(var.ingest.batch_wait_ms)
  })

  network_id        = var.network_id
  subnet_id         = var.subnet_id
  sql_proxy         = local.sql_proxy
  gmp_sidecar_image = var.gmp_sidecar_image
  gmp_config_secret = google_secret_manager_secret.gmp_config["ingest"].secret_id

  depends_on = [
    google_secret_manager_secret_version.gmp_config,
    google_secret_manager_secret_iam_member.gmp_config_accessor,
  ]
}

# Both services were resources of this module before modules/service existed: these moves
# keep their state (terraform plan shows a move, not a destroy and a create).
moved {
  from = google_cloud_run_v2_service.api
  to   = module.api.google_cloud_run_v2_service.main
}

moved {
  from = google_cloud_run_v2_service.ingest
  to   = module.ingest.google_cloud_run_v2_service.main
}

# --- flightdeck-migrate ---------------------------------------------------------

# Run by the deploy workflow before a new revision takes traffic:
#   gcloud run jobs execute flightdeck-migrate --region REGION --wait
# The proxy sidecar is stopped when the migrate container exits.
resource "google_cloud_run_v2_job" "migrate" {
  project             = var.project_id
  name                = var.migrate_job_name
  location            = var.region
  deletion_protection = true
  labels              = local.labels

  template {
    task_count  = 1
    parallelism = 1
    labels      = local.labels

    template {
      service_account       = var.service_accounts.migrate
      execution_environment = "EXECUTION_ENVIRONMENT_GEN2"
      timeout               = "600s"
      # Migrations are not retried blindly: a failed one needs a human look.
      max_retries = 0

      vpc_access {
        egress = "PRIVATE_RANGES_ONLY"
        network_interfaces {
          network    = var.network_id
          subnetwork = var.subnet_id
        }
      }

      containers {
        name       = "migrate"
        image      = var.image
        args       = ["migrate"]
        depends_on = ["cloud-sql-proxy"]

        env {
          name  = "DATABASE_URL"
          value = local.database_url.migrate
        }
        env {
          name  = "LOG_FORMAT"
          value = "json"
        }
        env {
          name  = "RUST_LOG"
          value = var.rust_log
        }

        resources {
          limits = {
            cpu    = "1"
            memory = "512Mi"
          }
        }
      }

      containers {
        name  = "cloud-sql-proxy"
        image = var.sql_proxy_image
        args  = concat(["--exit-zero-on-sigterm"], local.proxy_args)

        resources {
          limits = {
            cpu    = "500m"
            memory = "256Mi"
          }
        }

        startup_probe {
          period_seconds    = 2
          timeout_seconds   = 2
          failure_threshold = 30
          http_get {
            path = "/startup"
            port = local.proxy_health_port
          }
        }
      }
    }
  }

  lifecycle {
    ignore_changes = [template[0].template[0].containers[0].image, client, client_version]
  }
}

# --- Deployer: roll out revisions and run the job; these resources only ----------

resource "google_cloud_run_v2_service_iam_member" "deployer" {
  for_each = merge(
    {
      api    = module.api.name
      ingest = module.ingest.name
    },
    { for p in google_cloud_run_v2_service.probe : "probe" => p.name },
  )
  project  = var.project_id
  location = var.region
  name     = each.value
  role     = "roles/run.developer"
  member   = var.deployer_member
}

resource "google_cloud_run_v2_job_iam_member" "deployer" {
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_job.migrate.name
  role     = "roles/run.developer"
  member   = var.deployer_member
}
