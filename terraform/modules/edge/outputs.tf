output "ip_address" {
  description = "IPv4 address of the load balancer: the A records of var.domain and of candidate.DOMAIN (candidate_url) must point here."
  value       = google_compute_global_address.api.address
}

output "url" {
  description = "Public base URL of the API (https://DOMAIN); HTTP on port 80 redirects here."
  value       = "https://${var.domain}"
}

output "candidate_url" {
  description = "Base URL of the revision tagged candidate (https://candidate.DOMAIN), which deploy.yml smoke-checks before the canary; its A record points at ip_address too."
  value       = "https://${local.candidate_domain}"
}

output "security_policy_name" {
  description = "Name of the Cloud Armor policy on the backend (gcloud compute security-policies describe NAME)."
  value       = google_compute_security_policy.api.name
}

output "backend_service_name" {
  description = "Name of the public backend service; its request logs carry Cloud Armor's verdicts (resource.type=http_load_balancer)."
  value       = google_compute_backend_service.api.name
}

output "candidate_backend_service_name" {
  description = "Name of the backend service of the candidate host (deploy.yml's smoke check and canary probes), behind the same Cloud Armor policy."
  value       = google_compute_backend_service.candidate.name
}
