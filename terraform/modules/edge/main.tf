# The third-party edge of flightdeck-api: a global external Application Load Balancer
# (EXTERNAL_MANAGED) with a serverless NEG in front of the Cloud Run service, a Google-managed
# certificate for var.domain, HTTP redirected to HTTPS, and the Cloud Armor policy of armor.tf on
# the backend. The service's ingress is INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER (modules/runtime),
# so this is the only way in from the internet; the app authenticates API keys itself.
#
# A second host, candidate.<domain>, reaches the revision tagged "candidate": the one deploy.yml
# has just deployed with no traffic and smoke-checks (with its own API key) before the canary.
# Same proxy, same address, same Cloud Armor policy; only the serverless NEG differs (it names
# the tag). Between deploys no revision carries the tag and that host serves nothing.

locals {
  # deploy.yml tags the new revision with this name and calls https://candidate.<domain>
  # (tests/delivery/test_workflows.py holds the workflow to both).
  candidate_tag    = "candidate"
  candidate_domain = "${local.candidate_tag}.${var.domain}"
}

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

# Its own certificate, so a candidate host whose DNS record is missing or late never holds back
# the certificate of var.domain: consumers are unaffected, only deploy.yml's smoke check waits.
resource "google_compute_managed_ssl_certificate" "candidate" {
  project = var.project_id
  name    = "${var.name}-candidate-${substr(sha1(local.candidate_domain), 0, 8)}"

  managed {
    domains = [local.candidate_domain]
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

# The revision tagged "candidate" only (no traffic share of its own): deploy.yml's smoke check and
# canary probes. A NEG's tag is fixed at creation; the revision behind it is whatever holds the tag.
resource "google_compute_region_network_endpoint_group" "candidate" {
  project               = var.project_id
  name                  = "${var.name}-candidate-neg"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = var.api_service_name
    tag     = local.candidate_tag
  }
}

# Behind the same Cloud Armor policy as the public backend: the candidate is no way around the WAF
# or the rate limits, and the app asks it for an API key like any consumer.
resource "google_compute_backend_service" "candidate" {
  project               = var.project_id
  name                  = "${var.name}-candidate-backend"
  description           = "flightdeck-api (${var.api_service_name}), revision tagged ${local.candidate_tag}, behind Cloud Armor ${google_compute_security_policy.api.name}"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  security_policy       = google_compute_security_policy.api.id
  enable_cdn            = false

  backend {
    group = google_compute_region_network_endpoint_group.candidate.id
  }

  log_config {
    enable      = true
    sample_rate = var.log_sample_rate
  }
}

# var.domain (and any other host) goes to the service's traffic split; candidate.<domain> to the
# tagged revision.
resource "google_compute_url_map" "api" {
  project         = var.project_id
  name            = "${var.name}-https"
  default_service = google_compute_backend_service.api.id

  host_rule {
    hosts        = [local.candidate_domain]
    path_matcher = local.candidate_tag
  }

  path_matcher {
    name            = local.candidate_tag
    default_service = google_compute_backend_service.candidate.id
  }
}

resource "google_compute_target_https_proxy" "api" {
  project = var.project_id
  name    = "${var.name}-https"
  url_map = google_compute_url_map.api.id
  # The first is served to clients that send no SNI; each host gets its own by SNI.
  ssl_certificates = [google_compute_managed_ssl_certificate.api.id, google_compute_managed_ssl_certificate.candidate.id]
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
