//! Strict query-string parsing: unknown or malformed parameters are a 400 that names them.

use super::error::ApiError;
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

    /// An optional text parameter that must satisfy `valid` (described by `expected`).
    pub fn text(
        &self,
        name: &'static str,
        expected: &str,
        valid: impl Fn(&str) -> bool,
    ) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if valid(v) => Ok(Some(v.to_string())),
            Some(v) => Err(ApiError::invalid(
                name,
                format!("must be {expected}, got {v:?}"),
            )),
        }
    }
}

pub use crate::domain::event::{is_flight_id, is_iata};

#[cfg(test)]
mod tests {
    use super::*;

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
}
