//! Strict query-string parsing: unknown or malformed parameters are a 400 that names them.

use super::error::ApiError;
use crate::domain::event::TextRule;
use crate::domain::{FIRST_DAY, LAST_DAY, is_supported_day};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::ops::RangeInclusive;

/// Query parameters of one request, checked against the names a route accepts.
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn parse(raw: Option<&str>, allowed: &[&'static str]) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
            .map_err(|_| ApiError::invalid("query", "is not valid URL encoding"))?;
        let mut map = HashMap::new();
        for (key, value) in pairs {
            let Some(name) = allowed.iter().find(|a| **a == key) else {
                return Err(ApiError::InvalidParameter {
                    name: "query",
                    detail: format!(
                        "unknown parameter {key:?}; accepted: {}",
                        allowed.join(", ")
                    ),
                });
            };
            if map.insert(key, value).is_some() {
                return Err(ApiError::invalid(name, "is given more than once"));
            }
        }
        Ok(Self(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn integer(
        &self,
        name: &'static str,
        default: i64,
        range: RangeInclusive<i64>,
    ) -> Result<i64, ApiError> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        raw.parse::<i64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                ApiError::invalid(
                    name,
                    format!(
                        "must be an integer from {} to {}, got {raw:?}",
                        range.start(),
                        range.end()
                    ),
                )
            })
    }

    /// A day as `YYYY-MM-DD` inside the supported range, or `default` when absent.
    pub fn date(&self, name: &'static str, default: NaiveDate) -> Result<NaiveDate, ApiError> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        let shaped = raw.len() == 10
            && raw.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        shaped
            .then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
            .flatten()
            .filter(|d| is_supported_day(*d))
            .ok_or_else(|| {
                ApiError::invalid(
                    name,
                    format!(
                        "must be a date YYYY-MM-DD from {FIRST_DAY} to {LAST_DAY}, got {raw:?}"
                    ),
                )
            })
    }

    /// An optional text parameter that must obey `rule`.
    pub fn text(&self, name: &'static str, rule: TextRule) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => rule.refusal(name, v).map_or(Ok(Some(v.to_string())), Err),
        }
    }
}

impl TextRule {
    /// The 400 problem for a `value` of parameter `name` that breaks this rule, if it does.
    pub fn refusal(&self, name: &'static str, value: &str) -> Option<ApiError> {
        (!self.accepts(value))
            .then(|| ApiError::invalid(name, format!("must be {}, got {value:?}", self.expected)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn name_of(err: ApiError) -> &'static str {
        match err {
            ApiError::InvalidParameter { name, .. } => name,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_and_repeated_parameters_are_rejected() {
        assert_eq!(
            name_of(Params::parse(Some("orign=SCL"), &["origin"]).err().unwrap()),
            "query"
        );
        assert_eq!(
            name_of(
                Params::parse(Some("origin=SCL&origin=LIM"), &["origin"])
                    .err()
                    .unwrap()
            ),
            "origin"
        );
    }

    #[test]
    fn integers_outside_the_range_name_the_parameter() {
        let params = Params::parse(Some("limit=501"), &["limit"]).unwrap();
        assert_eq!(
            name_of(params.integer("limit", 50, 1..=500).unwrap_err()),
            "limit"
        );
        let params = Params::parse(Some("limit=abc"), &["limit"]).unwrap();
        assert_eq!(
            name_of(params.integer("limit", 50, 1..=500).unwrap_err()),
            "limit"
        );
        let params = Params::parse(None, &["limit"]).unwrap();
        assert_eq!(params.integer("limit", 50, 1..=500).unwrap(), 50);
    }

    #[test]
    fn dates_outside_the_supported_days_or_oddly_spelled_are_rejected() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        for raw in [
            "-262143-01-01",
            "+262142-12-31",
            "-4714-01-01",
            "1969-12-31",
            "2200-01-01",
            "2026-1-05",
            "2026-02-30",
            " 2026-01-05",
        ] {
            let query = serde_urlencoded::to_string([("to", raw)]).unwrap();
            let params = Params::parse(Some(&query), &["to"]).unwrap();
            assert_eq!(
                name_of(params.date("to", today).unwrap_err()),
                "to",
                "{raw}"
            );
        }
        let params = Params::parse(Some("to=2199-12-31"), &["to"]).unwrap();
        assert_eq!(params.date("to", today).unwrap(), LAST_DAY);
        let params = Params::parse(None, &["to"]).unwrap();
        assert_eq!(params.date("to", today).unwrap(), today);
    }

    proptest! {
        #[test]
        fn arbitrary_query_strings_never_panic(raw in ".{0,200}") {
            if let Ok(params) = Params::parse(Some(&raw), &["limit", "to", "origin"]) {
                let _ = params.integer("limit", 50, 1..=500);
                let _ = params.date("to", FIRST_DAY);
                let _ = params.text("origin", crate::domain::event::IATA);
            }
        }

        #[test]
        fn supported_dates_round_trip(days in 0_u64..84_006) {
            let day = FIRST_DAY + chrono::Days::new(days);
            let query = format!("to={day}");
            let params = Params::parse(Some(&query), &["to"]).unwrap();
            prop_assert_eq!(params.date("to", FIRST_DAY).unwrap(), day);
        }

        #[test]
        fn in_range_integers_parse_and_others_are_rejected(n in any::<i64>()) {
            let query = format!("limit={n}");
            let params = Params::parse(Some(&query), &["limit"]).unwrap();
            let parsed = params.integer("limit", 50, 1..=500);
            prop_assert_eq!(parsed.is_ok(), (1..=500).contains(&n));
        }
    }
}
