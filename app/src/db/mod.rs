//! PostgreSQL: connection pool, embedded migrations, the batch writer, the API's read queries
//! and the daily rollups behind the statistics.

pub mod apikeys;
pub(crate) mod error;
pub(crate) mod feed_json;
pub mod migrations;
pub mod percentile;
pub(crate) mod pool;
pub mod queries;
pub mod rollups;
pub mod writer;

pub use error::{DbError, Failure};
pub use pool::{Pool, checkout, connect};
