# The API key of deploy.yml's smoke check. The API's ingress admits only the edge load balancer
# and the app wants a key on /v1/*, so CD calls the new revision the way a consumer does: through
# https://candidate.<domain> (modules/edge) with `Authorization: Bearer <key>`.
#
# Terraform creates the secret without a version and never holds the key; an operator creates the
# key once with `flightdeck apikey create --name ci-smoke` and adds it as a version
# (terraform/README.md, "The deploy smoke check's API key"). Only the deployer may read it.

resource "google_secret_manager_secret" "smoke_api_key" {
  # checkov:skip=CKV_GCP_128: Google-managed encryption at rest like every other secret and topic here (no KMS key ring exists); only the deployer may read the payload.
  project   = var.project_id
  secret_id = var.smoke_api_key_secret_id
  labels    = var.labels

  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }
}

# deploy.yml reads the key (`gcloud secrets versions access`) as the deployer, masks it in the log
# and sends it as a bearer token; this one secret and nothing else in Secret Manager.
resource "google_secret_manager_secret_iam_member" "deployer_smoke_api_key" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.smoke_api_key.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.deployer.email}"
}
