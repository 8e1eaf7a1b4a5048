//! `flightdeck <command>`: the single binary behind every flightdeck process.

use clap::{Parser, Subcommand};
use flightdeck::config::{
    AccessSettings, ConfigError, DatabaseSettings, Flags, HttpSettings, IngestSettings,
    ProbeSettings, ProcessEnv, PubSubSettings, PublishSettings, TelemetrySettings,
};
use flightdeck::{access, db, publish, pubsub, startup, telemetry};
use std::collections::HashMap;
use std::process::ExitCode;

// glibc malloc contends between worker threads under load; mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Flight events from Pub/Sub into PostgreSQL, served over HTTP. Every setting is read from
/// the environment; docs/reference.md#settings lists them.
#[derive(Parser)]
#[command(name = "flightdeck", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply the embedded database migrations (idempotent).
    Migrate,
    /// Serve the HTTP API on PORT and Prometheus metrics on METRICS_PORT.
    Serve,
    /// Pull from the subscription and store events; health on PORT, metrics on METRICS_PORT.
    Ingest,
    /// Publish synthetic flight events to the topic.
    Publish(PublishArgs),
    /// Create the topic, dead-letter topic and subscription when missing (emulator, local runs).
    PubsubSetup,
    /// Publish a marked probe event on a schedule and measure publish -> readable via the API.
    Probe,
    /// Manage the API keys of third-party consumers (DATABASE_URL).
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// Maintain the daily delay statistics (DATABASE_URL).
    #[command(subcommand)]
    Rollup(RollupCommand),
}

#[derive(Subcommand)]
enum RollupCommand {
    /// Recompute every daily rollup from `flights` (after a manual data fix, a restore, or a
    /// bulk load with triggers disabled); writers of flight state wait until it commits.
    Rebuild,
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create a key; the key itself is the last line of stdout, shown only this once.
    Create {
        /// Consumer name (metrics and logs show it): 1-63 of a-z 0-9 - _.
        #[arg(long)]
        name: String,
        /// Requests per second (default: the serving instance's API_DEFAULT_RATE).
        #[arg(long)]
        rate: Option<u32>,
        /// Requests allowed at once on top of the rate (default: API_DEFAULT_BURST).
        #[arg(long)]
        burst: Option<u32>,
    },
    /// List every key: names, prefixes, limits, created and revoked times (never a secret).
    List,
    /// Revoke the active key of a consumer; every instance refuses it within API_KEYS_REFRESH_MS.
    Revoke {
        /// Consumer name.
        name: String,
    },
}

/// Each flag overrides its `PUBLISH_*` variable; both are read and checked by
/// `PublishSettings` (docs/reference.md#settings), so they share one rule and one message.
#[derive(clap::Args)]
struct PublishArgs {
    /// Messages per second, 0 = as fast as possible (PUBLISH_RATE).
    #[arg(long)]
    rate: Option<String>,
    /// Number of messages; runs until interrupted when omitted (PUBLISH_COUNT).
    #[arg(long)]
    count: Option<String>,
    /// Share of deliberately invalid messages, 0 to 1 (PUBLISH_INVALID_RATIO).
    #[arg(long)]
    invalid_ratio: Option<String>,
    /// Seed of the event generator, random when omitted (PUBLISH_SEED).
    #[arg(long)]
    seed: Option<String>,
    /// Flights in flight at once in the generator (PUBLISH_FLIGHTS).
    #[arg(long)]
    flights: Option<String>,
    /// Days of completed flights published first (PUBLISH_BACKFILL_DAYS).
    #[arg(long)]
    backfill_days: Option<String>,
}

