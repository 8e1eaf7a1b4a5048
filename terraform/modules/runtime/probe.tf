# flightdeck-probe (`flightdeck probe`): the black-box prober. Every PROBE_INTERVAL_MS it
# publishes a marked event (synthetic=true, flight PROBE-<ms>) to the events topic and reads it
# back through the API's public URL, the way a third party would (edge load balancer, Cloud
# Armor, API key), exporting flightdeck_probe_* on METRICS_PORT, scraped like the other services.
#
# Least privilege: its own service account (modules/identity) may publish to the events topic
# (modules/pubsub, probe_publisher_members), read its API key and its collector config here, and
# write metrics and traces. It has no database user, no Auth Proxy sidecar and no VPC egress.
#
# The API key lives in Secret Manager as flightdeck-probe-api-key. Terraform creates the secret
# without a version; an operator adds it (terraform/README.md, "The probe's API key"). Cloud Run
# refuses a revision whose secret has no version, so the service exists only once probe.enabled
# is set, after the key was added.

resource "google_secret_manager_secret" "probe_api_key" {
  # checkov:skip=CKV_GCP_128: Google-managed encryption at rest like every other secret and topic here (no KMS key ring exists); only the probe's service account may read the payload.
  project   = var.project_id
  secret_id = var.probe.api_key_secret_id
  labels    = local.labels

  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }
}

resource "google_secret_manager_secret_iam_member" "probe_api_key_accessor" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.probe_api_key.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${var.service_accounts.probe}"
}

resource "google_cloud_run_v2_service" "probe" {
  count    = var.probe.enabled ? 1 : 0
  project  = var.project_id
  name     = var.probe.name
  location = var.region
  ingress  = "INGRESS_TRAFFIC_INTERNAL_ONLY"
  # Stateless, and removed by setting probe.enabled = false.
  deletion_protection = false
  labels              = local.labels

  invoker_iam_disabled = false

  template {
    service_account       = var.service_accounts.probe
    execution_environment = "EXECUTION_ENVIRONMENT_GEN2"
    labels                = local.labels

    # Exactly one prober: two would double the synthetic traffic and the series.
    scaling {
      min_instance_count = 1
      max_instance_count = 1
    }

    containers {
      name  = "app"
      image = var.image
      args  = ["probe"]

      # PORT serves /healthz only (the probe answers no requests).
      ports {
        name           = "http1"
        container_port = var.app_port
      }

      dynamic "env" {
        for_each = merge(local.telemetry_env, {
          PUBSUB_TOPIC      = var.pubsub.topic
          PROBE_API_URL     = var.probe.api_url
          PROBE_INTERVAL_MS = tostring(var.probe.interval_ms)
          PROBE_TIMEOUT_MS  = tostring(var.probe.timeout_ms)
        })
        content {
          name  = env.key
          value = env.value
        }
      }

      # Sent with every read, as a third party sends its key.
      env {
        name = "PROBE_API_KEY"
        value_source {
          secret_key_ref {
            secret  = google_secret_manager_secret.probe_api_key.secret_id
            version = "latest"
          }
        }
      }

      # cpu_idle = false: the probe works on a timer, never on requests, so CPU must stay
      # allocated between them.
      resources {
        limits = {
          cpu    = var.probe.cpu
          memory = var.probe.memory
        }
        cpu_idle          = false
        startup_cpu_boost = true
      }

      startup_probe {
        period_seconds    = 3
        timeout_seconds   = 2
        failure_threshold = 20
        http_get {
          path = "/healthz"
          port = var.app_port
        }
      }

      liveness_probe {
        period_seconds    = 15
        timeout_seconds   = 3
        failure_threshold = 3
        http_get {
          path = "/healthz"
          port = var.app_port
        }
      }
    }

    containers {
      name       = "prometheus-collector"
      image      = var.gmp_sidecar_image
      depends_on = ["app"]

      resources {
        limits = {
          cpu    = "500m"
          memory = "256Mi"
        }
        cpu_idle = false
      }

      volume_mounts {
        name       = "gmp-config"
        mount_path = "/etc/rungmp"
      }
    }

    volumes {
      name = "gmp-config"
      secret {
        secret = google_secret_manager_secret.gmp_config["probe"].secret_id
        items {
          version = "latest"
          path    = "config.yaml"
        }
      }
    }
  }

  # CI rolls out new images, as for the other services; Terraform owns the shape.
  lifecycle {
    ignore_changes = [template[0].containers[0].image, client, client_version]
  }

  depends_on = [
    google_secret_manager_secret_version.gmp_config,
    google_secret_manager_secret_iam_member.gmp_config_accessor,
    google_secret_manager_secret_iam_member.probe_api_key_accessor,
  ]
}
