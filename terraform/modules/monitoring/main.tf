# Monitoring for one flightdeck environment: notification channels, an uptime
# check on the API, alert policies on Pub/Sub backlog and dead letters, on the
# API's 5xx ratio and on the app's own Prometheus metrics (PromQL over Managed
# Service for Prometheus), and a custom service carrying the API SLOs with
# multi-window burn-rate alerts. Every alert names a section of RUNBOOK.md.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  channels = [for c in google_monitoring_notification_channel.this : c.id]
  api_host = trimsuffix(trimprefix(var.api_url, "https://"), "/")

  run_filter = join(" AND ", [
    "resource.type = \"cloud_run_revision\"",
    "resource.label.\"service_name\" = \"${var.api_service_name}\"",
  ])

  subscription_filter = join(" AND ", [
    "resource.type = \"pubsub_subscription\"",
    "resource.label.\"subscription_id\" = \"${var.subscription_name}\"",
  ])

  # Alerts on Google Cloud metrics, as plain threshold conditions.
  threshold_alerts = {
    pubsub-backlog-age = {
      display_name = "Ingest backlog: oldest unacked message too old"
      severity     = "CRITICAL"
      filter       = "${local.subscription_filter} AND metric.type = \"pubsub.googleapis.com/subscription/oldest_unacked_message_age\""
      aligner      = "ALIGN_MAX"
      threshold    = var.thresholds.oldest_unacked_age_seconds
      duration     = "300s"
      summary      = "The oldest unacked message on ${var.subscription_name} is older than ${var.thresholds.oldest_unacked_age_seconds}s."
      description  = "Ingest is not keeping up or not running: events reach the API late. Check flightdeck-ingest instances, its logs and the database."
    }
    pubsub-backlog-size = {
      display_name = "Ingest backlog: too many undelivered messages"
      severity     = "WARNING"
      filter       = "${local.subscription_filter} AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      aligner      = "ALIGN_MAX"
      threshold    = var.thresholds.undelivered_messages
      duration     = "600s"
      summary      = "More than ${var.thresholds.undelivered_messages} messages wait on ${var.subscription_name}."
      description  = "Publish rate exceeds ingest throughput. Scale ingest (max instances, INGEST_STREAMS) or look for slow batch writes."
    }
    dead-letters = {
      display_name = "Dead letters: messages moved to the dead-letter topic"
      severity     = "ERROR"
      filter       = "${local.subscription_filter} AND metric.type = \"pubsub.googleapis.com/subscription/dead_letter_message_count\""
      aligner      = "ALIGN_SUM"
      threshold    = var.thresholds.dead_letter_messages
      duration     = "0s"
      summary      = "Pub/Sub dead-lettered messages from ${var.subscription_name} after repeated nacks."
      description  = "Messages failed max_delivery_attempts times. Inspect them on the -inspect subscription of the dead-letter topic, fix the cause, replay."
    }
  }

  # Alerts written in PromQL: the app's metrics scraped by the Managed Prometheus
  # sidecar, and Cloud Run's own request metrics where a ratio is needed.
  promql_alerts = {
    api-5xx-ratio = {
      display_name = "API: 5xx ratio too high"
      severity     = "CRITICAL"
      duration     = "300s"
      query        = <<-EOQ
        sum(rate(run_googleapis_com:request_count{monitored_resource="cloud_run_revision",service_name="${var.api_service_name}",response_code_class="5xx"}[5m]))
          /
        sum(rate(run_googleapis_com:request_count{monitored_resource="cloud_run_revision",service_name="${var.api_service_name}"}[5m]))
          > ${var.thresholds.api_5xx_ratio}
      EOQ
      summary      = "More than ${var.thresholds.api_5xx_ratio * 100}% of API requests fail with 5xx."
      description  = "Measured by Cloud Run at its front end, so it also counts requests the app never saw (no instance, crash, timeout)."
    }
    ingest-stalled = {
      display_name = "Ingest: no commit while messages wait"
      severity     = "CRITICAL"
      duration     = "120s"
      query        = <<-EOQ
        (time() - max(flightdeck_ingest_last_commit_timestamp_seconds{namespace="${var.ingest_service_name}"}) > ${var.thresholds.ingest_stalled_seconds})
          and on()
        (sum(pubsub_googleapis_com:subscription_num_undelivered_messages{monitored_resource="pubsub_subscription",subscription_id="${var.subscription_name}"}) > 0)
      EOQ
      summary      = "flightdeck-ingest committed nothing for ${var.thresholds.ingest_stalled_seconds}s although messages are waiting."
      description  = "The worker is up but stuck (database, pool, Pub/Sub stream). A quiet topic does not fire this alert."
    }
    ingest-lag = {
      display_name = "Ingest: p99 publish-to-commit lag too high"
      severity     = "WARNING"
      duration     = "600s"
      query        = <<-EOQ
        histogram_quantile(0.99, sum by (le) (rate(flightdeck_ingest_lag_seconds_bucket{namespace="${var.ingest_service_name}"}[10m])))
          > ${var.thresholds.ingest_lag_p99_seconds}
      EOQ
      summary      = "99th percentile of publish-to-commit lag is above ${var.thresholds.ingest_lag_p99_seconds}s."
      description  = "Data freshness of the API degrades. Usually backlog after an outage or slow batch writes."
    }
    ingest-write-failures = {
      display_name = "Ingest: batch writes failing"
      severity     = "ERROR"
      duration     = "600s"
      query        = <<-EOQ
        sum(rate(flightdeck_ingest_messages_total{namespace="${var.ingest_service_name}",outcome="failed"}[10m])) > 0
      EOQ
      summary      = "flightdeck-ingest has failed to store messages for 10 minutes."
      description  = "Failed messages are nacked and retried; if this persists they end in the dead-letter topic."
    }
    db-pool-saturation = {
      display_name = "Database pool nearly exhausted"
      severity     = "WARNING"
      duration     = "600s"
      query        = <<-EOQ
        max by (namespace) (
          sum by (namespace) (flightdeck_db_pool_connections{state="in_use"})
            /
          sum by (namespace) (flightdeck_db_pool_max)
        ) > ${var.thresholds.db_pool_saturation}
      EOQ
      summary      = "A service uses more than ${var.thresholds.db_pool_saturation * 100}% of its database pool."
      description  = "Requests or batches queue for a connection. Raise DB_POOL_MAX within max_connections, or find slow queries."
    }
  }

  slo_filters = {
    total   = "metric.type = \"run.googleapis.com/request_count\" AND ${local.run_filter}"
    bad     = "metric.type = \"run.googleapis.com/request_count\" AND ${local.run_filter} AND metric.label.\"response_code_class\" = \"5xx\""
    latency = "metric.type = \"run.googleapis.com/request_latencies\" AND ${local.run_filter}"
  }

  burn_rate_alerts = merge([
    for slo_id, slo in var.slos : {
      for b in slo.burn_rate_alerts : "${slo_id}-${b.name}" => merge(b, { slo_id = slo_id })
    }
  ]...)
}

