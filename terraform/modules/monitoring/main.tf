# Monitoring for one flightdeck environment:
#   - every alerting rule that runs locally (alerts/rules/*.yml and the generated
#     slo/_gen/rules.yml) as a Cloud Monitoring PromQL alert policy over Managed
#     Service for Prometheus, read from prometheus_alerts.json (written by
#     `make slo-gen`, recording rules inlined): same expression, `for:`, labels and
#     runbook; alerts/tests/test_cloud_parity.py proves it;
#   - every SLO of slo/specs as a Cloud Monitoring SLO (API from Cloud Run's request
#     metrics, ingest and probe from the app's Prometheus metrics) with burn-rate policies;
#   - cloud-only alerts: an uptime check on the API, the API's 5xx ratio at Cloud
#     Run's front end, Pub/Sub backlog size, Cloud SQL CPU, connections and disk.
# Pages, tickets and the watchdog go to different notification channels.

locals {
  # Channel ids per kind of notification; a page never reaches a ticket channel.
  channels = { for kind in ["page", "ticket", "watchdog"] : kind => [
    for k, c in google_monitoring_notification_channel.this : c.id if var.notification_channels[k].receives == kind
  ] }
  api_host = trimsuffix(trimprefix(var.api_url, "https://"), "/")
  # This module's RUNBOOK.md under the one base of alerts/runbooks.yml; each cloud-only alert links
  # a section of it (the generated ones carry their runbook_url, which starts with the same base).
  runbook = "${var.runbook_url_base}terraform/modules/monitoring/RUNBOOK.md"

  run_filter = join(" AND ", [
    "resource.type = \"cloud_run_revision\"",
    "resource.label.\"service_name\" = \"${var.api_service_name}\"",
  ])

  subscription_filter = join(" AND ", [
    "resource.type = \"pubsub_subscription\"",
    "resource.label.\"subscription_id\" = \"${var.subscription_name}\"",
  ])

  cloudsql_filter = join(" AND ", [
    "resource.type = \"cloudsql_database\"",
    "resource.label.\"database_id\" = \"${var.project_id}:${var.database_instance_name}\"",
  ])

  # Alerts on Google Cloud metrics that have no local counterpart, as plain
  # threshold conditions. The oldest unacked message and Pub/Sub's dead letters
  # are alerting rules (alerts/rules/ingest.yml), in the PromQL policies below.
  threshold_alerts = {
    pubsub-backlog-size = {
      display_name = "Ingest backlog: too many undelivered messages"
      severity     = "ticket"
      filter       = "${local.subscription_filter} AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      aligner      = "ALIGN_MAX"
      threshold    = var.thresholds.undelivered_messages
      duration     = "600s"
      summary      = "More than ${var.thresholds.undelivered_messages} messages wait on ${var.subscription_name}."
      description  = "Publish rate exceeds ingest throughput. Scale ingest (max instances, INGEST_STREAMS) or look for slow batch writes."
    }
    cloudsql-cpu = {
      display_name = "Cloud SQL: CPU utilisation high"
      severity     = "ticket"
      filter       = "${local.cloudsql_filter} AND metric.type = \"cloudsql.googleapis.com/database/cpu/utilization\""
      aligner      = "ALIGN_MEAN"
      threshold    = var.thresholds.cloudsql_cpu_utilization
      duration     = "900s"
      summary      = "Cloud SQL ${var.database_instance_name} has used more than ${var.thresholds.cloudsql_cpu_utilization * 100}% CPU for 15 minutes."
      description  = "Queries queue for CPU: API latency and ingest write time rise next. Find the expensive queries (Query Insights) or move to a bigger tier."
    }
    cloudsql-connections = {
      display_name = "Cloud SQL: connections near max_connections"
      severity     = "ticket"
      filter       = "${local.cloudsql_filter} AND metric.type = \"cloudsql.googleapis.com/database/postgresql/num_backends\""
      aligner      = "ALIGN_MAX"
      threshold    = var.thresholds.cloudsql_connections
      duration     = "600s"
      summary      = "Cloud SQL ${var.database_instance_name} holds more than ${var.thresholds.cloudsql_connections} connections."
      description  = "Every new instance of flightdeck-api or flightdeck-ingest opens up to DB_POOL_MAX connections; past max_connections new pools fail. Lower max instances or DB_POOL_MAX, or raise max_connections with the tier."
    }
    cloudsql-disk = {
      display_name = "Cloud SQL: disk nearly full"
      severity     = "page"
      filter       = "${local.cloudsql_filter} AND metric.type = \"cloudsql.googleapis.com/database/disk/utilization\""
      aligner      = "ALIGN_MAX"
      threshold    = var.thresholds.cloudsql_disk_utilization
      duration     = "300s"
      summary      = "Cloud SQL ${var.database_instance_name} disk is more than ${var.thresholds.cloudsql_disk_utilization * 100}% full."
      description  = "A full disk stops every write: ingest fails, then stalls. Enable or check storage auto-increase, drop old partitions, or grow the disk now."
    }
  }

  # The API's 5xx ratio as Cloud Run counts it at its front end: it also sees
  # requests the app never saw (no instance, crash, timeout), which the app's
  # histogram cannot.
  promql_alerts = {
    api-5xx-ratio = {
      display_name = "API: 5xx ratio too high (Cloud Run front end)"
      severity     = "page"
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
  }

  # Every local alerting rule, generated by `make slo-gen`.
  prometheus_alerts = jsondecode(file("${path.module}/prometheus_alerts.json")).alerts

  # Cloud Run service behind each SLO's `service`.
  slo_services = {
    flightdeck-api    = var.api_service_name
    flightdeck-ingest = var.ingest_service_name
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

    # Through the edge load balancer, like a third party without a key: /healthz needs none,
    # and Cloud Armor's per-IP limit for keyless requests is far above one check a minute per
    # checker region.
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

resource "google_monitoring_alert_policy" "uptime" {
  project               = var.project_id
  display_name          = "[${var.environment}] API uptime check failing"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = local.channels.page
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
      url          = "${local.runbook}#api-uptime"
    }
  }
}

# --- Threshold alerts on Google Cloud metrics ----------------------------------

resource "google_monitoring_alert_policy" "threshold" {
  for_each              = local.threshold_alerts
  project               = var.project_id
  display_name          = "[${var.environment}] ${each.value.display_name}"
  combiner              = "OR"
  severity              = each.value.severity == "page" ? "CRITICAL" : "WARNING"
  notification_channels = local.channels[each.value.severity]
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
      url          = "${local.runbook}#${each.key}"
    }
  }
}

