//! Poison messages of every kind go to the dead-letter topic with their reason; valid
//! messages of the same batch are stored.

use crate::support::{Harness, eventually, generated_events, metrics};
use flightdeck::publish::synthetic::PoisonKind;
use std::collections::HashMap;
use std::time::Duration;

#[tokio::test]
async fn poison_messages_are_dead_lettered_with_their_reason_and_valid_ones_stored() {
    let h = Harness::new().await;
    h.migrate().await;
    let mut inspector = h.pubsub.dead_letter_inspector().await;
    let valid = generated_events(40, 11);
    let mut expected: HashMap<String, (PoisonKind, Vec<u8>)> = HashMap::new();
    // Publish poison and valid messages together so they share batches.
    let template = &valid[0];
    for kind in PoisonKind::ALL {
        let (data, attributes) = kind.message(template);
        let id = h.pubsub.publish_raw(data.clone(), attributes).await;
        expected.insert(id, (kind, data));
    }
    h.pubsub.publish_events(&valid).await;
    let ingest = h.ingest(&[("INGEST_BATCH_WAIT_MS", "1000")]).await;

    let dead = inspector
        .receive(PoisonKind::ALL.len(), Duration::from_secs(30))
        .await;
    for message in &dead {
        let original_id = &message.attributes["original_message_id"];
        let (kind, data) = expected
            .get(original_id)
            .unwrap_or_else(|| panic!("unexpected dead letter {:?}", message.attributes));
        let error = &message.attributes["error"];
        assert!(
            error.starts_with(kind.expected_reason().as_str()),
            "{kind:?}: error attribute {error:?}"
        );
        assert_eq!(
            &message.data[..],
            &data[..],
            "{kind:?}: data is the original"
        );
        let publish_time = &message.attributes["original_publish_time"];
        assert!(
            chrono::DateTime::parse_from_rfc3339(publish_time).is_ok(),
            "{publish_time:?}"
        );
    }
    let stored = eventually("valid events stored", Duration::from_secs(30), || async {
        let n = h.db.count_events().await;
        (n >= valid.len() as i64).then_some(n)
    })
    .await;
    assert_eq!(stored, valid.len() as i64, "no poison message was stored");
    let ids: Vec<_> = valid.iter().map(|e| e.event_id).collect();
    assert_eq!(h.db.count_of(&ids).await, valid.len() as i64);

    let m = metrics::scrape(&ingest.metrics).await;
    assert_eq!(
        metrics::value(&m, r#"flightdeck_ingest_messages_total{outcome="invalid"}"#),
        5.0
    );
    for kind in PoisonKind::ALL {
        let series = format!(
            r#"flightdeck_dlq_messages_total{{reason="{}"}}"#,
            kind.expected_reason()
        );
        assert_eq!(metrics::value(&m, &series), 1.0, "{series}");
    }
}
