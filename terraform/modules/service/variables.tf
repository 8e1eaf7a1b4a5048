variable "project_id" {
  type        = string
  description = "Google Cloud project that runs the service."
}

variable "region" {
  type        = string
  description = "Region of the Cloud Run service."
}

variable "name" {
  type        = string
  description = "Name of the Cloud Run service (flightdeck-api, flightdeck-ingest)."

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$", var.name))
    error_message = "name must be 1-49 lower-case letters, digits or hyphens, starting with a letter and not ending with a hyphen (Cloud Run service names)."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels of the service and of its revisions."
  default     = {}
}

variable "image" {
  type        = string
  description = "Image of the app container for the first revision; CI rolls out later ones and Terraform ignores the change."
}

variable "args" {
  type        = list(string)
  description = "Arguments of the flightdeck binary: the subcommand this service runs (serve, ingest)."
}

variable "service_account" {
  type        = string
  description = "Email of the service account the revisions run as (its IAM database user is the one the Auth Proxy logs in as)."
}

variable "ingress" {
  type        = string
  description = "Who may reach the service: INGRESS_TRAFFIC_INTERNAL_ONLY or INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER (through the edge load balancer only)."

  validation {
    condition     = contains(["INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"], var.ingress)
    error_message = "ingress must be INGRESS_TRAFFIC_INTERNAL_ONLY or INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER: no flightdeck service takes internet traffic except through the edge."
  }
}

variable "invoker_iam_disabled" {
  type        = bool
  description = "Turn the Cloud Run invoker IAM check off; allowed only with ingress INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER (the app checks API keys itself)."
  default     = false
}

variable "scaling" {
  type = object({
    min_instances = number
    max_instances = number
  })
  description = "Instance count bounds: min_instances kept warm, max_instances ceiling (which, times DB_POOL_MAX, bounds the service's database connections)."

  validation {
    condition     = var.scaling.min_instances >= 0 && var.scaling.max_instances >= 1 && var.scaling.min_instances <= var.scaling.max_instances
    error_message = "scaling needs 0 <= min_instances <= max_instances and max_instances >= 1."
  }
}

variable "concurrency" {
  type        = number
  description = "Requests one instance serves at once; null keeps Cloud Run's default (a worker serves no requests)."
  default     = null
}

variable "request_timeout" {
  type        = string
  description = "Longest a request may take, e.g. 30s; null keeps Cloud Run's default."
  default     = null

  validation {
    condition     = var.request_timeout == null || can(regex("^[0-9]+s$", var.request_timeout))
    error_message = "request_timeout must be a whole number of seconds ending in s, e.g. 30s."
  }
}

variable "cpu" {
  type        = string
  description = "CPU limit of the app container, e.g. 1."
}

variable "memory" {
  type        = string
  description = "Memory limit of the app container, e.g. 512Mi."
}

variable "cpu_always_on" {
  type        = bool
  description = "Keep CPU allocated with no request in flight (instance-based billing): a pull worker needs it; a request-driven API trades it for reliable scrapes between requests."
}

variable "app_port" {
  type        = number
  description = "PORT the app serves HTTP (and /healthz, /readyz) on."
}

variable "env" {
  type        = map(string)
  description = "Environment of the app container (telemetry, Pub/Sub names, DATABASE_URL, the subcommand's settings)."
}

variable "network_id" {
  type        = string
  description = "VPC network for Direct VPC egress."
}

variable "subnet_id" {
  type        = string
  description = "Subnet that Direct VPC egress takes instance addresses from."
}

variable "sql_proxy" {
  type = object({
    image       = string
    args        = list(string)
    health_port = number
  })
  description = "Cloud SQL Auth Proxy sidecar: its image, its arguments (instance connection name, IAM login, private IP) and the port of its /startup health check."
}

variable "gmp_sidecar_image" {
  type        = string
  description = "Managed Service for Prometheus sidecar image for Cloud Run (pin a version)."
}

variable "gmp_config_secret" {
  type        = string
  description = "Secret Manager secret id holding the collector's RunMonitoring config, mounted at /etc/rungmp/config.yaml."
}