# --- PromQL alerts ---------------------------------------------------------------

resource "google_monitoring_alert_policy" "promql" {
  for_each              = local.promql_alerts
  project               = var.project_id
  display_name          = "[${var.environment}] ${each.value.display_name}"
  combiner              = "OR"
  severity              = each.value.severity == "page" ? "CRITICAL" : "WARNING"
  notification_channels = local.channels[each.value.severity]
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
      url          = "${local.runbook}#${each.key}"
    }
  }
}

# --- The local alerting rules -----------------------------------------------------

# One policy per alerting rule of alerts/rules and slo/_gen: the query is the
# rule's expression with its recording rules inlined (Cloud Monitoring evaluates
# no recording rules), `duration` is its `for:`, the labels are its labels. The
# watchdog goes to the dead man's switch channels, pages and tickets to theirs.
resource "google_monitoring_alert_policy" "prometheus" {
  for_each              = local.prometheus_alerts
  project               = var.project_id
  display_name          = "[${var.environment}] ${each.key}"
  combiner              = "OR"
  severity              = each.value.severity == "page" ? "CRITICAL" : "WARNING"
  notification_channels = each.value.alert == "Watchdog" ? local.channels.watchdog : local.channels[each.value.severity]
  user_labels           = var.labels

  # The watchdog fires forever: re-notify so the dead man's switch keeps hearing it.
  dynamic "alert_strategy" {
    for_each = each.value.alert == "Watchdog" ? [1] : []
    content {
      notification_channel_strategy {
        notification_channel_names = local.channels.watchdog
        renotify_interval          = "1800s"
      }
    }
  }

  conditions {
    display_name = each.key
    condition_prometheus_query_language {
      query               = each.value.query
      duration            = each.value.duration
      evaluation_interval = "60s"
      labels              = each.value.labels
      rule_group          = each.value.group
      alert_rule          = each.value.alert
    }
  }

  documentation {
    subject   = "[${var.environment}] ${each.value.cloud_summary}"
    mime_type = "text/markdown"
    content   = "**Summary:** ${each.value.cloud_summary}\n\n**Description:** ${each.value.cloud_description}"
    links {
      display_name = "Runbook"
      url          = each.value.runbook_url
    }
  }
}

