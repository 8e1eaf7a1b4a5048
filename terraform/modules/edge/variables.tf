variable "project_id" {
  type        = string
  description = "Google Cloud project of the load balancer and the Cloud Armor policy."
}

variable "region" {
  type        = string
  description = "Region of the Cloud Run API service (the serverless NEG is regional)."
}

variable "name" {
  type        = string
  description = "Prefix of every resource name (address, NEG, backend, policy, proxies, forwarding rules)."
  default     = "flightdeck-api"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,40}[a-z0-9]$", var.name))
    error_message = "name must be 2-42 lowercase letters, digits or dashes, starting with a letter and not ending with a dash."
  }
}

variable "api_service_name" {
  type        = string
  description = "Name of the Cloud Run service behind the load balancer (flightdeck-api); its ingress must be INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER."
}

variable "domain" {
  type        = string
  description = "Fully qualified domain name third parties call (e.g. api.flightdeck.example.org). Its A record must point at the ip_address output before the managed certificate can be provisioned."

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lowercase fully qualified domain name such as api.example.org (no scheme, no trailing dot)."
  }
}

variable "waf_mode" {
  type        = string
  description = "preview: the OWASP CRS rules only log what they would block (previewSecurityPolicy in the request log); enforce: they answer 403. Start in preview and enforce once the logs show no false positive on real traffic."
  default     = "preview"

  validation {
    condition     = contains(["preview", "enforce"], var.waf_mode)
    error_message = "waf_mode must be preview or enforce."
  }
}

variable "waf_sensitivity" {
  type        = number
  description = "OWASP CRS sensitivity (paranoia level) of every preconfigured WAF rule: 1 has the fewest false positives, 4 evaluates every signature."
  default     = 1

  validation {
    condition     = contains([1, 2, 3, 4], var.waf_sensitivity)
    error_message = "waf_sensitivity must be 1, 2, 3 or 4."
  }
}

variable "waf_crs_version" {
  type        = string
  description = "OWASP Core Rule Set version of the preconfigured WAF rules: v33 (CRS 3.3) or v422 (CRS 4.22). Run a new version in preview before enforcing it."
  default     = "v33"

  validation {
    condition     = contains(["v33", "v422"], var.waf_crs_version)
    error_message = "waf_crs_version must be v33 or v422."
  }
}

variable "rate_limits" {
  type = object({
    per_key = optional(object({
      count        = number
      interval_sec = number
    }), { count = 3000, interval_sec = 60 })
    anonymous = optional(object({
      count        = number
      interval_sec = number
    }), { count = 60, interval_sec = 60 })
  })
  description = "Cloud Armor throttles, answered with 429: per_key is requests per API key (X-API-Key or Authorization header) in interval_sec, a backstop above the app's own per-key quota (API_DEFAULT_RATE, 20/s); anonymous is requests without any key per client IP, lower."
  default     = {}

  validation {
    condition = alltrue([for t in [var.rate_limits.per_key, var.rate_limits.anonymous] :
      t.count >= 1 && contains([10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600], t.interval_sec)
    ])
    error_message = "Each rate limit needs count >= 1 and an interval_sec Cloud Armor accepts: 10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700 or 3600."
  }

  validation {
    condition     = var.rate_limits.anonymous.count / var.rate_limits.anonymous.interval_sec < var.rate_limits.per_key.count / var.rate_limits.per_key.interval_sec
    error_message = "rate_limits.anonymous must allow fewer requests per second than rate_limits.per_key."
  }
}

variable "log_sample_rate" {
  type        = number
  description = "Share of requests the load balancer logs (with Cloud Armor's verdict), 0 to 1. Keep 1 while waf_mode is preview: the logs are how false positives are found."
  default     = 1

  validation {
    condition     = var.log_sample_rate >= 0 && var.log_sample_rate <= 1
    error_message = "log_sample_rate must be between 0 and 1."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels of the resources that accept them here (the address and the forwarding rules; the other load balancer resources and, below google provider 7.3, the security policy take none)."
  default     = {}
}
