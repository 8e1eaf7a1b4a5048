output "network_id" {
  description = "Self link style id of the VPC network (projects/P/global/networks/N)."
  value       = google_compute_network.this.id
}

output "network_name" {
  description = "Name of the VPC network."
  value       = google_compute_network.this.name
}

output "run_subnet_id" {
  description = "Id of the subnet Cloud Run Direct VPC egress uses."
  value       = google_compute_subnetwork.run.id
}

output "private_service_access_connection" {
  description = "Id of the private service access peering; depend on it before creating Cloud SQL."
  value       = google_service_networking_connection.private_service_access.id
}
