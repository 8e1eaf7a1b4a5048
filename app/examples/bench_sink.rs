//! Benchmark: rows/s of the batch writer on realistic events, next to a raw binary COPY of the
//! same rows into a copy of the table (same indexes). The rows are split into three rounds, each
//! written by both in turn, and each side reports its best round: a disturbance of a second (a
//! checkpoint, another process) then lowers neither figure.
//! Usage: DATABASE_URL=... bench_sink [ROWS] [rollup|no-rollup]; `no-rollup` turns the daily
//! rollup's triggers off first, to price them (a measurement only: the rollup is then stale).

use chrono::Utc;
use flightdeck::config::{DatabaseSettings, ProcessEnv};
use flightdeck::db::{
    self, migrations,
    writer::{IncomingEvent, write_batch},
};
use flightdeck::publish::synthetic::Generator;
use futures::pin_mut;
use std::time::Instant;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;

const BATCH: usize = 1000;
const ROUNDS: usize = 3;

/// Column types of `flight_events_copy` in COPY order.
const TYPES: [Type; 13] = [
    Type::UUID,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::BPCHAR,
    Type::BPCHAR,
    Type::TEXT,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::INT4,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::TEXT,
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows: usize = std::env::args().nth(1).map_or(Ok(100_000), |a| a.parse())?;
    let pool = db::connect(&DatabaseSettings::from_source(&ProcessEnv)?, "bench-sink")?;
    let mut client = pool.get().await?;
    migrations::run(&mut client).await?;
    match std::env::args().nth(2).as_deref() {
        None | Some("rollup") => {}
        Some("no-rollup") => {
            client
                .batch_execute("ALTER TABLE flights DISABLE TRIGGER USER")
                .await?
        }
        Some(other) => anyhow::bail!("unknown mode {other:?}: rollup or no-rollup"),
    }
    let mut generator = Generator::new(99, 5_000);
    let now = Utc::now();
    let events: Vec<IncomingEvent> = (0..rows)
        .map(|i| IncomingEvent {
            event: generator.next_event(now),
            published_at: now,
            message_id: format!("bench-{i}"),
        })
        .collect();
    client
        .batch_execute(
            "DROP TABLE IF EXISTS flight_events_copy;
             CREATE TABLE flight_events_copy (LIKE flight_events INCLUDING ALL);",
        )
        .await?;
    let (mut sink, mut copy) = (0f64, 0f64);
    for round in events.chunks(rows.div_ceil(ROUNDS)) {
        let started = Instant::now();
        for chunk in round.chunks(BATCH) {
            write_batch(&client, chunk).await?;
        }
        sink = sink.max(round.len() as f64 / started.elapsed().as_secs_f64());
        let started = Instant::now();
        for chunk in round.chunks(BATCH) {
            copy_batch(&client, chunk).await?;
        }
        copy = copy.max(round.len() as f64 / started.elapsed().as_secs_f64());
    }
    client
        .batch_execute("DROP TABLE flight_events_copy")
        .await?;
    println!(
        "{}",
        serde_json::json!({"rows": rows, "sink_rows_per_s": sink.round(), "copy_rows_per_s": copy.round()})
    );
    Ok(())
}

/// One binary COPY of `chunk` into `flight_events_copy`.
async fn copy_batch(
    client: &deadpool_postgres::Client,
    chunk: &[IncomingEvent],
) -> anyhow::Result<()> {
    let sink = client
        .copy_in(
            "COPY flight_events_copy (event_id, flight_id, airline, flight_number, origin, destination, \
             status, scheduled_departure, actual_departure, delay_minutes, event_time, published_at, message_id) \
             FROM STDIN BINARY",
        )
        .await?;
    let writer = BinaryCopyInWriter::new(sink, &TYPES);
    pin_mut!(writer);
    for e in chunk {
        let ev = &e.event;
        writer
            .as_mut()
            .write(&[
                &ev.event_id,
                &ev.flight_id,
                &ev.airline,
                &ev.flight_number,
                &ev.origin,
                &ev.destination,
                &ev.status.as_str(),
                &ev.scheduled_departure,
                &ev.actual_departure,
                &ev.delay_minutes,
                &ev.event_time,
                &e.published_at,
                &e.message_id,
            ])
            .await?;
    }
    writer.finish().await?;
    Ok(())
}
