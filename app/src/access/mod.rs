//! Third-party access: API keys, the in-memory key ring that checks them, per-key quotas.

pub mod admin;
pub mod key;
pub mod quota;
pub mod ring;

pub use key::{PresentedKey, SecretHash};
pub use ring::{Consumer, KeyRing, Verdict};
