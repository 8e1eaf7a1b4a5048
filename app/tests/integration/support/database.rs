//! A fresh database per test, plus the queries tests use to check what was stored.

use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

pub struct TestDb {
    pub name: String,
    pub url: String,
    admin_url: String,
}

async fn connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

impl TestDb {
    pub async fn create(admin_url: &str) -> Self {
        let name = format!("flightdeck_test_{}", Uuid::new_v4().simple());
        let admin = connect(admin_url)
            .await
            .expect("connect to TEST_DATABASE_URL");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        let url = replace_dbname(admin_url, &name);
        Self {
            name,
            url,
            admin_url: admin_url.to_string(),
        }
    }

    /// A new connection to the test database (fresh each time: tests cut connections on purpose).
    pub async fn client(&self) -> Client {
        connect(&self.url)
            .await
            .expect("connect to the test database")
    }

    pub async fn admin(&self) -> Client {
        connect(&self.admin_url)
            .await
            .expect("connect to the admin database")
    }

    pub async fn count_events(&self) -> i64 {
        self.client()
            .await
            .query_one("SELECT count(*) FROM flight_events", &[])
            .await
            .expect("count events")
            .get(0)
    }

    /// Counts stored events among `ids`.
    pub async fn count_of(&self, ids: &[Uuid]) -> i64 {
        self.client()
            .await
            .query_one(
                "SELECT count(*) FROM flight_events WHERE event_id = ANY($1)",
                &[&ids],
            )
            .await
            .expect("count events by id")
            .get(0)
    }

    /// The ids among `ids` that are not stored.
    pub async fn missing(&self, ids: &[Uuid]) -> Vec<Uuid> {
        self.client()
            .await
            .query(
                "SELECT id FROM unnest($1::uuid[]) AS id \
                 WHERE NOT EXISTS (SELECT 1 FROM flight_events WHERE event_id = id)",
                &[&ids],
            )
            .await
            .expect("missing events by id")
            .iter()
            .map(|row| row.get(0))
            .collect()
    }

    /// Refuses new connections and cuts existing ones, as an outage would.
    pub async fn cut_off(&self) {
        let admin = self.admin().await;
        admin
            .batch_execute(&format!(
                "ALTER DATABASE {} ALLOW_CONNECTIONS false",
                self.name
            ))
            .await
            .expect("disallow connections");
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                &[&self.name],
            )
            .await
            .expect("terminate backends");
    }

    pub async fn restore(&self) {
        self.admin()
            .await
            .batch_execute(&format!(
                "ALTER DATABASE {} ALLOW_CONNECTIONS true",
                self.name
            ))
            .await
            .expect("allow connections");
    }
}

fn replace_dbname(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}
