//! Traces cross the pipeline: `publish` injects `traceparent`, `ingest` links its batch span to
//! it with the database write as a child, `serve` has a span per request with a child per query.

use crate::support::{App, Harness, app, eventually, otlp::OtlpReceiver};
use std::time::Duration;

#[tokio::test]
async fn a_published_event_trace_reaches_the_ingest_and_api_spans() {
    let h = Harness::new().await;
    h.migrate().await;
    let receiver = OtlpReceiver::start().await;
    let endpoint = receiver.endpoint();
    let otel = |service: &'static str| {
        [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.clone()),
            ("OTEL_SERVICE_NAME", service.to_string()),
        ]
    };
    let ingest_env = otel("flightdeck-ingest");
    let ingest = App::spawn(
        "ingest",
        h.env(),
        &[
            (ingest_env[0].0, &ingest_env[0].1),
            (ingest_env[1].0, &ingest_env[1].1),
        ],
    )
    .await;

    // The real publish command, exporting its own spans.
    let publish_env = otel("flightdeck-publish");
    let status = tokio::process::Command::new(app::binary())
        .args(["publish", "--count", "5", "--rate", "0"])
        .envs(h.env())
        .envs(publish_env.iter().map(|(k, v)| (k.to_string(), v.clone())))
        .status()
        .await
        .unwrap();
    assert!(status.success());

    let (publish, batch, write) = eventually(
        "publish and ingest spans",
        Duration::from_secs(30),
        || async {
            let spans = receiver.spans();
            let publish = spans
                .iter()
                .find(|s| s.service == "flightdeck-publish" && s.name == "publish")?
                .clone();
            let batch = spans
                .iter()
                .find(|s| {
                    s.service == "flightdeck-ingest"
                        && s.name == "ingest.batch"
                        && s.linked_trace_ids.contains(&publish.trace_id)
                })?
                .clone();
            let write = spans
                .iter()
                .find(|s| s.name == "db.write_batch" && s.parent_span_id == batch.span_id)?
                .clone();
            Some((publish, batch, write))
        },
    )
    .await;
    assert_eq!(
        write.trace_id, batch.trace_id,
        "the database write is a child of the batch"
    );
    // The batch links only the traces of what it carries: the five events of that publish.
    assert!(
        batch
            .linked_trace_ids
            .iter()
            .all(|linked| *linked == publish.trace_id),
        "{:?}",
        batch.linked_trace_ids
    );

    // Logs inside the batch span carry its trace id and the Cloud Logging trace field.
    h.pubsub
        .publish_raw(
            b"not json".to_vec(),
            flightdeck::domain::schema_attributes(),
        )
        .await;
    let logged = eventually(
        "dead-letter log line with trace fields",
        Duration::from_secs(30),
        || async {
            ingest
                .logs()
                .lines()
                .find(|l| l.contains("dead-lettered invalid message"))
                .map(str::to_owned)
        },
    )
    .await;
    let line: serde_json::Value = serde_json::from_str(&logged).unwrap();
    let trace_id = line["trace_id"].as_str().expect("trace_id in the log line");
    assert_eq!(trace_id.len(), 32);
    assert!(line["span_id"].as_str().is_some_and(|s| s.len() == 16));
    assert_eq!(line["severity"], "INFO");
    assert_eq!(
        line["logging.googleapis.com/trace"],
        format!("projects/{}/traces/{trace_id}", h.pubsub.settings.project)
    );

    let api_env = otel("flightdeck-api");
    let api = h
        .serve(&[(api_env[0].0, &api_env[0].1), (api_env[1].0, &api_env[1].1)])
        .await;
    assert_eq!(api.status("/v1/events?limit=5").await, 200);
    eventually(
        "request span with a query child",
        Duration::from_secs(30),
        || async {
            let spans = receiver.spans();
            let request = spans
                .iter()
                .find(|s| s.service == "flightdeck-api" && s.name == "http.request")?;
            spans
                .iter()
                .find(|s| {
                    s.name == "db.query"
                        && s.parent_span_id == request.span_id
                        && s.trace_id == request.trace_id
                })
                .map(|_| ())
        },
    )
    .await;
}
