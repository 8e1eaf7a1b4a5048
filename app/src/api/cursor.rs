//! Opaque keyset cursors: base64url of the last item's (event_time, event_id). Only the exact
//! text this API produces is accepted, so one position has one spelling (and one cache key).

use super::error::ApiError;
use crate::db::queries::FeedPosition;
use crate::domain::is_supported_day;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use uuid::Uuid;

/// Longest cursor this API produces ("v1:" + 17-digit micros + ":" + 36-char UUID, base64url).
pub const MAX_LEN: usize = 80;

/// The cursor's documented shape: base64url of at most [`MAX_LEN`] characters (a unit test
/// ties the two).
pub const PATTERN: &str = "^[A-Za-z0-9_-]{1,80}$";

pub fn encode(position: FeedPosition) -> String {
    let raw = format!(
        "v1:{}:{}",
        position.event_time.timestamp_micros(),
        position.event_id.hyphenated()
    );
    URL_SAFE_NO_PAD.encode(raw)
}

pub fn decode(cursor: &str) -> Result<FeedPosition, ApiError> {
    let bad = || {
        ApiError::invalid(
            "cursor",
            "is not a cursor returned by this API (use next_cursor as is)",
        )
    };
    if cursor.len() > MAX_LEN {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| bad())?;
    let mut parts = text.splitn(3, ':');
    let (Some("v1"), Some(micros), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let position = FeedPosition {
        event_time: DateTime::from_timestamp_micros(micros)
            .filter(|t| is_supported_day(t.date_naive()))
            .ok_or_else(bad)?,
        event_id: Uuid::parse_str(id).map_err(|_| bad())?,
    };
    // Leading zeros, '+', other UUID spellings: decodable, but not what this API wrote.
    if encode(position) != cursor {
        return Err(bad());
    }
    Ok(position)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_pattern_allows_the_longest_cursor() {
        assert!(PATTERN.ends_with(&format!("{{1,{MAX_LEN}}}$")));
        let longest = encode(FeedPosition {
            event_time: DateTime::from_timestamp_micros(-62_135_596_800_000_000).unwrap(),
            event_id: Uuid::max(),
        });
        assert!(longest.len() <= MAX_LEN, "{longest}");
    }
    use proptest::prelude::*;

    fn position(micros: i64, id: u128) -> FeedPosition {
        FeedPosition {
            event_time: DateTime::from_timestamp_micros(micros).unwrap(),
            event_id: Uuid::from_u128(id),
        }
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let p = position(1_764_300_000_123_456, 42);
        assert_eq!(decode(&encode(p)).unwrap(), p);
        for garbage in [
            "",
            "!!!",
            "djE6YWJjOmRlZg",
            &URL_SAFE_NO_PAD.encode("v2:1:x"),
        ] {
            assert!(decode(garbage).is_err(), "{garbage}");
        }
    }

    #[test]
    fn other_spellings_of_a_valid_position_are_rejected() {
        let id = Uuid::from_u128(0x0b8e_4a52_4c1e_4e0a_9a53_3f1f_4c2a_9d10);
        let micros = 1_764_300_000_123_456_i64;
        for spelling in [
            format!("v1:0{micros}:{id}"),
            format!("v1:+{micros}:{id}"),
            format!("v1:{micros}:{}", id.hyphenated().to_string().to_uppercase()),
            format!("v1:{micros}:{}", id.simple()),
            format!("v1:{micros}:{}", id.braced()),
            format!("v1:{micros}:{}", id.urn()),
        ] {
            assert!(
                decode(&URL_SAFE_NO_PAD.encode(&spelling)).is_err(),
                "{spelling}"
            );
        }
        assert!(decode(&URL_SAFE_NO_PAD.encode(format!("v1:{micros}:{id}"))).is_ok());
    }

    #[test]
    fn positions_outside_the_supported_days_are_rejected() {
        let id = Uuid::nil();
        for micros in [-1, i64::MIN, 7_258_118_400_000_000 /* 2200-01-01 */] {
            let text = URL_SAFE_NO_PAD.encode(format!("v1:{micros}:{}", id.hyphenated()));
            assert!(decode(&text).is_err(), "{micros}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,120}") {
            let _ = decode(&text);
        }

        #[test]
        fn arbitrary_base64_payloads_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = decode(&URL_SAFE_NO_PAD.encode(raw));
        }

        #[test]
        fn supported_positions_round_trip_exactly(
            micros in 0_i64..7_258_118_400_000_000,
            id in any::<u128>(),
        ) {
            let p = position(micros, id);
            let text = encode(p);
            prop_assert!(text.len() <= MAX_LEN);
            prop_assert_eq!(decode(&text).unwrap(), p);
        }
    }
}
