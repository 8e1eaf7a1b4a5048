//! The `api_keys` table: create, list, revoke, and the active set the key ring loads.

use super::DbError;
use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

/// A key as listed: never its secret or hash.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyInfo {
    pub name: String,
    pub prefix: String,
    pub rate: Option<i32>,
    pub burst: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An active key as the ring holds it.
#[derive(Debug, Clone)]
pub struct ActiveKey {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    /// SHA-256 of the key's secret, as stored (access::SecretHash compares it).
    pub hash: [u8; 32],
    pub rate: Option<i32>,
    pub burst: Option<i32>,
}

/// Why a key could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("an active key named {0:?} exists; revoke it first to replace it")]
    NameTaken(String),
    #[error(transparent)]
    Database(#[from] DbError),
}

pub async fn create(
    client: &impl GenericClient,
    name: &str,
    prefix: &str,
    hash: &[u8; 32],
    rate: Option<i32>,
    burst: Option<i32>,
) -> Result<KeyInfo, CreateError> {
    let row = client
        .query_one(
            "INSERT INTO api_keys (name, prefix, secret_hash, rate, burst) VALUES ($1, $2, $3, $4, $5)
             RETURNING created_at",
            &[&name, &prefix, &hash.as_slice(), &rate, &burst],
        )
        .await
        .map_err(|e| match e.as_db_error() {
            Some(db) if db.constraint() == Some("api_keys_active_name_idx") => {
                CreateError::NameTaken(name.to_string())
            }
            _ => CreateError::Database(e.into()),
        })?;
    Ok(KeyInfo {
        name: name.to_string(),
        prefix: prefix.to_string(),
        rate,
        burst,
        created_at: row.get(0),
        revoked_at: None,
    })
}

/// Every key ever created, oldest first.
pub async fn list(client: &impl GenericClient) -> Result<Vec<KeyInfo>, DbError> {
    let rows = client
        .query(
            "SELECT name, prefix, rate, burst, created_at, revoked_at FROM api_keys ORDER BY id",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| KeyInfo {
            name: r.get(0),
            prefix: r.get(1),
            rate: r.get(2),
            burst: r.get(3),
            created_at: r.get(4),
            revoked_at: r.get(5),
        })
        .collect())
}

/// Revokes the active key named `name`; false when there is none.
pub async fn revoke(client: &impl GenericClient, name: &str) -> Result<bool, DbError> {
    let n = client
        .execute(
            "UPDATE api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
            &[&name],
        )
        .await?;
    Ok(n > 0)
}

/// The keys that authenticate, oldest first.
pub async fn active(client: &impl GenericClient) -> Result<Vec<ActiveKey>, DbError> {
    let rows = client
        .query(
            "SELECT id, name, prefix, secret_hash, rate, burst FROM api_keys
             WHERE revoked_at IS NULL ORDER BY id",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let hash: &[u8] = r.get(3);
            Ok(ActiveKey {
                id: r.get(0),
                name: r.get(1),
                prefix: r.get(2),
                hash: hash.try_into().map_err(|_| DbError::Data {
                    table: "api_keys",
                    detail: "secret_hash is not 32 bytes".into(),
                })?,
                rate: r.get(4),
                burst: r.get(5),
            })
        })
        .collect()
}
