//! The API key format `fdk_<prefix>_<secret>`: a public 12-hex-digit prefix to find the key and
//! 256 random bits of secret, of which only a SHA-256 is ever stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const SCHEME: &str = "fdk";
const PREFIX_HEX: usize = 12;
const SECRET_BYTES: usize = 32;
/// Longest key text accepted; anything longer is refused before hashing.
const MAX_KEY_CHARS: usize = 128;

/// SHA-256 of a key's secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(pub [u8; 32]);

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

impl SecretHash {
    fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// Compares in constant time, so response timing says nothing about the stored hash.
    pub fn matches(&self, other: &SecretHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// A newly generated key: its full text is shown once and never stored.
pub struct NewKey {
    pub prefix: String,
    pub hash: SecretHash,
    pub text: String,
}

impl NewKey {
    pub fn generate() -> Self {
        let prefix_bytes: [u8; PREFIX_HEX / 2] = rand::random();
        let secret_bytes: [u8; SECRET_BYTES] = rand::random();
        let prefix: String = prefix_bytes.iter().map(|b| format!("{b:02x}")).collect();
        let secret = URL_SAFE_NO_PAD.encode(secret_bytes);
        Self {
            hash: SecretHash::of(&secret),
            text: format!("{SCHEME}_{prefix}_{secret}"),
            prefix,
        }
    }
}

/// A key as a client presented it, parsed but not yet checked against the ring.
#[derive(Debug, PartialEq, Eq)]
pub struct PresentedKey {
    pub prefix: String,
    pub hash: SecretHash,
}

impl PresentedKey {
    /// `None` when `text` is not shaped like a flightdeck key (no lookup is done for it).
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() > MAX_KEY_CHARS {
            return None;
        }
        let rest = text.strip_prefix(SCHEME)?.strip_prefix('_')?;
        let (prefix, secret) = rest.split_at_checked(PREFIX_HEX)?;
        let secret = secret.strip_prefix('_')?;
        let valid_prefix = prefix
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let decoded = URL_SAFE_NO_PAD.decode(secret).ok()?;
        (valid_prefix && decoded.len() == SECRET_BYTES).then(|| Self {
            prefix: prefix.to_string(),
            hash: SecretHash::of(secret),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_parses_back_to_its_prefix_and_hash() {
        let key = NewKey::generate();
        assert!(key.text.starts_with("fdk_"));
        let parsed = PresentedKey::parse(&key.text).expect("parses");
        assert_eq!(parsed.prefix, key.prefix);
        assert!(parsed.hash.matches(&key.hash));
    }

    #[test]
    fn two_keys_differ_in_prefix_and_secret() {
        let (a, b) = (NewKey::generate(), NewKey::generate());
        assert_ne!(a.prefix, b.prefix);
        assert!(!a.hash.matches(&b.hash));
    }

    #[test]
    fn anything_not_shaped_like_a_key_is_refused_without_lookup() {
        let good = NewKey::generate().text;
        let too_long = format!("{good}{}", "A".repeat(200));
        let wrong_scheme = good.replacen("fdk_", "xyz_", 1);
        let upper_prefix = format!("fdk_ABCDEF012345{}", &good[16..]);
        let short_secret = good[..good.len() - 2].to_string();
        for text in [
            "",
            "fdk_",
            "Bearer",
            good.trim_start_matches("fdk_"),
            &too_long,
            &wrong_scheme,
            &upper_prefix,
            &short_secret,
        ] {
            assert_eq!(PresentedKey::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn the_hash_never_prints() {
        let key = NewKey::generate();
        assert_eq!(format!("{:?}", key.hash), "SecretHash(..)");
    }
}
