//! Feed rows to JSON straight from PostgreSQL's binary format: no per-row structs or strings,
//! one pre-sized buffer, byte-for-byte what serde writes for the API's `api::schema::Event`.

use super::DbError;
use crate::domain::FlightStatus;
use std::error::Error;
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, Type};

/// Bytes of one encoded event, to pre-size the page buffer (a typical event is ~370 bytes).
pub const EVENT_BYTES: usize = 400;

/// A column's bytes exactly as PostgreSQL sent them (binary format), whatever its type.
struct Raw<'a>(&'a [u8]);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(Raw(raw))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// Writes one feed row (columns in `EVENT_COLUMNS` order) as a JSON object onto `out`.
pub fn write_event(row: &Row, out: &mut Vec<u8>) -> Result<(), DbError> {
    let column = |i: usize| -> Result<Option<&[u8]>, DbError> {
        Ok(row.try_get::<_, Option<Raw>>(i)?.map(|raw| raw.0))
    };
    let required = |i: usize| -> Result<&[u8], DbError> {
        column(i)?.ok_or_else(|| bad(format!("column {i} is null")))
    };
    out.extend_from_slice(b"{\"event_id\":\"");
    let id: [u8; 16] = required(0)?
        .try_into()
        .map_err(|_| bad("event_id is not 16 bytes".into()))?;
    let mut hyphenated = [0u8; uuid::fmt::Hyphenated::LENGTH];
    out.extend_from_slice(
        uuid::Uuid::from_bytes(id)
            .hyphenated()
            .encode_lower(&mut hyphenated)
            .as_bytes(),
    );
    for (i, name) in [
        (1, "\",\"flight_id\":"),
        (2, ",\"airline\":"),
        (3, ",\"flight_number\":"),
        (4, ",\"origin\":"),
        (5, ",\"destination\":"),
        (6, ",\"status\":"),
    ] {
        out.extend_from_slice(name.as_bytes());
        let text =
            std::str::from_utf8(required(i)?).map_err(|_| bad("text is not UTF-8".into()))?;
        if i == 6 && FlightStatus::parse(text).is_none() {
            return Err(bad(format!("unknown status {text:?}")));
        }
        write_string(text, out);
    }
    out.extend_from_slice(b",\"scheduled_departure\":");
    write_timestamp(required(7)?, out)?;
    out.extend_from_slice(b",\"actual_departure\":");
    match column(8)? {
        Some(raw) => write_timestamp(raw, out)?,
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"delay_minutes\":");
    match column(9)? {
        Some(raw) => {
            let minutes = i32::from_be_bytes(raw.try_into().map_err(|_| bad("int4".into()))?);
            out.extend_from_slice(itoa::Buffer::new().format(minutes).as_bytes());
        }
        None => out.extend_from_slice(b"null"),
    }
    for (i, name) in [
        (10, ",\"event_time\":"),
        (11, ",\"published_at\":"),
        (12, ",\"ingested_at\":"),
    ] {
        out.extend_from_slice(name.as_bytes());
        write_timestamp(required(i)?, out)?;
    }
    out.push(b'}');
    Ok(())
}

fn bad(detail: String) -> DbError {
    DbError::data("flight_events", detail)
}

/// A JSON string: the escapes serde_json writes (`\"`, `\\`, `\n`-style, `\u00XX`). The feed's
/// columns are constrained to plain ASCII, so the copy is the path taken.
fn write_string(text: &str, out: &mut Vec<u8>) {
    if text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        serde_json::to_writer(&mut *out, text).expect("writing to a Vec cannot fail");
    } else {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// A PostgreSQL `timestamptz` (binary) as chrono serializes a `DateTime<Utc>`:
/// `YYYY-MM-DDTHH:MM:SS`, then `.mmm` or `.uuuuuu` when there is a fraction, then `Z`.
fn write_timestamp(raw: &[u8], out: &mut Vec<u8>) -> Result<(), DbError> {
    let micros = i64::from_be_bytes(raw.try_into().map_err(|_| bad("timestamptz".into()))?)
        .checked_add(POSTGRES_EPOCH_MICROS)
        .ok_or_else(|| bad("timestamp out of range".into()))?;
    write_unix_micros(micros, out).ok_or_else(|| bad("timestamp out of range".into()))
}

/// Formats Unix microseconds; `None` outside years 0000-9999 (never stored: the domain keeps
/// event days within 1970-2199 and the service's clock writes the others).
pub fn write_unix_micros(micros: i64, out: &mut Vec<u8>) -> Option<()> {
    let days = micros.div_euclid(86_400_000_000);
    let of_day = micros.rem_euclid(86_400_000_000);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let seconds = of_day / 1_000_000;
    let fraction = (of_day % 1_000_000) as u32;
    let mut text = *b"0000-00-00T00:00:00";
    put_digits(&mut text[0..4], year as u32);
    put_digits(&mut text[5..7], month);
    put_digits(&mut text[8..10], day);
    put_digits(&mut text[11..13], (seconds / 3600) as u32);
    put_digits(&mut text[14..16], (seconds / 60 % 60) as u32);
    put_digits(&mut text[17..19], (seconds % 60) as u32);
    out.push(b'"');
    out.extend_from_slice(&text);
    if fraction != 0 {
        let mut digits = *b".000000";
        put_digits(&mut digits[1..7], fraction);
        let len = if fraction.is_multiple_of(1000) { 4 } else { 7 };
        out.extend_from_slice(&digits[..len]);
    }
    out.extend_from_slice(b"Z\"");
    Some(())
}

/// Writes `value` as zero-padded decimal filling `slot`.
fn put_digits(slot: &mut [u8], mut value: u32) {
    for digit in slot.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Proleptic Gregorian (year, month, day) of days since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use proptest::prelude::*;

    fn formatted(micros: i64) -> Option<String> {
        let mut out = Vec::new();
        write_unix_micros(micros, &mut out)?;
        Some(String::from_utf8(out).unwrap())
    }

    fn string(text: &str) -> String {
        let mut out = Vec::new();
        write_string(text, &mut out);
        String::from_utf8(out).unwrap()
    }

    proptest! {
        #[test]
        fn timestamps_match_chrono_serde(micros in -62_167_219_200_000_000i64..253_402_300_799_999_999) {
            let chrono = DateTime::<Utc>::from_timestamp_micros(micros).unwrap();
            prop_assert_eq!(formatted(micros).unwrap(), serde_json::to_string(&chrono).unwrap());
        }

        #[test]
        fn whole_seconds_and_milliseconds_match_chrono_serde(seconds in 0i64..7_258_118_400, millis in 0i64..1000) {
            for micros in [seconds * 1_000_000, seconds * 1_000_000 + millis * 1000] {
                let chrono = DateTime::<Utc>::from_timestamp_micros(micros).unwrap();
                prop_assert_eq!(formatted(micros).unwrap(), serde_json::to_string(&chrono).unwrap());
            }
        }

        #[test]
        fn strings_match_serde_json(text in "\\PC*|[\"\\\\\\x00-\\x1f]{0,8}") {
            prop_assert_eq!(string(&text), serde_json::to_string(&text).unwrap());
        }
    }

    #[test]
    fn years_outside_four_digits_are_refused() {
        assert_eq!(formatted(-62_167_219_200_000_001), None);
        assert_eq!(formatted(253_402_300_800_000_000), None);
        assert_eq!(formatted(0).as_deref(), Some("\"1970-01-01T00:00:00Z\""));
    }
}
