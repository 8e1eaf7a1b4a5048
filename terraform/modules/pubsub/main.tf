# Messaging for flightdeck: the event topic, the pull subscription `flightdeck ingest`
# reads, a dead-letter topic with an inspection subscription for replay, the IAM the
# Pub/Sub service agent needs to dead-letter, and an optional BigQuery archive.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  # The Pub/Sub service agent moves messages to the dead-letter topic and writes the
  # BigQuery subscription; it needs explicit grants on exactly those resources.
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic" "events" {
  # checkov:skip=CKV_GCP_83: Google-managed encryption at rest; flight events carry no regulated data. Set kms_key_name (and grant the Pub/Sub service agent on the key) if that changes.
  project                    = var.project_id
  name                       = var.topic_name
  message_retention_duration = var.message_retention_duration
  labels                     = var.labels

  message_storage_policy {
    allowed_persistence_regions = [var.region]
  }
}

resource "google_pubsub_topic" "dlq" {
  # checkov:skip=CKV_GCP_83: Google-managed encryption at rest; flight events carry no regulated data. Set kms_key_name (and grant the Pub/Sub service agent on the key) if that changes.
  project                    = var.project_id
  name                       = var.dlq_topic_name
  message_retention_duration = var.message_retention_duration
  labels                     = var.labels

  message_storage_policy {
    allowed_persistence_regions = [var.region]
  }
}

resource "google_pubsub_subscription" "ingest" {
  project                    = var.project_id
  name                       = var.subscription_name
  topic                      = google_pubsub_topic.events.id
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = var.message_retention_duration
  labels                     = var.labels

  retry_policy {
    minimum_backoff = var.retry_minimum_backoff
    maximum_backoff = var.retry_maximum_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dlq.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  # An empty ttl means the subscription never expires, even if ingest is down for
  # longer than the default 31 days of inactivity.
  expiration_policy {
    ttl = ""
  }
}

# Where operators look at dead letters and from where they replay them. It keeps
# acked messages so a seek can bring back what was already inspected.
resource "google_pubsub_subscription" "dlq_inspect" {
  # checkov:skip=CKV_FD_1: this subscription is the end of the dead-letter path; a dead-letter policy here would loop dead letters into themselves
  project                    = var.project_id
  name                       = "${var.dlq_topic_name}-inspect"
  topic                      = google_pubsub_topic.dlq.id
  ack_deadline_seconds       = 600
  message_retention_duration = var.message_retention_duration
  retain_acked_messages      = true
  labels                     = var.labels

  expiration_policy {
    ttl = ""
  }
}

# --- IAM, each grant on one resource -----------------------------------------

resource "google_pubsub_topic_iam_member" "dlq_service_agent_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.dlq.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "ingest_service_agent_subscriber" {
  project      = var.project_id
  subscription = google_pubsub_subscription.ingest.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "ingest_subscribers" {
  for_each     = var.subscriber_members
  project      = var.project_id
  subscription = google_pubsub_subscription.ingest.name
  role         = "roles/pubsub.subscriber"
  member       = each.value
}

resource "google_pubsub_topic_iam_member" "dlq_publishers" {
  for_each = var.dlq_publisher_members
  project  = var.project_id
  topic    = google_pubsub_topic.dlq.name
  role     = "roles/pubsub.publisher"
  member   = each.value
}

resource "google_pubsub_topic_iam_member" "event_publishers" {
  for_each = var.publisher_members
  project  = var.project_id
  topic    = google_pubsub_topic.events.name
  role     = "roles/pubsub.publisher"
  member   = each.value
}

# Synthetic probe events (attribute synthetic=true, flight PROBE-...): one per deployment from the
# CD check, proving publish -> ingest -> API on the new revision, and one per interval from
# flightdeck-probe. Publisher on this topic is all either gets from Pub/Sub.
resource "google_pubsub_topic_iam_member" "probe_publishers" {
  for_each = merge(var.probe_publisher_members, var.prober_member == null ? {} : { prober = var.prober_member })
  project  = var.project_id
  topic    = google_pubsub_topic.events.name
  role     = "roles/pubsub.publisher"
  member   = each.value
}

resource "google_pubsub_subscription_iam_member" "dlq_inspect_subscribers" {
  for_each     = var.dlq_subscriber_members
  project      = var.project_id
  subscription = google_pubsub_subscription.dlq_inspect.name
  role         = "roles/pubsub.subscriber"
  member       = each.value
}
