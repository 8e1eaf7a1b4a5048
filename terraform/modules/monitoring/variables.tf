variable "project_id" {
  type        = string
  description = "Google Cloud project the monitoring resources live in (the scoping project of the workloads)."
}

variable "region" {
  type        = string
  description = "Region of the Cloud Run services."
}

variable "environment" {
  type        = string
  description = "Environment name, shown in alert names and labels."
}

variable "api_service_name" {
  type        = string
  description = "Name of the API Cloud Run service."
}

variable "api_url" {
  type        = string
  description = "HTTPS URL of the API service; the uptime check probes its /healthz."
}

variable "ingest_service_name" {
  type        = string
  description = "Name of the ingest worker Cloud Run service."
}

variable "subscription_name" {
  type        = string
  description = "Ingest subscription watched for backlog and dead letters."
}

variable "notification_channels" {
  type = map(object({
    type         = string
    display_name = string
    labels       = map(string)
  }))
  description = "Notification channels created for this environment, keyed by a stable name, e.g. { oncall = { type = \"email\", display_name = \"On-call\", labels = { email_address = \"<on-call address>\" } } }."
  default     = {}
}

variable "runbook_base_url" {
  type        = string
  description = "URL of terraform/modules/monitoring/RUNBOOK.md as rendered by the code host (e.g. https://github.com/ORG/REPO/blob/main/terraform/modules/monitoring/RUNBOOK.md); each alert links to its section."
}

variable "slos" {
  type = map(object({
    display_name              = string
    kind                      = string
    goal                      = number
    rolling_period_days       = number
    latency_threshold_seconds = optional(number)
    burn_rate_alerts = optional(list(object({
      name         = string
      long_window  = string
      short_window = string
      threshold    = number
      })), [
      { name = "fast", long_window = "3600s", short_window = "300s", threshold = 14.4 },
      { name = "slow", long_window = "21600s", short_window = "1800s", threshold = 6 },
    ])
  }))
  description = "API SLOs keyed by slo id. kind is availability (non-5xx responses / all responses) or latency (responses faster than latency_threshold_seconds / all responses), both measured by Cloud Run at its front end. Each burn-rate alert fires when both the long and the short window burn faster than threshold. Written by the slo/ generator as slo.auto.tfvars.json; shape in terraform/README.md."
  nullable    = false
  default = {
    api-availability = {
      display_name        = "API availability 99.9% / 28d"
      kind                = "availability"
      goal                = 0.999
      rolling_period_days = 28
    }
    api-latency = {
      display_name              = "API latency: 99% under 250 ms / 28d"
      kind                      = "latency"
      goal                      = 0.99
      rolling_period_days       = 28
      latency_threshold_seconds = 0.25
    }
  }

  validation {
    condition     = alltrue([for s in values(var.slos) : contains(["availability", "latency"], s.kind)])
    error_message = "Each slos[*].kind must be availability or latency."
  }
  validation {
    condition     = alltrue([for s in values(var.slos) : s.goal > 0 && s.goal < 1])
    error_message = "Each slos[*].goal must be a ratio strictly between 0 and 1, e.g. 0.999."
  }
  validation {
    condition     = alltrue([for s in values(var.slos) : s.rolling_period_days >= 1 && s.rolling_period_days <= 30])
    error_message = "Each slos[*].rolling_period_days must be between 1 and 30 (Cloud Monitoring limit)."
  }
  validation {
    condition     = alltrue([for s in values(var.slos) : s.kind != "latency" || try(s.latency_threshold_seconds > 0, false)])
    error_message = "A latency SLO needs latency_threshold_seconds > 0."
  }
}

variable "thresholds" {
  type = object({
    oldest_unacked_age_seconds = optional(number, 300)
    undelivered_messages       = optional(number, 10000)
    dead_letter_messages       = optional(number, 0)
    api_5xx_ratio              = optional(number, 0.02)
    ingest_lag_p99_seconds     = optional(number, 30)
    ingest_stalled_seconds     = optional(number, 300)
    db_pool_saturation         = optional(number, 0.9)
  })
  description = "Alert thresholds; see RUNBOOK.md for why each default was chosen."
  default     = {}
}

variable "uptime_check_period" {
  type        = string
  description = "How often the uptime check probes the API (60s, 300s, 600s or 900s)."
  default     = "60s"
}

variable "labels" {
  type        = map(string)
  description = "User labels for alert policies and uptime checks."
  default     = {}
}
