//! The database error shared by the read queries and the batch writer, classified once.

use deadpool_postgres::PoolError;

/// What a caller should do about a failed database call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The database is unreachable, restarting, overloaded or too slow: retry later (HTTP 503).
    Transient,
    /// The database refused the data itself (SQLSTATE classes 22 and 23): retrying cannot help.
    Rejected,
    /// Anything else: a bug or a schema mismatch (HTTP 500, logged, never echoed).
    Internal,
}

/// A failed database call: no connection, a failed statement, or a row this build cannot read.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database pool: {0}")]
    Pool(#[from] PoolError),
    #[error("database: {0}")]
    Query(#[from] tokio_postgres::Error),
    #[error("database call timed out after {0:?}")]
    TimedOut(std::time::Duration),
    #[error("unexpected data in {table}: {detail}")]
    Data { table: &'static str, detail: String },
}

/// SQLSTATEs that mean "try again later" although they carry a code.
const TRANSIENT_CODES: &[&str] = &[
    "57P01", // admin_shutdown
    "57P02", // crash_shutdown
    "57P03", // cannot_connect_now
    "57014", // query_canceled (statement_timeout)
    "40001", // serialization_failure
    "40P01", // deadlock_detected
    "55P03", // lock_not_available
];

fn classify_query(error: &tokio_postgres::Error) -> Failure {
    let Some(code) = error.code().map(|c| c.code()) else {
        // No SQLSTATE: a broken connection (closed, I/O) is worth retrying; anything else
        // (a type this build cannot read, a protocol surprise) is not.
        let io = std::error::Error::source(error).is_some_and(|s| s.is::<std::io::Error>());
        return if error.is_closed() || io {
            Failure::Transient
        } else {
            Failure::Internal
        };
    };
    if code.starts_with("08") || code.starts_with("53") || TRANSIENT_CODES.contains(&code) {
        Failure::Transient
    } else if code.starts_with("22") || code.starts_with("23") {
        Failure::Rejected
    } else {
        Failure::Internal
    }
}

impl DbError {
    pub fn failure(&self) -> Failure {
        match self {
            Self::Pool(PoolError::Backend(e)) => classify_query(e),
            Self::Pool(PoolError::Timeout(_) | PoolError::Closed) => Failure::Transient,
            Self::Pool(_) => Failure::Internal,
            Self::Query(e) => classify_query(e),
            Self::TimedOut(_) => Failure::Transient,
            Self::Data { .. } => Failure::Internal,
        }
    }

    pub fn is_transient(&self) -> bool {
        self.failure() == Failure::Transient
    }

    /// The database's own message when there is one (for dead-letter reasons and logs).
    pub fn detail(&self) -> String {
        match self {
            Self::Query(e) => e
                .as_db_error()
                .map_or_else(|| e.to_string(), |d| d.message().to_string()),
            other => other.to_string(),
        }
    }

    pub fn data(table: &'static str, detail: impl Into<String>) -> Self {
        Self::Data {
            table,
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_timeout_is_transient_and_bad_data_is_internal() {
        let timeout = DbError::Pool(PoolError::Timeout(deadpool_postgres::TimeoutType::Wait));
        assert_eq!(timeout.failure(), Failure::Transient);
        assert_eq!(DbError::data("flights", "x").failure(), Failure::Internal);
        assert_eq!(
            DbError::TimedOut(std::time::Duration::from_secs(1)).failure(),
            Failure::Transient
        );
    }
}
