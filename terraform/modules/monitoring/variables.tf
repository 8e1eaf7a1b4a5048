variable "project_id" {
  type        = string
  description = "Google Cloud project the monitoring resources live in (the scoping project of the workloads)."
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
  description = "Public HTTPS base URL of the API (the edge load balancer, https://DOMAIN); the uptime check probes its /healthz."
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
    receives     = string
  }))
  description = "Notification channels created for this environment, keyed by a stable name. receives is page (on-call pager), ticket (team queue) or watchdog (a dead man's switch that expects the always-firing Watchdog), e.g. { oncall = { type = \"pagerduty\", display_name = \"On-call\", labels = { service_key = \"...\" }, receives = \"page\" } }. A channel receives one kind only, so pages and tickets never share a channel."
  default     = {}

  validation {
    condition     = alltrue([for c in values(var.notification_channels) : contains(["page", "ticket", "watchdog"], c.receives)])
    error_message = "Each notification_channels[*].receives must be page, ticket or watchdog."
  }
}

variable "database_instance_name" {
  type        = string
  description = "Name of the Cloud SQL instance (modules/database output instance_name); its CPU, connections and disk are alerted on."
}

variable "runbook_url_base" {
  type        = string
  description = "runbook_url_base of alerts/runbooks.yml (the stack reads it): the repository on the code host, e.g. https://github.com/ORG/REPO/blob/master/. Each cloud-only alert links to its section of this module's RUNBOOK.md under it."

  validation {
    condition     = can(regex("^https://\\S+/$", var.runbook_url_base))
    error_message = "runbook_url_base must be an https URL ending in / (alerts/runbooks.yml)."
  }
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
  description = "SLOs keyed by slo id, written by the slo/ generator as slo.auto.tfvars.json (one per slo/specs file). service is flightdeck-api or flightdeck-ingest. kind: availability (non-5xx / all responses) or latency (faster than latency_threshold_seconds / all), measured by Cloud Run at its front end; good_total (bad_filter / total_filter) or distribution_cut (distribution_filter up to range_max) over Managed Prometheus metrics. Each burn-rate alert (severity page or ticket, factors derived from the period) fires when both windows burn faster than threshold."
  nullable    = false

  validation {
    condition     = alltrue([for s in values(var.slos) : contains(["availability", "latency", "good_total", "distribution_cut"], s.kind)])
    error_message = "Each slos[*].kind must be availability, latency, good_total or distribution_cut."
  }
  validation {
    condition     = alltrue([for s in values(var.slos) : contains(["flightdeck-api", "flightdeck-ingest"], s.service)])
    error_message = "Each slos[*].service must be flightdeck-api or flightdeck-ingest."
  }
  validation {
    condition     = alltrue(flatten([for s in values(var.slos) : [for b in s.burn_rate_alerts : contains(["page", "ticket"], b.severity)]]))
    error_message = "Each slos[*].burn_rate_alerts[*].severity must be page or ticket."
  }
  validation {
    condition     = alltrue([for s in values(var.slos) : s.kind != "good_total" || (s.total_filter != null && s.bad_filter != null)])
    error_message = "A good_total SLO needs total_filter and bad_filter."
  }
  validation {
    condition     = alltrue([for s in values(var.slos) : s.kind != "distribution_cut" || (s.distribution_filter != null && s.range_max != null)])
    error_message = "A distribution_cut SLO needs distribution_filter and range_max."
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
    undelivered_messages      = optional(number, 10000)
    api_5xx_ratio             = optional(number, 0.02)
    cloudsql_cpu_utilization  = optional(number, 0.8)
    cloudsql_connections      = optional(number, 160)
    cloudsql_disk_utilization = optional(number, 0.85)
  })
  description = "Thresholds of the cloud-only alerts; see RUNBOOK.md for why each default was chosen. The alerts that also run locally take theirs from alerts/rules and slo/specs."
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
