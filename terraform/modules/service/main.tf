# One flightdeck database workload on Cloud Run v2: the app container beside two sidecars, the
# Cloud SQL Auth Proxy (the app talks plain Postgres to 127.0.0.1:5432 as its IAM user) and the
# Managed Service for Prometheus collector scraping localhost:METRICS_PORT/metrics, with Direct
# VPC egress to private ranges. modules/runtime instantiates it for flightdeck-api and
# flightdeck-ingest; what differs between them (command, env, scaling, ingress, CPU allocation)
# comes in as inputs.

resource "google_cloud_run_v2_service" "main" {
  project             = var.project_id
  name                = var.name
  location            = var.region
  deletion_protection = true
  labels              = var.labels

  ingress              = var.ingress
  invoker_iam_disabled = var.invoker_iam_disabled

  template {
    service_account                  = var.service_account
    timeout                          = var.request_timeout
    max_instance_request_concurrency = var.concurrency
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN2"
    labels                           = var.labels

    scaling {
      min_instance_count = var.scaling.min_instances
      max_instance_count = var.scaling.max_instances
    }

    vpc_access {
      egress = "PRIVATE_RANGES_ONLY"
      network_interfaces {
        network    = var.network_id
        subnetwork = var.subnet_id
      }
    }

    containers {
      name       = "app"
      image      = var.image
      args       = var.args
      depends_on = ["cloud-sql-proxy"]

      ports {
        name           = "http1"
        container_port = var.app_port
      }

      dynamic "env" {
        for_each = var.env
        content {
          name  = env.key
          value = env.value
        }
      }

      # cpu_idle = false keeps CPU allocated with no inbound request (every container of the
      # instance alike): a pull worker needs it to make progress, and the collector to scrape.
      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        cpu_idle          = !var.cpu_always_on
        startup_cpu_boost = true
      }

      # Ready = database reachable and migrations current (the app's /readyz).
      startup_probe {
        initial_delay_seconds = 0
        period_seconds        = 3
        timeout_seconds       = 2
        failure_threshold     = 20
        http_get {
          path = "/readyz"
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
      name  = "cloud-sql-proxy"
      image = var.sql_proxy.image
      args  = var.sql_proxy.args

      resources {
        limits = {
          cpu    = "500m"
          memory = "256Mi"
        }
        cpu_idle = !var.cpu_always_on
      }

      startup_probe {
        period_seconds    = 2
        timeout_seconds   = 2
        failure_threshold = 30
        http_get {
          path = "/startup"
          port = var.sql_proxy.health_port
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
        cpu_idle = !var.cpu_always_on
      }

      volume_mounts {
        name       = "gmp-config"
        mount_path = "/etc/rungmp"
      }
    }

    volumes {
      name = "gmp-config"
      secret {
        secret = var.gmp_config_secret
        items {
          version = "latest"
          path    = "config.yaml"
        }
      }
    }
  }

  # CI rolls out new images (`gcloud run deploy --image`); Terraform owns the shape.
  lifecycle {
    ignore_changes = [template[0].containers[0].image, client, client_version]

    # CKV_FD_7 at plan time: a service without the invoker check is open to anyone who reaches
    # it, so only the load balancer (and its Cloud Armor policy) may reach it.
    precondition {
      condition     = !var.invoker_iam_disabled || var.ingress == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
      error_message = "invoker_iam_disabled = true needs ingress = INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER: keep the invoker check, or put the service behind the edge load balancer."
    }
  }
}
