# Optional raw-event archive: a BigQuery subscription writes every message straight
# into a partitioned table with no code in between. It runs beside the ingest worker
# (not instead of it): Postgres serves the API, BigQuery serves heavy analytics.

locals {
  archive_enabled = var.bigquery_archive.enabled
}

resource "google_bigquery_dataset" "archive" {
  # checkov:skip=CKV_GCP_81: Google-managed encryption at rest; the raw flight events carry no regulated data. Switch to CMEK with default_encryption_configuration if that changes.
  count                      = local.archive_enabled ? 1 : 0
  project                    = var.project_id
  dataset_id                 = var.bigquery_archive.dataset_id
  location                   = var.region
  description                = "Raw flight events archived by the Pub/Sub BigQuery subscription."
  delete_contents_on_destroy = false
  labels                     = var.labels
}

resource "google_bigquery_table" "archive" {
  # checkov:skip=CKV_GCP_80: Google-managed encryption at rest, same reason as the dataset.
  count               = local.archive_enabled ? 1 : 0
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.archive[0].dataset_id
  table_id            = var.bigquery_archive.table_id
  deletion_protection = true
  labels              = var.labels

  time_partitioning {
    type          = "DAY"
    field         = "publish_time"
    expiration_ms = var.bigquery_archive.partition_expiry_days * 86400000
  }

  # The layout Pub/Sub writes when write_metadata is on and no topic schema is used.
  schema = jsonencode([
    { name = "subscription_name", type = "STRING", mode = "NULLABLE" },
    { name = "message_id", type = "STRING", mode = "NULLABLE" },
    { name = "publish_time", type = "TIMESTAMP", mode = "NULLABLE" },
    { name = "data", type = "JSON", mode = "NULLABLE" },
    { name = "attributes", type = "JSON", mode = "NULLABLE" },
  ])
}

resource "google_bigquery_dataset_iam_member" "archive_service_agent_editor" {
  count      = local.archive_enabled ? 1 : 0
  project    = var.project_id
  dataset_id = google_bigquery_dataset.archive[0].dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = local.pubsub_service_agent
}

resource "google_pubsub_subscription" "archive" {
  count                = local.archive_enabled ? 1 : 0
  project              = var.project_id
  name                 = "${var.topic_name}-bigquery"
  topic                = google_pubsub_topic.events.id
  ack_deadline_seconds = 60
  labels               = var.labels

  bigquery_config {
    table          = "${var.project_id}.${google_bigquery_table.archive[0].dataset_id}.${google_bigquery_table.archive[0].table_id}"
    write_metadata = true
  }

  retry_policy {
    minimum_backoff = var.retry_minimum_backoff
    maximum_backoff = var.retry_maximum_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dlq.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [google_bigquery_dataset_iam_member.archive_service_agent_editor]
}

# Pub/Sub needs subscriber on every subscription it dead-letters from.
resource "google_pubsub_subscription_iam_member" "archive_service_agent_subscriber" {
  count        = local.archive_enabled ? 1 : 0
  project      = var.project_id
  subscription = google_pubsub_subscription.archive[0].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
