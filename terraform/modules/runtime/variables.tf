variable "project_id" {
  type        = string
  description = "Google Cloud project that runs the services."
}

variable "region" {
  type        = string
  description = "Region of the Cloud Run services and job."
}

variable "environment" {
  type        = string
  description = "Environment name (staging, prod); added as a label."
}

variable "image" {
  type        = string
  description = "Full image reference of the flightdeck binary, ideally pinned by digest (REGION-docker.pkg.dev/PROJECT/REPO/flightdeck@sha256:...). CI deploys new revisions; Terraform ignores later image changes."
}

variable "service_accounts" {
  type = object({
    api     = string
    ingest  = string
    migrate = string
    probe   = string
  })
  description = "Email of the runtime service account of each workload (probe: the black-box prober's, which has no database user)."
}

variable "iam_db_users" {
  type = object({
    api     = string
    ingest  = string
    migrate = string
  })
  description = "Postgres user name of each workload's IAM database user (service account email without .gserviceaccount.com)."
}

variable "database_name" {
  type        = string
  description = "Name of the application database."
}

variable "sql_connection_name" {
  type        = string
  description = "Cloud SQL connection name PROJECT:REGION:INSTANCE for the Auth Proxy sidecar."
}

variable "network_id" {
  type        = string
  description = "VPC network for Direct VPC egress."
}

variable "subnet_id" {
  type        = string
  description = "Subnet that Direct VPC egress takes instance addresses from."
}

variable "pubsub" {
  type = object({
    topic        = string
    subscription = string
    dlq_topic    = string
  })
  description = "Pub/Sub names passed to the app as PUBSUB_TOPIC, PUBSUB_SUBSCRIPTION and PUBSUB_DLQ_TOPIC."
}

variable "api" {
  type = object({
    name            = optional(string, "flightdeck-api")
    min_instances   = optional(number, 0)
    max_instances   = optional(number, 10)
    concurrency     = optional(number, 80)
    request_timeout = optional(string, "30s")
    cpu             = optional(string, "1")
    memory          = optional(string, "512Mi")
    cpu_always_on   = optional(bool, false)
    db_pool_max     = optional(number, 10)
  })
  description = "Shape of the flightdeck-api service (`flightdeck serve`). cpu_always_on trades request-based billing for reliable metric scrapes between requests. Its ingress is always internal + load balancer (modules/edge)."
  default     = {}
}

variable "ingest" {
  type = object({
    name          = optional(string, "flightdeck-ingest")
    min_instances = optional(number, 1)
    max_instances = optional(number, 4)
    cpu           = optional(string, "1")
    memory        = optional(string, "512Mi")
    streams       = optional(number, 4)
    batch_max     = optional(number, 1000)
    batch_wait_ms = optional(number, 200)
    db_pool_max   = optional(number, 8)
  })
  description = "Shape of the flightdeck-ingest worker (`flightdeck ingest`). It pulls, so it has no public ingress, CPU is always allocated and at least one instance runs."
  default     = {}

  validation {
    condition     = var.ingest.min_instances >= 1
    error_message = "ingest.min_instances must be at least 1: a pull subscriber with no instance consumes nothing."
  }
}

variable "migrate_job_name" {
  type        = string
  description = "Name of the Cloud Run job that runs `flightdeck migrate`."
  default     = "flightdeck-migrate"
}

variable "probe" {
  type = object({
    enabled           = optional(bool, false)
    name              = optional(string, "flightdeck-probe")
    api_url           = optional(string, "")
    interval_ms       = optional(number, 30000)
    timeout_ms        = optional(number, 30000)
    cpu               = optional(string, "1")
    memory            = optional(string, "512Mi")
    api_key_secret_id = optional(string, "flightdeck-probe-api-key")
  })
  description = "The black-box prober (`flightdeck probe`, one instance, CPU always on). api_url is the API's public URL (the edge load balancer), read with the key in the api_key_secret_id secret; enabled creates the service, which Cloud Run only accepts once that secret has a version."
  default     = {}

  validation {
    condition     = !var.probe.enabled || can(regex("^https://[^/]+$", var.probe.api_url))
    error_message = "probe.api_url must be the API's public https:// base URL (no path, no trailing slash) when probe.enabled is true."
  }

  validation {
    condition     = var.probe.interval_ms >= 1000 && var.probe.timeout_ms >= 1000 && var.probe.timeout_ms <= 600000
    error_message = "probe.interval_ms must be at least 1000 and probe.timeout_ms between 1000 and 600000."
  }
}

variable "deployer_member" {
  type        = string
  description = "IAM member of the deployer (serviceAccount:...), granted roles/run.developer on these services (the probe once enabled) and the job, only."
}

variable "planner_member" {
  type        = string
  description = "IAM member of the read-only Terraform planner (serviceAccount:...), allowed to read the collector config secrets it refreshes; null grants nothing."
  default     = null
}

variable "rust_log" {
  type        = string
  description = "RUST_LOG filter for every workload."
  default     = "info"
}

variable "otel_exporter_otlp_endpoint" {
  type        = string
  description = "OTEL_EXPORTER_OTLP_ENDPOINT for traces, or empty to disable trace export."
  default     = ""
}

variable "app_port" {
  type        = number
  description = "PORT the app serves HTTP (and /healthz, /readyz) on."
  default     = 8080
}

variable "metrics_port" {
  type        = number
  description = "METRICS_PORT the app serves Prometheus /metrics on; the Managed Prometheus sidecar scrapes it."
  default     = 9464
}

variable "scrape_interval" {
  type        = string
  description = "How often the Managed Prometheus sidecar scrapes /metrics."
  default     = "30s"
}

variable "sql_proxy_image" {
  type        = string
  description = "Cloud SQL Auth Proxy image (pin a version)."
  default     = "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1"
}

variable "gmp_sidecar_image" {
  type        = string
  description = "Managed Service for Prometheus sidecar image for Cloud Run (pin a version)."
  default     = "us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.2.0"
}

variable "labels" {
  type        = map(string)
  description = "Labels applied to every service, job and secret."
  default     = {}
}
