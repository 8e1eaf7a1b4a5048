//! PostgreSQL: connection pool, embedded migrations, the batch writer and the API's read queries.

pub mod apikeys;
pub mod error;
pub mod feed_json;
pub mod migrations;
pub mod pool;
pub mod queries;
pub mod writer;

pub use error::{DbError, Failure};
pub use pool::{Pool, checkout, connect};
