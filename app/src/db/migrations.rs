//! Embedded, checksummed SQL migrations applied under an advisory lock (safe to run concurrently).

use anyhow::{Context, bail};
use tokio_postgres::Client;

/// One schema change, embedded in the binary.
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration in order. A unit test checks this list against `app/migrations/`.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "flight_events",
        sql: include_str!("../../migrations/V1__flight_events.sql"),
    },
    Migration {
        version: 2,
        name: "read_paths",
        sql: include_str!("../../migrations/V2__read_paths.sql"),
    },
    Migration {
        version: 3,
        name: "api_keys",
        sql: include_str!("../../migrations/V3__api_keys.sql"),
    },
    Migration {
        version: 4,
        name: "delay_rollups",
        sql: include_str!("../../migrations/V4__delay_rollups.sql"),
    },
    Migration {
        version: 5,
        name: "cheaper_rollup_moves",
        sql: include_str!("../../migrations/V5__cheaper_rollup_moves.sql"),
    },
];

/// Arbitrary constant identifying flightdeck's migration lock.
const LOCK_KEY: i64 = 0x666c_6967_6874_6463;

pub fn latest_version() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// FNV-1a: stable across builds, enough to notice an edited migration.
fn checksum(sql: &str) -> String {
    let hash = sql.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// Applies pending migrations; returns the versions applied by this call.
pub async fn run(client: &mut Client) -> anyhow::Result<Vec<i32>> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await?;
    // A migration may backfill (V4 rebuilds the rollups): no statement timeout inside it.
    tx.batch_execute("SET LOCAL client_min_messages = warning; SET LOCAL statement_timeout = 0")
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS flightdeck_schema_migrations (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            checksum   text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .await?;
    let applied = tx
        .query(
            "SELECT version, checksum FROM flightdeck_schema_migrations ORDER BY version",
            &[],
        )
        .await?;
    let mut done = Vec::new();
    for row in &applied {
        let (version, sum): (i32, String) = (row.get(0), row.get(1));
        let Some(known) = MIGRATIONS.iter().find(|m| m.version == version) else {
            // A newer build applied it: migrations are expand/contract, so this build keeps
            // working on the newer schema (a canary or a rollback).
            if version > latest_version() {
                tracing::info!(
                    version,
                    build_latest = latest_version(),
                    "database schema is newer than this build; nothing to apply"
                );
                continue;
            }
            bail!(
                "database has migration {version}, which this build does not know although it knows later ones: restore the migration file"
            );
        };
        if checksum(known.sql) != sum {
            bail!(
                "migration {version} ({}) was edited after it was applied: add a new migration instead",
                known.name
            );
        }
        done.push(version);
    }
    let mut newly_applied = Vec::new();
    for migration in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
        tx.batch_execute(migration.sql).await.with_context(|| {
            format!(
                "applying migration {} ({})",
                migration.version, migration.name
            )
        })?;
        tx.execute(
            "INSERT INTO flightdeck_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            &[&migration.version, &migration.name, &checksum(migration.sql)],
        )
        .await?;
        newly_applied.push(migration.version);
    }
    tx.commit().await?;
    Ok(newly_applied)
}

/// Highest applied version, 0 when nothing was ever applied.
pub async fn applied_version(client: &Client) -> Result<i32, tokio_postgres::Error> {
    match client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM flightdeck_schema_migrations",
            &[],
        )
        .await
    {
        Ok(row) => Ok(row.get(0)),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => Ok(0),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rollup_sql_uses_the_bounds_the_code_uses() {
        let on_time = format!("delay <= {}", crate::db::queries::ON_TIME_MINUTES);
        let histogram = format!("delay < {}", crate::db::percentile::HISTOGRAM_MINUTES);
        let long = format!("delay >= {}", crate::db::percentile::HISTOGRAM_MINUTES);
        let probe = format!("NOT LIKE '{}%'", crate::domain::SYNTHETIC_FLIGHT_PREFIX);
        // V4 wrote the rollup; V5 restates delay_rollups_move and the triggers' function.
        for (version, probes) in [(4, 3), (5, 2)] {
            let sql = MIGRATIONS[version - 1].sql;
            for (text, times) in [(&on_time, 1), (&histogram, 2), (&long, 2), (&probe, probes)] {
                assert_eq!(
                    sql.matches(text.as_str()).count(),
                    times,
                    "V{version}: {text}"
                );
            }
        }
    }

    #[test]
    fn every_migration_file_is_embedded_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|f| f.ends_with(".sql"))
            .collect();
        files.sort_by_key(|f| f[1..f.find("__").unwrap()].parse::<i32>().unwrap());
        let embedded: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("V{}__{}.sql", m.version, m.name))
            .collect();
        assert_eq!(files, embedded);
        assert!(MIGRATIONS.windows(2).all(|w| w[0].version < w[1].version));
    }

    #[test]
    fn checksum_changes_when_sql_changes() {
        assert_ne!(checksum("SELECT 1"), checksum("SELECT 2"));
        assert_eq!(checksum("SELECT 1"), checksum("SELECT 1"));
    }
}
