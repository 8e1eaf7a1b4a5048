//! After traffic, /metrics exposes every metric of the contract (dashboards depend on it).

use crate::support::{Harness, eventually, generated_events, metrics};
use std::time::Duration;

#[tokio::test]
async fn after_traffic_every_contract_metric_is_exposed() {
    let h = Harness::new().await;
    h.migrate().await;
    let ingest = h.ingest(&[]).await;
    let api = h.serve(&[]).await;
    h.pubsub.publish_events(&generated_events(200, 31)).await;
    h.pubsub
        .publish_raw(
            b"{".to_vec(),
            [("schema_version".to_string(), "1".to_string())].into(),
        )
        .await;
    eventually("events stored", Duration::from_secs(30), || async {
        (h.db.count_events().await == 200).then_some(())
    })
    .await;
    for path in [
        "/v1/events",
        "/v1/events?limit=0",
        "/v1/stats/delays?origin=SCL",
        "/v1/flights/X",
    ] {
        api.get(path).await;
    }
    let served = reqwest::get(&api.metrics)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        r#"http_server_request_duration_seconds_bucket{method="GET",route="/v1/events",status_code="200",le="0.25"}"#,
        r#"http_server_request_duration_seconds_count{method="GET",route="/v1/events",status_code="400"}"#,
        r#"http_server_request_duration_seconds_count{method="GET",route="/v1/flights/{flight_id}",status_code="404"}"#,
        "http_server_active_requests",
        r#"flightdeck_db_pool_connections{state="idle"}"#,
        r#"flightdeck_db_pool_connections{state="in_use"}"#,
        "flightdeck_db_pool_max",
        "flightdeck_build_info{",
    ] {
        assert!(served.contains(needle), "serve /metrics lacks {needle}");
    }
    let ingested = eventually("ingest metrics", Duration::from_secs(10), || async {
        let body = reqwest::get(&ingest.metrics)
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        body.contains(r#"flightdeck_dlq_messages_total{reason="invalid_json"} 1"#)
            .then_some(body)
    })
    .await;
    for outcome in ["stored", "duplicate", "invalid", "failed"] {
        assert!(ingested.contains(&format!(
            r#"flightdeck_ingest_messages_total{{outcome="{outcome}"}}"#
        )));
    }
    for needle in [
        "flightdeck_ingest_batch_size_bucket",
        "flightdeck_ingest_batch_write_seconds_bucket",
        "flightdeck_ingest_last_commit_timestamp_seconds",
        "flightdeck_db_pool_max",
        r#"flightdeck_db_pool_connections{state="in_use"}"#,
        "flightdeck_build_info{",
    ] {
        assert!(ingested.contains(needle), "ingest /metrics lacks {needle}");
    }
    for le in ["1", "2", "5", "10", "30", "60"] {
        let bucket = format!(r#"flightdeck_ingest_lag_seconds_bucket{{le="{le}"}}"#);
        assert!(ingested.contains(&bucket), "lag histogram lacks le={le}");
    }
    let m = metrics::parse(&ingested);
    assert_eq!(
        metrics::value(&m, r#"flightdeck_ingest_messages_total{outcome="stored"}"#),
        200.0
    );
    assert_eq!(
        metrics::value(&m, "flightdeck_ingest_lag_seconds_count"),
        200.0
    );
    let last_commit = metrics::value(&m, "flightdeck_ingest_last_commit_timestamp_seconds");
    assert!((chrono::Utc::now().timestamp() as f64 - last_commit).abs() < 60.0);
}
