output "notification_channel_ids" {
  description = "Ids of the notification channels, keyed like var.notification_channels."
  value       = { for k, c in google_monitoring_notification_channel.this : k => c.id }
}

output "uptime_check_id" {
  description = "Id of the API uptime check."
  value       = google_monitoring_uptime_check_config.api.uptime_check_id
}

output "slo_names" {
  description = "Full resource names of the SLOs, keyed by slo id."
  value       = { for k, s in google_monitoring_slo.this : k => s.name }
}

output "alert_policy_names" {
  description = "Display names of every alert policy of the environment."
  value = concat(
    [google_monitoring_alert_policy.uptime.display_name],
    [for p in google_monitoring_alert_policy.threshold : p.display_name],
    [for p in google_monitoring_alert_policy.promql : p.display_name],
    [for p in google_monitoring_alert_policy.prometheus : p.display_name],
    [for p in google_monitoring_alert_policy.burn_rate : p.display_name],
  )
}
