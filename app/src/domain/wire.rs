//! The JSON shape of a schema-v1 message, deserialized in one pass without a JSON tree: each
//! field lands in a [`Slot`] that borrows unescaped strings from the message bytes.

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// One field as received. The decoder, not serde, decides what is valid, so every reason of
/// `DecodeError` stays exact (missing vs null vs wrong type).
#[derive(Debug, Default, PartialEq)]
pub enum Slot<'a> {
    #[default]
    Absent,
    Null,
    Text(Cow<'a, str>),
    Integer(i64),
    /// Any other JSON value (a float, a boolean, an object, an array, a huge integer).
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Slot<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SlotVisitor(std::marker::PhantomData))
    }
}

struct SlotVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for SlotVisitor<'a> {
    type Value = Slot<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Slot::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Slot::Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Slot::Text(Cow::Owned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Slot::Integer(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Slot::Other, Slot::Integer))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Slot::Other)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Slot::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Slot::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Slot::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Slot::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Slot::Other)
    }
}

/// The fields of schema v1; unknown fields are skipped without being kept.
#[derive(Debug, Deserialize)]
pub struct WireEvent<'a> {
    #[serde(borrow, default)]
    pub event_id: Slot<'a>,
    #[serde(borrow, default)]
    pub flight_id: Slot<'a>,
    #[serde(borrow, default)]
    pub airline: Slot<'a>,
    #[serde(borrow, default)]
    pub flight_number: Slot<'a>,
    #[serde(borrow, default)]
    pub origin: Slot<'a>,
    #[serde(borrow, default)]
    pub destination: Slot<'a>,
    #[serde(borrow, default)]
    pub status: Slot<'a>,
    #[serde(borrow, default)]
    pub scheduled_departure: Slot<'a>,
    #[serde(borrow, default)]
    pub actual_departure: Slot<'a>,
    #[serde(borrow, default)]
    pub delay_minutes: Slot<'a>,
    #[serde(borrow, default)]
    pub event_time: Slot<'a>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescaped_strings_are_borrowed_and_escaped_ones_owned() {
        let wire: WireEvent =
            serde_json::from_str(r#"{"origin":"SCL","airline":"L\u0041"}"#).unwrap();
        assert!(matches!(wire.origin, Slot::Text(Cow::Borrowed("SCL"))));
        assert_eq!(wire.airline, Slot::Text(Cow::Owned("LA".into())));
        assert_eq!(wire.destination, Slot::Absent);
    }

    #[test]
    fn every_json_kind_lands_in_a_slot() {
        let wire: WireEvent = serde_json::from_str(
            r#"{"event_id":null,"flight_id":1.5,"airline":true,"origin":[1,{"a":2}],
               "status":{"x":[]},"delay_minutes":18446744073709551615,"event_time":-3}"#,
        )
        .unwrap();
        assert_eq!(wire.event_id, Slot::Null);
        for slot in [
            &wire.flight_id,
            &wire.airline,
            &wire.origin,
            &wire.status,
            &wire.delay_minutes,
        ] {
            assert_eq!(*slot, Slot::Other);
        }
        assert_eq!(wire.event_time, Slot::Integer(-3));
    }
}