resource "google_monitoring_notification_channel" "this" {
  for_each     = var.notification_channels
  project      = var.project_id
  type         = each.value.type
  display_name = each.value.display_name
  labels       = each.value.labels
  user_labels  = var.labels
}

# --- Uptime check --------------------------------------------------------------

resource "google_monitoring_uptime_check_config" "api" {
  project      = var.project_id
  display_name = "${var.api_service_name} /healthz (${var.environment})"
  timeout      = "10s"
  period       = var.uptime_check_period
  user_labels  = var.labels

  http_check {
    path           = "/healthz"
    port           = 443
    use_ssl        = true
    validate_ssl   = true
    request_method = "GET"

    # The API is not public: the check presents an OIDC token of the Monitoring
    # service agent, which is granted run.invoker below.
    service_agent_authentication {
      type = "OIDC_TOKEN"
    }

    accepted_response_status_codes {
      status_class = "STATUS_CLASS_2XX"
    }
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = local.api_host
    }
  }
}

resource "google_cloud_run_v2_service_iam_member" "uptime_invoker" {
  project  = var.project_id
  location = var.region
  name     = var.api_service_name
  role     = "roles/run.invoker"
  member   = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"
}

resource "google_monitoring_alert_policy" "uptime" {
  project               = var.project_id
  display_name          = "[${var.environment}] API uptime check failing"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = local.channels
  user_labels           = var.labels

  conditions {
    display_name = "uptime check failed from 2+ regions"
    condition_threshold {
      filter          = "metric.type = \"monitoring.googleapis.com/uptime_check/check_passed\" AND resource.type = \"uptime_url\" AND metric.label.\"check_id\" = \"${google_monitoring_uptime_check_config.api.uptime_check_id}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 1
      duration        = "120s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_NEXT_OLDER"
        cross_series_reducer = "REDUCE_COUNT_FALSE"
        group_by_fields      = ["resource.label.*"]
      }
    }
  }

  documentation {
    subject   = "[${var.environment}] ${var.api_service_name} /healthz fails"
    mime_type = "text/markdown"
    content   = "**Summary:** the API does not answer /healthz from several checker regions.\n\n**Description:** every client is likely affected. Check the service's revisions, instance logs and recent deploys."
    links {
      display_name = "Runbook"
      url          = "${var.runbook_base_url}#api-uptime"
    }
  }
}

