//! Per-test topic, subscription and dead-letter topic on the emulator, and publishing helpers.

use flightdeck::config::PubSubSettings;
use flightdeck::domain::FlightEvent;
use flightdeck::pubsub::{client, message, setup};
use google_cloud_pubsub::client::Publisher;
use google_cloud_pubsub::model::Message;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub struct TestPubSub {
    pub settings: PubSubSettings,
    publisher: Publisher,
}

impl TestPubSub {
    pub async fn create(emulator_host: &str) -> Self {
        let id = Uuid::new_v4().simple().to_string();
        let settings = PubSubSettings {
            project: "flightdeck-test".into(),
            emulator_host: Some(emulator_host.to_string()),
            topic: format!("events-{id}"),
            subscription: format!("ingest-{id}"),
            dlq_topic: format!("dlq-{id}"),
        };
        setup::ensure_resources(&settings, super::ACK_DEADLINE)
            .await
            .expect("create topic, subscription and dead-letter topic on the emulator");
        let publisher =
            client::publisher(&settings, settings.topic_path(), Duration::from_millis(5))
                .await
                .expect("publisher");
        Self {
            settings,
            publisher,
        }
    }

    pub fn env(&self) -> Vec<(String, String)> {
        let s = &self.settings;
        vec![
            (
                "PUBSUB_EMULATOR_HOST".into(),
                s.emulator_host.clone().expect("emulator"),
            ),
            ("GOOGLE_CLOUD_PROJECT".into(), s.project.clone()),
            ("PUBSUB_TOPIC".into(), s.topic.clone()),
            ("PUBSUB_SUBSCRIPTION".into(), s.subscription.clone()),
            ("PUBSUB_DLQ_TOPIC".into(), s.dlq_topic.clone()),
        ]
    }

    /// Publishes every event (schema v1) and returns the server-assigned message ids.
    pub async fn publish_events(&self, events: &[FlightEvent]) -> Vec<String> {
        let pending: Vec<_> = events
            .iter()
            .map(|e| self.publisher.publish(message::event_message(e)))
            .collect();
        futures::future::join_all(pending)
            .await
            .into_iter()
            .map(|r| r.expect("publish"))
            .collect()
    }

    pub async fn publish_raw(&self, data: Vec<u8>, attributes: HashMap<String, String>) -> String {
        self.publisher
            .publish(message::raw_message(data, attributes))
            .await
            .expect("publish raw message")
    }

    /// Deletes the dead-letter topic (the fault "DLQ missing").
    pub async fn delete_dead_letter_topic(&self) {
        client::topic_admin(&self.settings)
            .await
            .expect("topic admin")
            .delete_topic()
            .set_topic(self.settings.dlq_topic_path())
            .send()
            .await
            .expect("delete the dead-letter topic");
    }

    /// Creates the dead-letter topic again after `delete_dead_letter_topic`.
    pub async fn recreate_dead_letter_topic(&self) {
        client::topic_admin(&self.settings)
            .await
            .expect("topic admin")
            .create_topic()
            .set_name(self.settings.dlq_topic_path())
            .send()
            .await
            .expect("create the dead-letter topic");
    }

    /// A subscription on the dead-letter topic, created before anything is dead-lettered.
    pub async fn dead_letter_inspector(&self) -> Inspector {
        let path = format!(
            "projects/{}/subscriptions/inspect-{}",
            self.settings.project, self.settings.dlq_topic
        );
        setup::ensure_plain_subscription(&self.settings, &self.settings.dlq_topic_path(), &path)
            .await
            .expect("create the inspection subscription");
        let subscriber = client::subscriber(&self.settings, 1)
            .await
            .expect("subscriber");
        Inspector {
            stream: subscriber.subscribe(path).build(),
        }
    }
}

/// Reads what landed on the dead-letter topic.
pub struct Inspector {
    stream: google_cloud_pubsub::subscriber::MessageStream,
}

impl Inspector {
    /// Receives exactly `n` messages (acking them) or panics after `timeout`; then checks that
    /// no further message arrives for a short while.
    pub async fn receive(&mut self, n: usize, timeout: Duration) -> Vec<Message> {
        let deadline = Instant::now() + timeout;
        let mut received = Vec::new();
        while received.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.stream.next()).await {
                Ok(Some(Ok((message, handler)))) => {
                    handler.ack();
                    received.push(message);
                }
                Ok(other) => panic!("dead-letter stream ended: {:?}", other.map(|r| r.err())),
                Err(_) => panic!("received {} of {n} dead-lettered messages", received.len()),
            }
        }
        if let Ok(Some(Ok((extra, _)))) =
            tokio::time::timeout(Duration::from_secs(2), self.stream.next()).await
        {
            panic!(
                "unexpected extra dead-lettered message: {:?}",
                extra.attributes
            );
        }
        received
    }

    /// Acks and returns whatever arrives until nothing has for `quiet`.
    pub async fn drain(&mut self, quiet: Duration) -> Vec<Message> {
        let mut received = Vec::new();
        while let Ok(Some(Ok((message, handler)))) =
            tokio::time::timeout(quiet, self.stream.next()).await
        {
            handler.ack();
            received.push(message);
        }
        received
    }

    /// Panics if any message arrives within `window`.
    pub async fn expect_none(&mut self, window: Duration) {
        if let Ok(Some(Ok((message, _)))) = tokio::time::timeout(window, self.stream.next()).await {
            panic!("unexpected dead-lettered message: {:?}", message.attributes);
        }
    }
}
