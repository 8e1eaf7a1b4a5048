//! Where PostgreSQL and the emulator come from: local services (default, CI), or containers
//! with the `testcontainers` feature (machines with Docker).

use tokio::sync::OnceCell;

pub struct Services {
    /// A database URL with the right to CREATE DATABASE.
    pub admin_database_url: String,
    /// HOST:PORT of the Pub/Sub emulator.
    pub emulator_host: String,
}

static SERVICES: OnceCell<Services> = OnceCell::const_new();

pub async fn get() -> &'static Services {
    SERVICES.get_or_init(provide).await
}

#[cfg(not(feature = "testcontainers"))]
async fn provide() -> Services {
    let emulator_host = std::env::var("PUBSUB_EMULATOR_HOST").expect(
        "PUBSUB_EMULATOR_HOST is not set: run the tests with `make test` (which starts the emulator) \
         or `eval \"$(scripts/services.sh)\"` first",
    );
    Services {
        admin_database_url: std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        emulator_host,
    }
}

#[cfg(feature = "testcontainers")]
async fn provide() -> Services {
    use testcontainers::core::{IntoContainerPort, WaitFor};
    use testcontainers::runners::AsyncRunner;
    use testcontainers::{GenericImage, ImageExt};
    use testcontainers_modules::postgres::Postgres;

    let postgres = Postgres::default()
        .with_tag("15-alpine")
        .start()
        .await
        .expect("start the PostgreSQL container (is Docker running?)");
    let pg_port = postgres
        .get_host_port_ipv4(5432)
        .await
        .expect("postgres port");
    let emulator = GenericImage::new(
        "gcr.io/google.com/cloudsdktool/google-cloud-cli",
        "emulators",
    )
    .with_exposed_port(8085.tcp())
    .with_wait_for(WaitFor::message_on_stderr("Server started"))
    .with_cmd([
        "gcloud",
        "beta",
        "emulators",
        "pubsub",
        "start",
        "--host-port=0.0.0.0:8085",
    ])
    .start()
    .await
    .expect("start the Pub/Sub emulator container");
    let emulator_port = emulator
        .get_host_port_ipv4(8085)
        .await
        .expect("emulator port");
    // The containers live as long as the test process.
    Box::leak(Box::new((postgres, emulator)));
    Services {
        admin_database_url: format!("postgres://postgres:postgres@127.0.0.1:{pg_port}/postgres"),
        emulator_host: format!("127.0.0.1:{emulator_port}"),
    }
}
