//! Daily delay rollups (migration V4): the operator's rebuild from `flights`.

use super::DbError;

/// Recomputes every rollup from `flights` with the function the migration's backfill and the
/// triggers use, in one transaction without a statement timeout; returns the flights counted.
pub async fn rebuild(client: &deadpool_postgres::Client) -> Result<i64, DbError> {
    client
        .batch_execute("BEGIN; SET LOCAL statement_timeout = 0")
        .await?;
    let result = client
        .query_one("SELECT delay_rollups_rebuild()", &[])
        .await;
    match result {
        Ok(row) => {
            client.batch_execute("COMMIT").await?;
            Ok(row.try_get(0)?)
        }
        Err(error) => {
            client.batch_execute("ROLLBACK").await?;
            Err(error.into())
        }
    }
}
