variable "project_id" {
  type        = string
  description = "Google Cloud project that owns the network."
}

variable "region" {
  type        = string
  description = "Region of the subnet that Cloud Run Direct VPC egress takes its addresses from."
}

variable "name" {
  type        = string
  description = "Name of the VPC network; the subnet and the private service access range are named after it."
}

variable "run_subnet_cidr" {
  type        = string
  description = "CIDR of the subnet used by Cloud Run Direct VPC egress. Each instance takes an address (two during revision rollouts), so a /24 serves up to roughly 100 instances."
  default     = "10.10.0.0/24"

  validation {
    condition     = can(cidrhost(var.run_subnet_cidr, 0))
    error_message = "run_subnet_cidr must be a valid IPv4 CIDR block, e.g. 10.10.0.0/24."
  }
}

variable "private_service_access_prefix_length" {
  type        = number
  description = "Prefix length of the range reserved for private service access (Cloud SQL private IP). /20 leaves room for more instances and AlloyDB."
  default     = 20

  validation {
    condition     = var.private_service_access_prefix_length >= 16 && var.private_service_access_prefix_length <= 24
    error_message = "private_service_access_prefix_length must be between 16 and 24."
  }
}

variable "flow_log_sampling" {
  type        = number
  description = "Fraction of VPC flow log records kept for the Cloud Run subnet (0 to 1)."
  default     = 0.5

  validation {
    condition     = var.flow_log_sampling >= 0 && var.flow_log_sampling <= 1
    error_message = "flow_log_sampling must be between 0 and 1."
  }
}
