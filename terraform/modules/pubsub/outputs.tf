output "topic_name" {
  description = "Name of the flight events topic (set as PUBSUB_TOPIC)."
  value       = google_pubsub_topic.events.name
}

output "topic_id" {
  description = "Full id of the flight events topic (projects/P/topics/T)."
  value       = google_pubsub_topic.events.id
}

output "subscription_name" {
  description = "Name of the ingest pull subscription (set as PUBSUB_SUBSCRIPTION)."
  value       = google_pubsub_subscription.ingest.name
}

output "subscription_id" {
  description = "Full id of the ingest pull subscription."
  value       = google_pubsub_subscription.ingest.id
}

output "dlq_topic_name" {
  description = "Name of the dead-letter topic (set as PUBSUB_DLQ_TOPIC)."
  value       = google_pubsub_topic.dlq.name
}

output "dlq_subscription_name" {
  description = "Name of the subscription used to inspect and replay dead letters."
  value       = google_pubsub_subscription.dlq_inspect.name
}

output "bigquery_archive_table" {
  description = "project.dataset.table of the raw-event archive, or null when the archive is off."
  value       = local.archive_enabled ? "${var.project_id}.${google_bigquery_table.archive[0].dataset_id}.${google_bigquery_table.archive[0].table_id}" : null
}
