//! PostgreSQL: connection pool, embedded migrations, the batch writer, the API's read queries
//! and the daily rollups behind the statistics.

pub mod apikeys;
pub mod error;
pub mod feed_json;
pub mod migrations;
pub mod percentile;
pub mod pool;
pub mod queries;
pub mod rollups;
pub mod writer;

pub use error::{DbError, Failure};
pub use pool::{Pool, checkout, connect};
