//! `flightdeck apikey create|list|revoke`: what an operator runs to manage consumers' keys.

use super::key::NewKey;
use crate::db::apikeys::{self, KeyInfo};
use std::fmt::Write as _;
use tokio_postgres::GenericClient;

/// Names are what metrics and logs show: short, lower-case, no secrets.
pub fn valid_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    ok.then_some(()).ok_or_else(|| {
        format!("{name:?} is not a key name: 1-63 of a-z 0-9 - _, starting with a letter or digit")
    })
}

/// Creates a key and returns the lines to print; the last one is the key itself.
pub async fn create(
    client: &impl GenericClient,
    name: &str,
    rate: Option<u32>,
    burst: Option<u32>,
) -> anyhow::Result<Vec<String>> {
    valid_name(name).map_err(anyhow::Error::msg)?;
    let to_db = |v: Option<u32>, what: &str| -> anyhow::Result<Option<i32>> {
        v.map(|v| {
            i32::try_from(v)
                .ok()
                .filter(|v| (1..=100_000).contains(v))
                .ok_or_else(|| anyhow::anyhow!("--{what} {v} is not from 1 to 100000"))
        })
        .transpose()
    };
    let (rate, burst) = (to_db(rate, "rate")?, to_db(burst, "burst")?);
    let key = NewKey::generate();
    let info = apikeys::create(client, name, &key.prefix, &key.hash.0, rate, burst).await?;
    Ok(vec![
        format!(
            "created API key {:?} (prefix {}, rate {}, burst {}); it is shown once, store it now:",
            info.name,
            info.prefix,
            shown(info.rate),
            shown(info.burst)
        ),
        key.text,
    ])
}

fn shown(value: Option<i32>) -> String {
    value.map_or_else(|| "default".into(), |v| v.to_string())
}

/// A table of every key, never a secret.
pub fn table(keys: &[KeyInfo]) -> String {
    let mut out = format!(
        "{:<24} {:<12} {:>8} {:>8} {:<20} {:<20}\n",
        "NAME", "PREFIX", "RATE", "BURST", "CREATED", "REVOKED"
    );
    let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    for k in keys {
        let _ = writeln!(
            out,
            "{:<24} {:<12} {:>8} {:>8} {:<20} {:<20}",
            k.name,
            k.prefix,
            shown(k.rate),
            shown(k.burst),
            time(k.created_at),
            k.revoked_at.map_or_else(|| "-".into(), time)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_lower_case_words() {
        for good in ["probe", "acme-air", "k6_gate", "0day"] {
            assert_eq!(valid_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "Acme",
            "-x",
            "a b",
            "ñandu",
            &"x".repeat(64),
            "fdk_a_b\n",
        ] {
            assert!(valid_name(bad).is_err(), "{bad:?}");
        }
    }
}
