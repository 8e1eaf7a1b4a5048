# Cloud SQL for PostgreSQL with a private IP only, IAM database authentication for
# the runtime service accounts (no passwords), daily backups with point-in-time
# recovery, deletion protection at both the Terraform and the API level.

resource "google_sql_database_instance" "this" {
  # checkov:skip=CKV_GCP_79: major version is a variable pinned per environment (POSTGRES_16 today); upgrades are planned changes, not a lint failure.
  # checkov:skip=CKV_GCP_57: log_min_duration_statement is deliberately on (slow query log, var.slow_query_ms); the check wants it disabled (-1) to avoid logging statement text, which for flightdeck holds no secrets.
  # checkov:skip=CKV2_GCP_13: log_duration logs a line for every statement, i.e. per ingest batch and API query; the slow query log (log_min_duration_statement) and Query Insights cover latency at a fraction of the log volume.
  # checkov:skip=CKV_GCP_110: pgaudit is off: it logs every statement at ingest volume for little gain; the IAM users, log_connections and Cloud Audit Logs already say who did what.
  project             = var.project_id
  name                = var.instance_name
  region              = var.region
  database_version    = var.database_version
  deletion_protection = true

  settings {
    tier                        = var.tier
    edition                     = "ENTERPRISE"
    availability_type           = var.availability_type
    disk_type                   = "PD_SSD"
    disk_size                   = var.disk_size_gb
    disk_autoresize             = true
    disk_autoresize_limit       = var.disk_autoresize_limit_gb
    deletion_protection_enabled = true
    user_labels                 = var.labels

    ip_configuration {
      ipv4_enabled                                  = false
      private_network                               = var.network_id
      enable_private_path_for_google_cloud_services = true
      # Every client goes through the Cloud SQL Auth Proxy, which presents an
      # ephemeral client certificate, so plain or unauthenticated TLS is refused.
      ssl_mode = "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
    }

    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
      start_time                     = var.backup_start_time
      transaction_log_retention_days = var.transaction_log_retention_days

      backup_retention_settings {
        retained_backups = var.retained_backups
        retention_unit   = "COUNT"
      }
    }

    maintenance_window {
      day          = var.maintenance_day
      hour         = var.maintenance_hour
      update_track = "stable"
    }

    insights_config {
      query_insights_enabled  = true
      query_string_length     = 1024
      record_application_tags = true
      record_client_address   = false
    }

    # IAM database authentication: service accounts log in with short-lived tokens.
    database_flags {
      name  = "cloudsql.iam_authentication"
      value = "on"
    }
    database_flags {
      name  = "max_connections"
      value = tostring(var.max_connections)
    }
    # Slow query log.
    database_flags {
      name  = "log_min_duration_statement"
      value = tostring(var.slow_query_ms)
    }
    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }
    database_flags {
      name  = "log_connections"
      value = "on"
    }
    database_flags {
      name  = "log_disconnections"
      value = "on"
    }
    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }
    database_flags {
      name  = "log_temp_files"
      value = "0"
    }
    database_flags {
      name  = "log_min_messages"
      value = "warning"
    }
    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }
    database_flags {
      name  = "log_statement"
      value = "ddl"
    }
    database_flags {
      name  = "log_hostname"
      value = "on"
    }
    # A stuck transaction must not hold locks (or a pool slot) forever.
    database_flags {
      name  = "idle_in_transaction_session_timeout"
      value = "60000"
    }
  }

  depends_on = [var.private_service_access_connection]
}

resource "google_sql_database" "app" {
  project  = var.project_id
  instance = google_sql_database_instance.this.name
  name     = var.database_name
}

# One IAM database user per workload. The Postgres user name of a service account is
# its email without the ".gserviceaccount.com" suffix.
resource "google_sql_user" "iam" {
  for_each = var.iam_service_accounts
  project  = var.project_id
  instance = google_sql_database_instance.this.name
  name     = trimsuffix(each.value, ".gserviceaccount.com")
  type     = "CLOUD_IAM_SERVICE_ACCOUNT"
}

# Cloud SQL has no per-instance IAM policy, so both roles are granted on the project
# with an IAM condition that limits them to this one instance.
resource "google_project_iam_member" "sql_client" {
  for_each = var.iam_service_accounts
  project  = var.project_id
  role     = "roles/cloudsql.client"
  member   = "serviceAccount:${each.value}"

  condition {
    title       = "only-${var.instance_name}"
    description = "Connect to the ${var.instance_name} instance only."
    expression  = "resource.name == 'projects/${var.project_id}/instances/${var.instance_name}' && resource.service == 'sqladmin.googleapis.com'"
  }
}

resource "google_project_iam_member" "sql_instance_user" {
  for_each = var.iam_service_accounts
  project  = var.project_id
  role     = "roles/cloudsql.instanceUser"
  member   = "serviceAccount:${each.value}"

  condition {
    title       = "only-${var.instance_name}"
    description = "IAM database login to the ${var.instance_name} instance only."
    expression  = "resource.name == 'projects/${var.project_id}/instances/${var.instance_name}' && resource.service == 'sqladmin.googleapis.com'"
  }
}