# --- SLOs --------------------------------------------------------------------------

moved {
  from = google_monitoring_custom_service.api
  to   = google_monitoring_custom_service.this["flightdeck-api"]
}

moved {
  from = google_monitoring_slo.api
  to   = google_monitoring_slo.this
}

resource "google_monitoring_custom_service" "this" {
  for_each     = toset([for s in values(var.slos) : s.service])
  project      = var.project_id
  service_id   = "${local.slo_services[each.key]}-${var.environment}"
  display_name = "${each.key} (${var.environment})"
}

resource "google_monitoring_slo" "this" {
  for_each            = var.slos
  project             = var.project_id
  service             = google_monitoring_custom_service.this[each.value.service].service_id
  slo_id              = each.key
  display_name        = each.value.display_name
  goal                = each.value.goal
  rolling_period_days = each.value.rolling_period_days

  request_based_sli {
    # API availability from Cloud Run's request count; ingest success from the
    # app's outcome counter (Managed Prometheus).
    dynamic "good_total_ratio" {
      for_each = contains(["availability", "good_total"], each.value.kind) ? [1] : []
      content {
        total_service_filter = each.value.kind == "availability" ? local.slo_filters.total : each.value.total_filter
        bad_service_filter   = each.value.kind == "availability" ? local.slo_filters.bad : each.value.bad_filter
      }
    }

    # API latency from Cloud Run's request latencies (milliseconds); ingest
    # freshness from the app's lag histogram (seconds).
    dynamic "distribution_cut" {
      for_each = contains(["latency", "distribution_cut"], each.value.kind) ? [1] : []
      content {
        distribution_filter = each.value.kind == "latency" ? local.slo_filters.latency : each.value.distribution_filter
        range {
          max = each.value.kind == "latency" ? each.value.latency_threshold_seconds * 1000 : each.value.range_max
        }
      }
    }
  }
}

# Multi-window burn-rate alerts on the Cloud Monitoring SLOs, with the factors the
# generator derives from each SLO's period (13.44x over 1h for 28 days). They run
# beside the PromQL policies so paging does not depend on one evaluation path.
resource "google_monitoring_alert_policy" "burn_rate" {
  for_each              = local.burn_rate_alerts
  project               = var.project_id
  display_name          = "[${var.environment}] SLO burn rate ${each.key}"
  combiner              = "AND"
  severity              = each.value.severity == "page" ? "CRITICAL" : "WARNING"
  notification_channels = local.channels[each.value.severity]
  user_labels           = var.labels

  conditions {
    display_name = "burn rate over ${each.value.long_window} > ${each.value.threshold}"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.this[each.value.slo_id].name}\", \"${each.value.long_window}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "0s"
    }
  }

  conditions {
    display_name = "burn rate over ${each.value.short_window} > ${each.value.threshold}"
    condition_threshold {
      filter          = "select_slo_burn_rate(\"${google_monitoring_slo.this[each.value.slo_id].name}\", \"${each.value.short_window}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = "0s"
    }
  }

  documentation {
    subject   = "[${var.environment}] ${var.slos[each.value.slo_id].display_name}: error budget burning ${each.value.threshold}x"
    mime_type = "text/markdown"
    content   = "**Summary:** the ${each.value.slo_id} SLO burns its error budget more than ${each.value.threshold} times faster than sustainable.\n\n**Description:** both the ${each.value.long_window} and the ${each.value.short_window} windows exceed the threshold, so the burn is real and still going on. Error-budget policy: docs/slo-policy.md."
    links {
      display_name = "Runbook"
      url          = "${local.runbook}#slo-burn-rate"
    }
  }
}
