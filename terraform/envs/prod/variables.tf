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
  default     = null
}

variable "image_reader_members" {
  type        = map(string)
  description = "IAM members allowed to pull images from this environment's registry, keyed by a stable name. In staging: the production deployer (serviceAccount:...), which promotes the digest staging ran."
  default     = {}
}

variable "api_domain" {
  type        = string
  description = "Domain third parties call the API on (e.g. api.flightdeck.example.org); point its A record at the api_ip_address output so the managed certificate can be issued."
}

variable "waf_mode" {
  type        = string
  description = "Cloud Armor OWASP rules: preview (log what would be blocked) or enforce (answer 403). Preview until the load balancer logs show no false positive on real traffic (modules/edge)."
  default     = "preview"
}

variable "probe_enabled" {
  type        = bool
  description = "Run flightdeck-probe. Set it once the flightdeck-probe-api-key secret has a version (terraform/README.md, \"The probe's API key\"): Cloud Run refuses the revision before."
  default     = false
}

variable "publisher_members" {
  type        = map(string)
  description = "IAM members allowed to publish flight events on the topic, keyed by a stable name."
  default     = {}
}

variable "dlq_operators" {
  type        = map(string)
  description = "IAM members (operators, groups) allowed to pull from the dead-letter inspection subscription, keyed by a stable name."
  default     = {}
}

variable "notification_channels" {
  type = map(object({
    type         = string
    display_name = string
    labels       = map(string)
    receives     = string
  }))
  description = "Notification channels for alerts, keyed by a stable name; receives is page, ticket or watchdog (see modules/monitoring)."
  default     = {}
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

variable "github_ref" {
  type        = string
  description = "The protected branch whose deploy workflows (besides v* release tags) may act as the production deployer; cd.yml deploys production from master."
  default     = "refs/heads/master"
}
