# The third-party edge of flightdeck-api: a global external Application Load Balancer
# (EXTERNAL_MANAGED) with a serverless NEG in front of the Cloud Run service, a Google-managed
# certificate for var.domain, HTTP redirected to HTTPS, and the Cloud Armor policy of armor.tf on
# the backend. The service's ingress is INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER (modules/runtime),
# so this is the only way in from the internet; the app authenticates API keys itself.

resource "google_compute_global_address" "api" {
  project    = var.project_id
  name       = "${var.name}-ip"
  ip_version = "IPV4"
  labels     = var.labels
}

# Provisioning starts once var.domain resolves to the address above (an A record, made outside
# Terraform) and takes up to an hour. A new domain gets a new certificate, created before the old
# one is released, so the proxy never goes without one.
resource "google_compute_managed_ssl_certificate" "api" {
  project = var.project_id
  name    = "${var.name}-${substr(sha1(var.domain), 0, 8)}"

  managed {
    domains = [var.domain]
  }

  lifecycle {
    create_before_destroy = true
  }
}

# TLS 1.2+ with the MODERN cipher profile (forward-secret AEAD suites; no RSA key exchange).
resource "google_compute_ssl_policy" "api" {
  project         = var.project_id
  name            = "${var.name}-tls"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_region_network_endpoint_group" "api" {
  project               = var.project_id
  name                  = "${var.name}-neg"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = var.api_service_name
  }
}

# No protocol, port, timeout or health check: serverless NEG backends take none of them (Cloud
# Run answers for its instances, and the service's own request timeout applies).
resource "google_compute_backend_service" "api" {
  project               = var.project_id
  name                  = "${var.name}-backend"
  description           = "flightdeck-api (${var.api_service_name}) behind Cloud Armor ${google_compute_security_policy.api.name}"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  security_policy       = google_compute_security_policy.api.id
  enable_cdn            = false

  backend {
    group = google_compute_region_network_endpoint_group.api.id
  }

  # Request logs carry Cloud Armor's verdict (enforcedSecurityPolicy, previewSecurityPolicy).
  log_config {
    enable      = true
    sample_rate = var.log_sample_rate
  }
}

resource "google_compute_url_map" "api" {
  project         = var.project_id
  name            = "${var.name}-https"
  default_service = google_compute_backend_service.api.id
}

resource "google_compute_target_https_proxy" "api" {
  project          = var.project_id
  name             = "${var.name}-https"
  url_map          = google_compute_url_map.api.id
  ssl_certificates = [google_compute_managed_ssl_certificate.api.id]
  ssl_policy       = google_compute_ssl_policy.api.id
}

resource "google_compute_global_forwarding_rule" "https" {
  project               = var.project_id
  name                  = "${var.name}-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_protocol           = "TCP"
  ip_address            = google_compute_global_address.api.id
  port_range            = "443"
  target                = google_compute_target_https_proxy.api.id
  labels                = var.labels
}

# --- Port 80: a permanent redirect to HTTPS, nothing served ------------------

resource "google_compute_url_map" "http_redirect" {
  project = var.project_id
  name    = "${var.name}-http-redirect"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "http_redirect" {
  project = var.project_id
  name    = "${var.name}-http-redirect"
  url_map = google_compute_url_map.http_redirect.id
}

resource "google_compute_global_forwarding_rule" "http_redirect" {
  project               = var.project_id
  name                  = "${var.name}-http-redirect"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_protocol           = "TCP"
  ip_address            = google_compute_global_address.api.id
  port_range            = "80"
  target                = google_compute_target_http_proxy.http_redirect.id
  labels                = var.labels
}
