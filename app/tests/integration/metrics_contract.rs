//! After traffic, /metrics exposes every metric of the contract (dashboards depend on it).

use crate::support::{Harness, eventually, generated_events, metrics};
use std::time::Duration;

/// `(metric, type, emitted by)` for every row of the table in docs/metrics.md.
fn documented_metrics() -> Vec<(String, String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/metrics.md");
    let text = std::fs::read_to_string(path).expect("docs/metrics.md");
    text.lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            // Cells split on every unescaped pipe, so an empty Labels cell keeps the columns in
            // place and `\|` inside a cell does not split it.
            let row = l.replace("\\|", "/");
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let name = cells[1].trim_matches('`').to_string();
            (name, cells[2].to_string(), cells[4].to_string())
        })
        .collect()
}

/// True when `exposition` has a sample of `metric` (histograms through `_count`).
fn exposes(exposition: &str, metric: &str, kind: &str) -> bool {
    let sample = if kind.starts_with("histogram") {
        format!("{metric}_count")
    } else {
        metric.to_string()
    };
    exposition
        .lines()
        .any(|l| l.starts_with(&format!("{sample}{{")) || l.starts_with(&format!("{sample} ")))
}

#[tokio::test]
async fn after_traffic_every_contract_metric_is_exposed() {
    let h = Harness::new().await;
    h.migrate().await;
    let ingest = h.ingest(&[]).await;
    let api = h.serve(&[]).await;
    h.pubsub.publish_events(&generated_events(200, 31)).await;
    h.pubsub
        .publish_raw(b"{".to_vec(), flightdeck::domain::schema_attributes())
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
    let documented = documented_metrics();
    assert!(
        documented.len() >= 30,
        "the table of docs/metrics.md was read"
    );
    for (metric, _, emitted_by) in &documented {
        assert!(
            ["serve", "ingest", "both", "probe"].contains(&emitted_by.as_str()),
            "{metric}: Emitted by is {emitted_by:?}, not serve, ingest, both or probe"
        );
    }
    for (metric, kind, emitted_by) in &documented {
        if emitted_by.contains("serve") || emitted_by == "both" {
            assert!(
                exposes(&served, metric, kind),
                "serve /metrics lacks documented {metric}"
            );
        }
        if emitted_by.contains("ingest") || emitted_by == "both" {
            assert!(
                exposes(&ingested, metric, kind),
                "ingest /metrics lacks documented {metric}"
            );
        }
    }
    for route in ["/v1/events", "/v1/flights/{flight_id}", "/v1/stats/delays"] {
        for status in ["500", "503"] {
            let series = format!(
                r#"http_server_request_duration_seconds_count{{method="GET",route="{route}",status_code="{status}"}} 0"#
            );
            assert!(
                served.contains(&series),
                "serve /metrics lacks {series} from start-up"
            );
        }
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
