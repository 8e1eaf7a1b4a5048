//! Benchmark: rows/s of the batch writer on realistic events, next to a raw binary COPY of the
//! same rows into a copy of the table (same indexes). The rows are split into three rounds, each
//! written by both in turn, and each side reports its best round: a disturbance of a second (a
//! checkpoint, another process) then lowers neither figure.
//! The COPY is the writer's own (`copy_events`), so the ratio prices everything the writer does
//! beyond it. Usage: DATABASE_URL=... bench_sink [ROWS] [rollup|no-rollup]; `no-rollup` leaves
//! the daily rollup unmoved, to price it (see `NO_ROLLUP_SQL`).

use chrono::Utc;
use flightdeck::config::{DatabaseSettings, ProcessEnv};
use flightdeck::db::{
    self, migrations,
    writer::{IncomingEvent, copy_events, write_batch},
};
use flightdeck::publish::synthetic::Generator;
use std::time::Instant;

const BATCH: usize = 1000;
const ROUNDS: usize = 3;

/// `no-rollup`: the rollup's one entry point does nothing and its triggers are off, so the writer
/// does everything but move the rollup (a measurement only: the rollup is then stale).
const NO_ROLLUP_SQL: &str = "
ALTER TABLE flights DISABLE TRIGGER USER;
CREATE OR REPLACE FUNCTION delay_rollups_move(moves delay_rollup_move[])
RETURNS void LANGUAGE sql AS 'SELECT';";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows: usize = std::env::args().nth(1).map_or(Ok(100_000), |a| a.parse())?;
    let pool = db::connect(&DatabaseSettings::from_source(&ProcessEnv)?, "bench-sink")?;
    let mut client = pool.get().await?;
    migrations::run(&mut client).await?;
    match std::env::args().nth(2).as_deref() {
        None | Some("rollup") => {}
        Some("no-rollup") => client.batch_execute(NO_ROLLUP_SQL).await?,
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
            let rows: Vec<&IncomingEvent> = chunk.iter().collect();
            copy_events(&client, "flight_events_copy", &rows).await?;
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
