# Cloud Armor in front of flightdeck-api. Rules run by priority and the first match decides, so:
#   1000       Log4Shell lookups (cve-canary): always enforced
#   1100-1180  OWASP CRS preconfigured WAF rules: preview or enforce (var.waf_mode)
#   2000-2020  rate limits: one bucket per API key, one per client IP for keyless requests
#   max        allow
# The WAF rules come first because a throttle rule's conform action ("allow") ends evaluation.
# Preview rules are evaluated and logged (previewSecurityPolicy in the load balancer's request
# log) but never block, and evaluation continues to the rate limits.

locals {
  # OWASP Core Rule Set families, by priority. PHP, Node.js and Java signatures are left out:
  # flightdeck-api is a Rust binary; only the attack classes that apply to any HTTP API remain.
  waf_rules = {
    sqli              = 1100
    xss               = 1110
    lfi               = 1120
    rfi               = 1130
    rce               = 1140
    methodenforcement = 1150
    scannerdetection  = 1160
    protocolattack    = 1170
    sessionfixation   = 1180
  }

  # The app takes a key as `X-API-Key: <key>` or `Authorization: Bearer <key>`; each header gets
  # its own per-key bucket. Cloud Armor lower-cases header names in request.headers.
  with_api_key       = "has(request.headers['x-api-key'])"
  with_authorization = "has(request.headers['authorization'])"
  without_key        = "!has(request.headers['x-api-key']) && !has(request.headers['authorization'])"
}

resource "google_compute_security_policy" "api" {
  project     = var.project_id
  name        = "${var.name}-armor"
  description = "flightdeck-api edge: Log4Shell block, OWASP CRS ${var.waf_crs_version} (${var.waf_mode}), per-key and per-IP rate limits"
  type        = "CLOUD_ARMOR"

  # JNDI lookup strings have no legitimate use in any flightdeck request (flight ids, airport
  # codes, dates, cursors), so this rule blocks from day one whatever var.waf_mode says.
  rule {
    action      = "deny(403)"
    priority    = 1000
    preview     = false
    description = "Log4Shell (CVE-2021-44228) JNDI lookups"
    match {
      expr {
        expression = "evaluatePreconfiguredWaf('cve-canary')"
      }
    }
  }

  dynamic "rule" {
    for_each = local.waf_rules
    content {
      action      = "deny(403)"
      priority    = rule.value
      preview     = var.waf_mode == "preview"
      description = "OWASP CRS ${rule.key}-${var.waf_crs_version}-stable, sensitivity ${var.waf_sensitivity}"
      match {
        expr {
          expression = "evaluatePreconfiguredWaf('${rule.key}-${var.waf_crs_version}-stable', {'sensitivity': ${var.waf_sensitivity}})"
        }
      }
    }
  }

  # One bucket per X-API-Key value. Backstop only: the app enforces each key's own quota (its
  # rate and burst) and answers 429 with Retry-After first; this threshold sits above it.
  rule {
    action      = "throttle"
    priority    = 2000
    description = "per API key (X-API-Key): ${var.rate_limits.per_key.count} / ${var.rate_limits.per_key.interval_sec}s"
    match {
      expr {
        expression = local.with_api_key
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = ""
      enforce_on_key_configs {
        enforce_on_key_type = "HTTP_HEADER"
        enforce_on_key_name = "X-API-Key"
      }
      rate_limit_threshold {
        count        = var.rate_limits.per_key.count
        interval_sec = var.rate_limits.per_key.interval_sec
      }
    }
  }

  # The same key sent as a bearer token. Keyed on the whole header value (its first 128 bytes).
  rule {
    action      = "throttle"
    priority    = 2010
    description = "per API key (Authorization): ${var.rate_limits.per_key.count} / ${var.rate_limits.per_key.interval_sec}s"
    match {
      expr {
        expression = local.with_authorization
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = ""
      enforce_on_key_configs {
        enforce_on_key_type = "HTTP_HEADER"
        enforce_on_key_name = "Authorization"
      }
      rate_limit_threshold {
        count        = var.rate_limits.per_key.count
        interval_sec = var.rate_limits.per_key.interval_sec
      }
    }
  }

  # No key at all: only /healthz, /openapi.json and 401s are served to these, so a much lower
  # threshold per client IP.
  rule {
    action      = "throttle"
    priority    = 2020
    description = "no key, per IP: ${var.rate_limits.anonymous.count} / ${var.rate_limits.anonymous.interval_sec}s"
    match {
      expr {
        expression = local.without_key
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = var.rate_limits.anonymous.count
        interval_sec = var.rate_limits.anonymous.interval_sec
      }
    }
  }

  rule {
    action      = "allow"
    priority    = 2147483647
    description = "default: allow"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}
