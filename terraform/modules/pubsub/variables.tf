variable "project_id" {
  type        = string
  description = "Google Cloud project that owns the topics and subscriptions."
}

variable "region" {
  type        = string
  description = "Region that message storage is pinned to (message_storage_policy) and where the optional BigQuery archive lives."
}

variable "topic_name" {
  type        = string
  description = "Topic the flight events are published to (app default PUBSUB_TOPIC)."
  default     = "flight-events"
}

variable "subscription_name" {
  type        = string
  description = "Pull subscription `flightdeck ingest` consumes (app default PUBSUB_SUBSCRIPTION)."
  default     = "flight-events-ingest"
}

variable "dlq_topic_name" {
  type        = string
  description = "Dead-letter topic (app default PUBSUB_DLQ_TOPIC). Receives invalid messages from the worker and messages nacked max_delivery_attempts times."
  default     = "flight-events-dlq"
}

variable "message_retention_duration" {
  type        = string
  description = "How long topics and subscriptions keep messages, as seconds with an 's' suffix. 7 days lets a subscription be replayed after a week-long outage."
  default     = "604800s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.message_retention_duration))
    error_message = "message_retention_duration must be a number of seconds ending in 's', e.g. 604800s."
  }
}

variable "ack_deadline_seconds" {
  type        = number
  description = "Ack deadline of the ingest subscription. Must exceed INGEST_BATCH_WAIT_MS plus the worst batch write time; the client library extends it while a message is in flight."
  default     = 60

  validation {
    condition     = var.ack_deadline_seconds >= 10 && var.ack_deadline_seconds <= 600
    error_message = "ack_deadline_seconds must be between 10 and 600."
  }
}

variable "retry_minimum_backoff" {
  type        = string
  description = "Minimum delay before a nacked message is redelivered (exponential backoff start)."
  default     = "10s"
}

variable "retry_maximum_backoff" {
  type        = string
  description = "Maximum delay between redeliveries of a nacked message (exponential backoff cap, at most 600s)."
  default     = "600s"
}

variable "max_delivery_attempts" {
  type        = number
  description = "Deliveries after which Pub/Sub moves a message to the dead-letter topic (5 to 100)."
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100 (Pub/Sub limits)."
  }
}

variable "subscriber_members" {
  type        = map(string)
  description = "IAM members (e.g. serviceAccount:ingest@...) granted roles/pubsub.subscriber on the ingest subscription only, keyed by a stable name."
  default     = {}
}

variable "dlq_publisher_members" {
  type        = map(string)
  description = "IAM members granted roles/pubsub.publisher on the dead-letter topic only (the ingest worker publishes invalid messages there), keyed by a stable name."
  default     = {}
}

variable "publisher_members" {
  type        = map(string)
  description = "IAM members allowed to publish flight events on the main topic (upstream producers), keyed by a stable name."
  default     = {}
}

variable "probe_publisher_members" {
  type        = map(string)
  description = "IAM members allowed to publish synthetic probe events on the events topic only (the CD deployer's post-deploy check, flightdeck-probe), keyed by a stable name; the events carry synthetic=true and a PROBE- flight id."
  default     = {}
}

variable "prober_member" {
  type        = string
  description = "The continuous prober's identity (flightdeck-probe, serviceAccount:...), granted roles/pubsub.publisher on the events topic only, like probe_publisher_members; null grants nothing."
  default     = null
}

variable "dlq_subscriber_members" {
  type        = map(string)
  description = "IAM members (operators, a replay job) granted roles/pubsub.subscriber on the dead-letter inspection subscription, keyed by a stable name."
  default     = {}
}

variable "bigquery_archive" {
  type = object({
    enabled               = bool
    dataset_id            = optional(string, "flightdeck_raw")
    table_id              = optional(string, "flight_events")
    partition_expiry_days = optional(number, 400)
  })
  description = "Optional BigQuery subscription that archives every raw event (the native, code-free ingestion path) for heavy analytics next to the Postgres store."
  default     = { enabled = false }
}

variable "labels" {
  type        = map(string)
  description = "Labels applied to every resource of the module."
  default     = {}
}