# --- Threshold alerts on Google Cloud metrics ----------------------------------

resource "google_monitoring_alert_policy" "threshold" {
  for_each              = local.threshold_alerts
  project               = var.project_id
  display_name          = "[${var.environment}] ${each.value.display_name}"
  combiner              = "OR"
  severity              = each.value.severity
  notification_channels = local.channels
  user_labels           = var.labels

  conditions {
    display_name = each.value.display_name
    condition_threshold {
      filter          = each.value.filter
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = each.value.duration
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = each.value.aligner
      }
    }
  }

  documentation {
    subject   = "[${var.environment}] ${each.value.display_name}"
    mime_type = "text/markdown"
    content   = "**Summary:** ${each.value.summary}\n\n**Description:** ${each.value.description}"
    links {
      display_name = "Runbook"
      url          = "${var.runbook_base_url}#${each.key}"
    }
  }
}

# --- PromQL alerts ---------------------------------------------------------------

resource "google_monitoring_alert_policy" "promql" {
  for_each              = local.promql_alerts
  project               = var.project_id
  display_name          = "[${var.environment}] ${each.value.display_name}"
  combiner              = "OR"
  severity              = each.value.severity
  notification_channels = local.channels
  user_labels           = var.labels

  conditions {
    display_name = each.value.display_name
    condition_prometheus_query_language {
      query               = each.value.query
      duration            = each.value.duration
      evaluation_interval = "60s"
    }
  }

  documentation {
    subject   = "[${var.environment}] ${each.value.display_name}"
    mime_type = "text/markdown"
    content   = "**Summary:** ${each.value.summary}\n\n**Description:** ${each.value.description}"
    links {
      display_name = "Runbook"
      url          = "${var.runbook_base_url}#${each.key}"
    }
  }
}

# --- SLOs --------------------------------------------------------------------------

resource "google_monitoring_custom_service" "api" {
  project      = var.project_id
  service_id   = "${var.api_service_name}-${var.environment}"
  display_name = "flightdeck API (${var.environment})"
}

resource "google_monitoring_slo" "api" {
  for_each            = var.slos
  project             = var.project_id
  service             = google_monitoring_custom_service.api.service_id
  slo_id              = each.key
  display_name        = each.value.display_name
  goal                = each.value.goal
  rolling_period_days = each.value.rolling_period_days

  request_based_sli {
    dynamic "good_total_ratio" {
      for_each = each.value.kind == "availability" ? [1] : []
      content {
        total_service_filter = local.slo_filters.total
        bad_service_filter   = local.slo_filters.bad
      }
    }

    dynamic "distribution_cut" {
      for_each = each.value.kind == "latency" ? [1] : []
      content {
        # request_latencies is in milliseconds.
        distribution_filter = local.slo_filters.latency
        range {
          max = each.value.latency_threshold_seconds * 1000
        }
      }
    }
  }
}

# Multi-window burn-rate alerts: page when both a long and a short window burn the
# error budget faster than the threshold (14.4x over 1h spends 2% of a 30-day
# budget; the short window makes the alert stop soon after the burn stops).
resource "google_monitoring_alert_policy" "burn_rate" {
  for_each              = local.burn_rate_alerts
  project               = var.project_id
  display_name          = "[${var.environment}] SLO burn rate ${each.key}"
  combiner              = "AND"
  severity              = each.value.threshold >= 6 ? "CRITICAL" : "WARNING"
  notification_channels = local.channels
  user_labels           = var.labels

  conditions {
    display_name = "burn rate over ${each.value.long_window} > ${each.value.threshold}"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.api[each.value.slo_id].name}\", \"${each.value.long_window}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "0s"
    }
  }

  conditions {
    display_name = "burn rate over ${each.value.short_window} > ${each.value.threshold}"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.api[each.value.slo_id].name}\", \"${each.value.short_window}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "0s"
    }
  }

  documentation {
    subject   = "[${var.environment}] ${var.slos[each.value.slo_id].display_name}: error budget burning ${each.value.threshold}x"
    mime_type = "text/markdown"
    content   = "**Summary:** the ${each.value.slo_id} SLO burns its error budget more than ${each.value.threshold} times faster than sustainable.\n\n**Description:** both the ${each.value.long_window} and the ${each.value.short_window} windows exceed the threshold, so the burn is real and still going on."
    links {
      display_name = "Runbook"
      url          = "${var.runbook_base_url}#slo-burn-rate"
    }
  }
}
