//! API keys on the public listener: who is calling (401 without a valid key), how much they may
//! call (429 past their quota, with `Retry-After` and `RateLimit` headers on every answer), and
//! per-consumer metrics with a bounded `consumer` label.

use super::error::ApiError;
use crate::access::quota::{self, Decision};
use crate::access::ring::ANONYMOUS;
use crate::access::{KeyRing, Verdict};
pub use crate::config::AuthMode;
use crate::telemetry::metrics::{CONSUMER_DURATION, CONSUMER_REQUESTS};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Instant;

/// Paths anyone may call: probes and the API description.
pub const OPEN_PATHS: [&str; 3] = ["/healthz", "/readyz", "/openapi.json"];

const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// What the auth layer needs.
#[derive(Clone)]
pub struct Access {
    pub mode: AuthMode,
    pub ring: KeyRing,
}

/// The key a request presents: `Authorization: Bearer <key>`, else `X-API-Key`. Another
/// `Authorization` scheme is presented as itself, so it is refused as invalid, not missing.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let text = value.to_str().unwrap_or("");
        return Some(match text.split_once(' ') {
            Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => key.trim(),
            _ => text,
        });
    }
    headers.get(X_API_KEY).map(|v| v.to_str().unwrap_or(""))
}

/// Records one request of a consumer when dropped, so an abandoned request counts as 499 here
/// too (as in `http_server_request_duration_seconds`).
struct ConsumerRequest {
    consumer: Arc<str>,
    started: Instant,
    status: Option<u16>,
}

impl Drop for ConsumerRequest {
    fn drop(&mut self) {
        let status = self.status.unwrap_or(super::middleware::CLIENT_CLOSED);
        let consumer = self.consumer.to_string();
        metrics::counter!(CONSUMER_REQUESTS, "consumer" => consumer.clone(), "status_code" => status.to_string())
            .increment(1);
        metrics::histogram!(CONSUMER_DURATION, "consumer" => consumer)
            .record(self.started.elapsed().as_secs_f64());
    }
}

/// Registers the anonymous 401 series at zero, so the first refused request is a visible rise.
pub fn preregister_series() {
    metrics::counter!(CONSUMER_REQUESTS, "consumer" => ANONYMOUS, "status_code" => "401")
        .increment(0);
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(name, value);
    }
}

/// The auth layer: sits inside `observe` (so refusals are measured and carry its headers) and
/// outside load shedding (so a throttled consumer never takes an in-flight slot).
pub async fn authenticate(
    State(access): State<Arc<Access>>,
    request: Request,
    next: Next,
) -> Response {
    if OPEN_PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let mut record = ConsumerRequest {
        consumer: ANONYMOUS.into(),
        started: Instant::now(),
        status: None,
    };
    let verdict = match access.mode {
        AuthMode::Off => None,
        AuthMode::Required => Some(access.ring.check(presented_key(request.headers()))),
    };
    let response = match verdict {
        None => next.run(request).await,
        Some(Verdict::Missing) => ApiError::MissingKey.into_response(),
        Some(Verdict::Invalid) => ApiError::InvalidKey.into_response(),
        Some(Verdict::Unavailable) => ApiError::KeysUnavailable.into_response(),
        Some(Verdict::Admitted(consumer, decision)) => {
            record.consumer = consumer.label.clone();
            let mut response = match decision {
                Decision::Allowed { .. } => next.run(request).await,
                Decision::Throttled { retry_after } => ApiError::OverQuota {
                    retry_after_secs: quota::retry_after_secs(retry_after),
                }
                .into_response(),
            };
            let headers = response.headers_mut();
            set(headers, RATELIMIT_POLICY, consumer.limits.policy_header());
            set(headers, RATELIMIT, consumer.limits.state_header(decision));
            response
        }
    };
    record.status = Some(response.status().as_u16());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn the_key_comes_from_bearer_then_x_api_key() {
        assert_eq!(presented_key(&headers(&[])), None);
        assert_eq!(
            presented_key(&headers(&[("authorization", "Bearer fdk_x")])),
            Some("fdk_x")
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "bearer  fdk_x ")])),
            Some("fdk_x")
        );
        assert_eq!(
            presented_key(&headers(&[("x-api-key", "fdk_y")])),
            Some("fdk_y")
        );
        assert_eq!(
            presented_key(&headers(&[
                ("authorization", "Bearer fdk_x"),
                ("x-api-key", "fdk_y")
            ])),
            Some("fdk_x")
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "Basic dXNlcjpwYXNz")])),
            Some("Basic dXNlcjpwYXNz"),
            "another scheme is refused as an invalid key"
        );
    }
}