impl PublishArgs {
    /// The flags given, keyed by the variable each overrides.
    fn flags(self) -> HashMap<&'static str, String> {
        [
            ("PUBLISH_RATE", self.rate),
            ("PUBLISH_COUNT", self.count),
            ("PUBLISH_INVALID_RATIO", self.invalid_ratio),
            ("PUBLISH_SEED", self.seed),
            ("PUBLISH_FLIGHTS", self.flights),
            ("PUBLISH_BACKFILL_DAYS", self.backfill_days),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .collect()
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if let Some(config) = error.downcast_ref::<ConfigError>() {
                eprintln!("configuration error: {config}");
                return ExitCode::from(2);
            }
            tracing::error!(error = format!("{error:#}"), "flightdeck failed");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// One connection for an operator command (`apikey`, `rollup`), with a clear error when the
/// database cannot be reached.
async fn operator_client(
    env: &ProcessEnv,
    name: &str,
) -> anyhow::Result<deadpool_postgres::Object> {
    let pool = db::connect(&DatabaseSettings::from_source(env)?, name)?;
    pool.get().await.map_err(|e| {
        anyhow::anyhow!("cannot connect to DATABASE_URL: {e}; is PostgreSQL running and migrated?")
    })
}

async fn run(command: Command) -> anyhow::Result<()> {
    let env = ProcessEnv;
    let telemetry_settings = TelemetrySettings::from_source(&env)?;
    // Both the Google clients and tonic use rustls; one process-wide provider avoids a panic.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let _guard = telemetry::init_tracing(&telemetry_settings)?;
    match command {
        Command::Migrate => {
            let database = DatabaseSettings::from_source(&env)?;
            let pool = db::connect(&database, "flightdeck-migrate")?;
            let mut client = pool.get().await.map_err(|e| {
                anyhow::anyhow!("cannot connect to DATABASE_URL: {e}; is PostgreSQL running and the database created?")
            })?;
            let applied = db::migrations::run(&mut client).await?;
            tracing::info!(
                ?applied,
                version = db::migrations::latest_version(),
                "migrations current"
            );
            Ok(())
        }
        Command::Serve => {
            let database = DatabaseSettings::from_source(&env)?;
            let http = HttpSettings::from_source(&env)?;
            let access = AccessSettings::from_source(&env)?;
            let metrics = telemetry::install_metrics(telemetry_settings.system.as_deref())?;
            let listeners = startup::Listeners::bind(&http).await?;
            startup::serve(
                &database,
                &http,
                &access,
                metrics,
                listeners,
                startup::shutdown_on_signals()?,
            )
            .await
        }
        Command::Ingest => {
            let database = DatabaseSettings::from_source(&env)?;
            let http = HttpSettings::from_source(&env)?;
            let pubsub = PubSubSettings::from_source(&env)?;
            let ingest = IngestSettings::from_source(&env)?;
            let metrics = telemetry::install_metrics(telemetry_settings.system.as_deref())?;
            let listeners = startup::Listeners::bind(&http).await?;
            let shutdown = startup::shutdown_on_signals()?;
            startup::ingest(
                &database, &pubsub, &ingest, &http, metrics, listeners, shutdown,
            )
            .await
        }
        Command::Publish(args) => {
            let pubsub = PubSubSettings::from_source(&env)?;
            let options = PublishSettings::from_source(&Flags {
                flags: args.flags(),
                base: &env,
            })?;
            let span = tracing::info_span!("publish", topic = %pubsub.topic_path());
            let report = tracing::Instrument::instrument(
                publish::run(&pubsub, &options, startup::shutdown_on_signals()?),
                span,
            )
            .await?;
            println!("{}", serde_json::to_string(&report)?);
            if report.failed > 0 {
                anyhow::bail!(
                    "{} of {} messages failed to publish",
                    report.failed,
                    report.published + report.failed
                );
            }
            Ok(())
        }
        Command::Probe => {
            let pubsub = PubSubSettings::from_source(&env)?;
            let probe = ProbeSettings::from_source(&env)?;
            let http = HttpSettings::from_source(&env)?;
            let metrics = telemetry::install_metrics(telemetry_settings.system.as_deref())?;
            let listeners = startup::Listeners::bind(&http).await?;
            let shutdown = startup::shutdown_on_signals()?;
            startup::probe(&pubsub, &probe, &http, metrics, listeners, shutdown).await
        }
        Command::Apikey(command) => {
            let client = operator_client(&env, "flightdeck-apikey").await?;
            match command {
                ApikeyCommand::Create { name, rate, burst } => {
                    for line in access::admin::create(&**client, &name, rate, burst).await? {
                        println!("{line}");
                    }
                }
                ApikeyCommand::List => {
                    print!(
                        "{}",
                        access::admin::table(&db::apikeys::list(&**client).await?)
                    );
                }
                ApikeyCommand::Revoke { name } => {
                    if !db::apikeys::revoke(&**client, &name).await? {
                        anyhow::bail!("no active key named {name:?}");
                    }
                    println!(
                        "revoked {name:?}; every instance refuses it within API_KEYS_REFRESH_MS"
                    );
                }
            }
            Ok(())
        }
        Command::Rollup(RollupCommand::Rebuild) => {
            let client = operator_client(&env, "flightdeck-rollup").await?;
            let flights = db::rollups::rebuild(&client).await?;
            println!("rebuilt the daily delay rollups from {flights} flights");
            Ok(())
        }
        Command::PubsubSetup => {
            let pubsub = PubSubSettings::from_source(&env)?;
            let ingest = IngestSettings::from_source(&env)?;
            pubsub::setup::ensure_resources(&pubsub, ingest.ack_deadline).await
        }
    }
}
