//! Third-party access: API keys, the in-memory key ring that checks them, per-key quotas.

pub mod admin;
pub(crate) mod key;
pub(crate) mod quota;
pub(crate) mod ring;

pub use key::{PresentedKey, SecretHash};
pub use ring::{Consumer, KeyRing, Verdict};
