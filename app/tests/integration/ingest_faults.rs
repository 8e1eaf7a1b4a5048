//! The ingest worker under faults it must ride out: PostgreSQL stopped, frozen and crashed
//! mid-stream, senders of huge messages, a missing dead-letter topic. Counts are exact: every
//! valid event stored once, none on the dead-letter topic.

use crate::support::private_pg::PrivatePostgres;
use crate::support::{App, Harness, eventually, generated_events, metrics};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Runs `migrate` and starts `ingest` against `pg` instead of the shared server.
async fn ingest_on(h: &Harness, pg: &PrivatePostgres, overrides: &[(&str, &str)]) -> App {
    let mut env = h.env();
    for (key, value) in env.iter_mut() {
        if key == "DATABASE_URL" {
            *value = pg.url();
        }
    }
    let status = tokio::process::Command::new(crate::support::app::binary())
        .arg("migrate")
        .envs(env.clone())
        .status()
        .await
        .expect("run migrate");
    assert!(status.success(), "migrate on the private cluster");
    App::spawn("ingest", env, overrides).await
}

async fn gauge(app: &App, series: &str) -> f64 {
    metrics::value(&metrics::scrape(&app.metrics).await, series)
}

async fn wait_stored(pg: &PrivatePostgres, n: i64, within: Duration) {
    eventually(&format!("{n} events stored"), within, || async {
        (pg.count_events().await >= n).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_long_database_outage_dead_letters_no_valid_event_and_loses_none() {
    let h = Harness::new().await;
    let pg = PrivatePostgres::start();
    let mut dead_letters = h.pubsub.dead_letter_inspector().await;
    let ingest = ingest_on(&h, &pg, &[("INGEST_BATCH_MAX", "200")]).await;
    let warmup = generated_events(200, 31);
    h.pubsub.publish_events(&warmup).await;
    wait_stored(&pg, 200, Duration::from_secs(30)).await;

    pg.stop();
    let backlog = generated_events(3_000, 32);
    h.pubsub.publish_events(&backlog).await;
    eventually(
        "the worker pauses and holds the backlog",
        Duration::from_secs(30),
        || async {
            let paused = gauge(&ingest, "flightdeck_ingest_paused").await == 1.0;
            let held = gauge(&ingest, "flightdeck_ingest_outstanding_messages").await > 0.0;
            (paused && held).then_some(())
        },
    )
    .await;
    // Longer than ten redelivery cycles of a nack-and-back-off loop (100 ms doubling to 5 s:
    // about 26 s), and more than three ack deadlines (10 s in tests).
    let outage = Instant::now();
    while outage.elapsed() < Duration::from_secs(35) {
        assert_eq!(
            gauge(&ingest, "flightdeck_ingest_paused").await,
            1.0,
            "paused during the outage"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    pg.restart();
    wait_stored(&pg, 3_200, Duration::from_secs(60)).await;
    let ids: Vec<_> = warmup.iter().chain(&backlog).map(|e| e.event_id).collect();
    assert_eq!(pg.count_of(&ids).await, 3_200, "every event stored");
    assert_eq!(pg.count_events().await, 3_200, "and stored once");
    assert_eq!(gauge(&ingest, "flightdeck_ingest_paused").await, 0.0);
    let m = metrics::scrape(&ingest.metrics).await;
    assert_eq!(
        metrics::value(&m, r#"flightdeck_ingest_messages_total{outcome="failed"}"#),
        0.0,
        "no message was released during the outage"
    );
    dead_letters.expect_none(Duration::from_secs(3)).await;
    let logs = ingest.logs();
    assert_eq!(
        logs.matches("ingest paused").count(),
        1,
        "one log line per transition"
    );
    assert_eq!(logs.matches("ingest resumed").count(), 1);
}

#[tokio::test]
async fn a_frozen_then_crashed_database_mid_stream_ends_with_exact_counts() {
    let h = Harness::new().await;
    let pg = PrivatePostgres::start();
    let ingest = ingest_on(
        &h,
        &pg,
        &[
            ("INGEST_BATCH_MAX", "250"),
            ("INGEST_WRITE_TIMEOUT_MS", "2000"),
        ],
    )
    .await;
    let first = generated_events(6_000, 33);
    h.pubsub.publish_events(&first).await;
    wait_stored(&pg, 2_000, Duration::from_secs(60)).await;
    pg.freeze();
    eventually(
        "a hung write is detected and the worker pauses",
        Duration::from_secs(30),
        || async { (gauge(&ingest, "flightdeck_ingest_paused").await == 1.0).then_some(()) },
    )
    .await;
    pg.thaw();
    eventually("the worker resumes", Duration::from_secs(60), || async {
        (gauge(&ingest, "flightdeck_ingest_paused").await == 0.0).then_some(())
    })
    .await;
    wait_stored(&pg, 6_000, Duration::from_secs(60)).await;

    // A second stream of events, and a crash while it is being written.
    let second = generated_events(6_000, 37);
    h.pubsub.publish_events(&second).await;
    wait_stored(&pg, 6_500, Duration::from_secs(60)).await;
    pg.restart_immediate();
    let ids: Vec<_> = first.iter().chain(&second).map(|e| e.event_id).collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while pg.count_events().await < 12_000 {
        assert!(
            Instant::now() < deadline,
            "{} of 12,000 events stored 120 s after the crash; logs:\n{}",
            pg.count_events().await,
            ingest.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(pg.count_of(&ids).await, 12_000);
    assert_eq!(pg.count_events().await, 12_000, "nothing stored twice");
    assert!(ingest.logs().contains("ingest paused"));
}

/// A valid JSON document that is not an event, `bytes` long.
fn huge_message(bytes: usize) -> Vec<u8> {
    let mut data = b"{\"padding\":\"".to_vec();
    data.resize(bytes - 2, b'x');
    data.extend_from_slice(b"\"}");
    data
}

#[tokio::test]
async fn huge_messages_are_dead_lettered_unread_and_memory_stays_bounded() {
    /// Peak RSS the default settings must keep the worker under with 20 x 6 MB in flight.
    const PEAK_RSS_BOUND_MB: f64 = 256.0;
    let h = Harness::new().await;
    h.migrate().await;
    let mut dead_letters = h.pubsub.dead_letter_inspector().await;
    // Default flow control and memory settings; only the delay before a failed dead-letter
    // publish is retried is shortened, so a slow emulator (6 MB publishes under the parallel
    // suite) cannot push the copies past the wait below.
    let ingest = h.ingest(&[("INGEST_DLQ_RETRY_DELAY_MS", "1000")]).await;
    let before = generated_events(100, 34);
    let after = generated_events(100, 35);
    h.pubsub.publish_events(&before).await;
    let attributes = flightdeck::domain::schema_attributes();
    let huge = (0..20).map(|_| {
        h.pubsub
            .publish_raw(huge_message(6 << 20), attributes.clone())
    });
    futures::future::join_all(huge).await;
    h.pubsub.publish_events(&after).await;

    eventually(
        "the valid events around the huge ones are stored",
        Duration::from_secs(60),
        || async { (h.db.count_events().await == 200).then_some(()) },
    )
    .await;
    let received = dead_letters.receive(20, Duration::from_secs(180)).await;
    for message in &received {
        let error = &message.attributes["error"];
        assert!(error.starts_with("too_large: 6291456 bytes"), "{error}");
        assert_eq!(message.data.len(), 6 << 20, "the original data is kept");
    }
    let peak = ingest.memory_mb("VmHWM");
    eprintln!(
        "ingest peak RSS with 20 x 6 MB messages: {peak:.0} MB (bound {PEAK_RSS_BOUND_MB} MB)"
    );
    assert!(peak < PEAK_RSS_BOUND_MB, "peak RSS {peak:.0} MB");
    let m = metrics::scrape(&ingest.metrics).await;
    assert_eq!(
        metrics::value(&m, r#"flightdeck_dlq_messages_total{reason="too_large"}"#),
        20.0
    );
}

#[tokio::test]
async fn without_a_dead_letter_topic_valid_events_flow_and_poison_waits_without_a_hot_loop() {
    const RETRY_DELAY_MS: u64 = 1_000;
    let h = Harness::new().await;
    h.migrate().await;
    h.pubsub.delete_dead_letter_topic().await;
    let ingest = h
        .ingest(&[
            ("INGEST_DLQ_RETRY_DELAY_MS", "1000"),
            ("INGEST_BATCH_WAIT_MS", "50"),
        ])
        .await;
    let attributes = flightdeck::domain::schema_attributes();
    for n in 0..5 {
        h.pubsub
            .publish_raw(format!("not json {n}").into_bytes(), attributes.clone())
            .await;
    }
    let events = generated_events(300, 36);
    h.pubsub.publish_events(&events).await;
    eventually(
        "valid events flow without the dead-letter topic",
        Duration::from_secs(30),
        || async { (h.db.count_events().await == 300).then_some(()) },
    )
    .await;

    let window_start = Instant::now();
    let failures_at =
        |m: &HashMap<String, f64>| metrics::value(m, "flightdeck_dlq_publish_failures_total");
    let start = failures_at(&metrics::scrape(&ingest.metrics).await);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let failures = failures_at(&metrics::scrape(&ingest.metrics).await) - start;
    // Each poison message is retried at most once per delay: a hot loop would show thousands.
    let bound = 5.0 * (window_start.elapsed().as_millis() as f64 / RETRY_DELAY_MS as f64 + 2.0);
    assert!(
        failures > 0.0 && failures <= bound,
        "{failures} publish failures in the window (bound {bound})"
    );

    h.pubsub.recreate_dead_letter_topic().await;
    let mut dead_letters = h.pubsub.dead_letter_inspector().await;
    let received = dead_letters.receive(5, Duration::from_secs(60)).await;
    for message in &received {
        assert!(
            message.attributes["error"].starts_with("invalid_json"),
            "{:?}",
            message.attributes
        );
    }
    assert_eq!(h.db.count_events().await, 300);
}
