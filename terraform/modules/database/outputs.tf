output "instance_name" {
  description = "Name of the Cloud SQL instance."
  value       = google_sql_database_instance.this.name
}

output "connection_name" {
  description = "PROJECT:REGION:INSTANCE, the argument of the Cloud SQL Auth Proxy sidecar."
  value       = google_sql_database_instance.this.connection_name
}

output "private_ip_address" {
  description = "Private IP of the instance inside the VPC."
  value       = google_sql_database_instance.this.private_ip_address
}

output "database_name" {
  description = "Name of the application database."
  value       = google_sql_database.app.name
}

output "iam_db_users" {
  description = "Postgres user name of each workload's IAM database user, keyed like var.iam_service_accounts."
  value       = { for k, u in google_sql_user.iam : k => u.name }
}

output "grants_sql" {
  description = "SQL to run once per environment before the first `flightdeck migrate`: group roles and default privileges so the API reads and ingest writes every table migrate creates. See terraform/README.md, section Database grants."
  value = templatefile("${path.module}/grants.sql.tftpl", {
    database = google_sql_database.app.name
    migrate  = lookup({ for k, u in google_sql_user.iam : k => u.name }, "migrate", "")
    readers  = [for k, u in google_sql_user.iam : u.name if k == "api"]
    writers  = [for k, u in google_sql_user.iam : u.name if k == "ingest"]
  })
}
