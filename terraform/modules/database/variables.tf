variable "project_id" {
  type        = string
  description = "Google Cloud project that owns the Cloud SQL instance."
}

variable "region" {
  type        = string
  description = "Region of the Cloud SQL instance (same as Cloud Run, to keep latency and egress low)."
}

variable "instance_name" {
  type        = string
  description = "Name of the Cloud SQL for PostgreSQL instance."
}

variable "database_name" {
  type        = string
  description = "Database the application uses."
  default     = "flightdeck"
}

variable "database_version" {
  type        = string
  description = "Cloud SQL PostgreSQL major version."
  default     = "POSTGRES_16"

  validation {
    condition     = can(regex("^POSTGRES_[0-9]+$", var.database_version))
    error_message = "database_version must be a PostgreSQL version such as POSTGRES_16."
  }
}

variable "tier" {
  type        = string
  description = "Machine tier, e.g. db-custom-1-3840 (1 vCPU, 3.75 GB). Shared-core tiers have no SLA."
}

variable "availability_type" {
  type        = string
  description = "ZONAL for staging, REGIONAL (synchronous standby in a second zone, automatic failover) for prod."

  validation {
    condition     = contains(["ZONAL", "REGIONAL"], var.availability_type)
    error_message = "availability_type must be ZONAL or REGIONAL."
  }
}

variable "disk_size_gb" {
  type        = number
  description = "Initial SSD size in GB; it grows automatically up to disk_autoresize_limit_gb."
  default     = 20
}

variable "disk_autoresize_limit_gb" {
  type        = number
  description = "Upper bound for automatic disk growth in GB (0 means no limit)."
  default     = 500
}

variable "network_id" {
  type        = string
  description = "VPC network id the instance gets its private IP in."
}

variable "private_service_access_connection" {
  type        = string
  description = "Id of the private service access connection; passed so the instance is created after the peering exists."
}

variable "backup_start_time" {
  type        = string
  description = "UTC HH:MM when the daily backup starts."
  default     = "03:00"
}

variable "retained_backups" {
  type        = number
  description = "Number of daily backups kept."
  default     = 14
}

variable "transaction_log_retention_days" {
  type        = number
  description = "Days of write-ahead log kept for point-in-time recovery (1 to 7)."
  default     = 7

  validation {
    condition     = var.transaction_log_retention_days >= 1 && var.transaction_log_retention_days <= 7
    error_message = "transaction_log_retention_days must be between 1 and 7."
  }
}

variable "max_connections" {
  type        = number
  description = "PostgreSQL max_connections. Size it above the sum of DB_POOL_MAX times max instances of every service, plus headroom for operators."
  default     = 200
}

variable "slow_query_ms" {
  type        = number
  description = "Statements slower than this many milliseconds are logged (log_min_duration_statement)."
  default     = 500
}

variable "iam_service_accounts" {
  type        = map(string)
  description = "Service account emails that log in with IAM database authentication, keyed by workload (api, ingest, migrate). Each gets a Cloud SQL IAM user and, on this instance only, roles/cloudsql.client and roles/cloudsql.instanceUser."
  default     = {}
}

variable "maintenance_day" {
  type        = number
  description = "Day of week (1 = Monday ... 7 = Sunday) for maintenance."
  default     = 7
}

variable "maintenance_hour" {
  type        = number
  description = "UTC hour (0-23) for maintenance."
  default     = 4
}

variable "labels" {
  type        = map(string)
  description = "User labels applied to the instance."
  default     = {}
}
