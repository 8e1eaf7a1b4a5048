# What differs between environments: sizes, who may deploy, the archive switch. The roots
# (../envs/*) set these as values; the operator's inputs follow below.

variable "environment" {
  type        = string
  description = "Environment name (staging, prod): the env label, FLIGHTDECK_SYSTEM = flightdeck-<environment> and the network and database instance names."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.environment))
    error_message = "environment must be 2-12 lower-case letters and digits, starting with a letter (it is part of resource names)."
  }
}

variable "deploy" {
  type = object({
    environment      = string
    refs             = list(string)
    ref_prefixes     = list(string)
    plan_environment = string
  })
  description = "GitHub side of the Workload Identity trust (modules/identity): the environment whose deploy workflows act as the deployer, the exact refs and ref prefixes they may run from, and the environment of CI's plan job."
}

variable "bigquery_archive_enabled" {
  type        = bool
  description = "Archive every raw event to BigQuery through a BigQuery subscription (modules/pubsub)."
}

variable "database" {
  type = object({
    tier              = string
    availability_type = string
    disk_size_gb      = number
    retained_backups  = number
    max_connections   = number
  })
  description = "Cloud SQL size and resilience (modules/database): machine tier, ZONAL or REGIONAL, initial disk, backups kept, max_connections (above the sum of max_instances * db_pool_max of both services)."
}

variable "api" {
  type = object({
    min_instances = number
    max_instances = number
    cpu_always_on = bool
    db_pool_max   = number
  })
  description = "flightdeck-api scaling (modules/runtime): min_instances 0 scales to zero, cpu_always_on keeps the metrics sidecar scraping between requests. modules/service checks the bounds."
}

variable "ingest" {
  type = object({
    min_instances = number
    max_instances = number
    db_pool_max   = number
  })
  description = "flightdeck-ingest scaling (modules/runtime, which requires min_instances >= 1: at least one instance always pulls)."
}

variable "probe_interval_ms" {
  type        = number
  description = "How often flightdeck-probe publishes and reads back a synthetic event, in milliseconds (at least 1000, checked by modules/runtime)."
}

variable "uptime_check_period" {
  type        = string
  description = "How often Cloud Monitoring's uptime check probes the API through the edge (60s, 300s, 600s or 900s)."

  validation {
    condition     = contains(["60s", "300s", "600s", "900s"], var.uptime_check_period)
    error_message = "uptime_check_period must be 60s, 300s, 600s or 900s (the periods Cloud Monitoring offers)."
  }
}

# --- the operator's inputs, passed through by each root (which holds their defaults) ------

variable "project_id" {
  type        = string
  description = "Google Cloud project of this environment."
}


variable "region" {
  type        = string
  description = "Region for every regional resource (Cloud Run, Cloud SQL, Pub/Sub storage, Artifact Registry)."
}


variable "image" {
  type        = string
  description = "Image of the flightdeck binary for the first apply, e.g. REGION-docker.pkg.dev/PROJECT/flightdeck/flightdeck@sha256:...; later rollouts are done by CI."
}


variable "github_repository_id" {
  type        = string
  description = "Numeric id of the GitHub repository whose workflows may deploy here."
}


variable "github_repository" {
  type        = string
  description = "owner/name of the GitHub repository; the Workload Identity condition checks the workflow file under it (job_workflow_ref)."
}


variable "state_bucket" {
  type        = string
  description = "GCS bucket holding this environment's Terraform state (the one given to terraform init); the read-only planner may read it."
}


variable "image_reader_members" {
  type        = map(string)
  description = "IAM members allowed to pull images from this environment's registry, keyed by a stable name. In staging: the production deployer (serviceAccount:...), which promotes the digest staging ran."
}


variable "api_domain" {
  type        = string
  description = "Domain third parties call the API on (e.g. api.flightdeck.example.org); point its A record at the api_ip_address output so the managed certificate can be issued."
}


variable "waf_mode" {
  type        = string
  description = "Cloud Armor OWASP rules: preview (log what would be blocked) or enforce (answer 403). Preview until the load balancer logs show no false positive on real traffic (modules/edge)."
}


variable "probe_enabled" {
  type        = bool
  description = "Run flightdeck-probe. Set it once the flightdeck-probe-api-key secret has a version (terraform/README.md, \"The probe's API key\"): Cloud Run refuses the revision before."
}


variable "publisher_members" {
  type        = map(string)
  description = "IAM members allowed to publish flight events on the topic, keyed by a stable name."
}


variable "dlq_operators" {
  type        = map(string)
  description = "IAM members (operators, groups) allowed to pull from the dead-letter inspection subscription, keyed by a stable name."
}


variable "notification_channels" {
  type = map(object({
    type         = string
    display_name = string
    labels       = map(string)
    receives     = string
  }))
  description = "Notification channels for alerts, keyed by a stable name; receives is page, ticket or watchdog (see modules/monitoring)."
}


variable "slos" {
  type = map(object({
    display_name              = string
    service                   = string
    kind                      = string
    goal                      = number
    rolling_period_days       = number
    latency_threshold_seconds = optional(number)
    total_filter              = optional(string)
    bad_filter                = optional(string)
    distribution_filter       = optional(string)
    range_max                 = optional(number)
    burn_rate_alerts = list(object({
      name         = string
      severity     = string
      long_window  = string
      short_window = string
      threshold    = number
    }))
  }))
  description = "Every SLO of slo/specs, written by `make slo-gen` into slo.auto.tfvars.json (see modules/monitoring)."
}

