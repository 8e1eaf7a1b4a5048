//! Opaque keyset cursors: base64url of the last item's (event_time, event_id).

use super::error::ApiError;
use crate::db::queries::FeedPosition;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use uuid::Uuid;

pub fn encode(position: FeedPosition) -> String {
    let raw = format!(
        "v1:{}:{}",
        position.event_time.timestamp_micros(),
        position.event_id
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
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| bad())?;
    let mut parts = text.splitn(3, ':');
    let (Some("v1"), Some(micros), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    Ok(FeedPosition {
        event_time: DateTime::from_timestamp_micros(micros).ok_or_else(bad)?,
        event_id: Uuid::parse_str(id).map_err(|_| bad())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let position = FeedPosition {
            event_time: DateTime::from_timestamp_micros(1_764_300_000_123_456).unwrap(),
            event_id: Uuid::new_v4(),
        };
        assert_eq!(decode(&encode(position)).unwrap(), position);
        for garbage in [
            "",
            "!!!",
            "djE6YWJjOmRlZg",
            &URL_SAFE_NO_PAD.encode("v2:1:x"),
        ] {
            assert!(decode(garbage).is_err(), "{garbage}");
        }
    }
}
