//! The HTTP API: routes, shared context, problem+json errors, conditional responses, and the
//! middleware stack that keeps it bounded (see `middleware`).

pub(crate) mod auth;
pub(crate) mod cache;
pub(crate) mod compression;
pub(crate) mod cursor;
pub(crate) mod error;
pub mod events;
pub mod flights;
pub(crate) mod health;
pub(crate) mod middleware;
pub(crate) mod openapi;
pub(crate) mod params;
pub mod schema;
pub mod stats;

use crate::config::HttpSettings;
use crate::db::Pool;
use crate::health::Readiness;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cache::Representation;
use std::sync::Arc;
use std::time::Duration;

/// What every handler can reach: the pool, the micro-cache and the readiness verdict.
#[derive(Clone)]
pub struct ApiContext {
    pub pool: Pool,
    pub cache: Arc<cache::ApiCache>,
    pub readiness: Readiness,
    /// `Cache-Control` of cached data responses: the micro-cache's staleness bound.
    pub cache_control: HeaderValue,
}

impl ApiContext {
    pub fn new(pool: Pool, readiness: Readiness, settings: &HttpSettings) -> Self {
        Self {
            cache: Arc::new(cache::ApiCache::new(
                settings.cache_ttl,
                settings.cache_max_bytes,
            )),
            cache_control: cache_control_for(settings.cache_ttl),
            readiness,
            pool,
        }
    }
}

/// `max-age` equal to the staleness bound (rounded down to whole seconds); `no-cache`
/// (revalidate every time) when data can be younger than a second.
fn cache_control_for(ttl: Duration) -> HeaderValue {
    match ttl.as_secs() {
        0 => HeaderValue::from_static("no-cache"),
        secs => HeaderValue::from_str(&format!("max-age={secs}")).expect("ascii"),
    }
}

/// The public routes of `serve`, without the middleware stack; `/metrics` is deliberately not
/// here (own port).
pub fn routes(context: ApiContext) -> Router {
    Router::new()
        .merge(events::router())
        .merge(flights::router())
        .merge(stats::router())
        .merge(openapi::router())
        .merge(health::router())
        .fallback(error::not_found_fallback)
        .with_state(context)
}

/// True when `If-None-Match` names the representation's tag or the identity tag of the same
/// body (weak comparison, as RFC 9110 asks for this header): any coding of a current body is
/// a current copy.
fn none_match(request: &HeaderMap, representation: &Representation) -> bool {
    let Some(Ok(list)) = request.get(header::IF_NONE_MATCH).map(|v| v.to_str()) else {
        return false;
    };
    let tags = [
        representation.etag.as_bytes(),
        representation.identity_etag.as_bytes(),
    ];
    list.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tags.contains(&tag.strip_prefix("W/").unwrap_or(tag).as_bytes()))
}

/// A 200 JSON response with its `ETag`, `Cache-Control`, `Vary: Accept-Encoding` and, when
/// compressed, `Content-Encoding`; or a bodiless 304 when the client already holds that entity.
pub fn conditional_json(
    request: &HeaderMap,
    representation: &Representation,
    cache_control: &HeaderValue,
) -> Response {
    let mut response = if none_match(request, representation) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            representation.body.clone(),
        )
            .into_response();
        if let Some(coding) = representation.coding {
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, coding.header_value());
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, representation.etag.clone());
    headers.insert(header::CACHE_CONTROL, cache_control.clone());
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_the_wildcard() {
        let cached = cache::Cached::new(bytes::Bytes::from_static(b"{}"))
            .represent(None)
            .0;
        let tag = cached.etag.to_str().unwrap().to_string();
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
            none_match(&headers, &cached)
        };
        assert!(with(&tag));
        assert!(with(&format!("\"other\", W/{tag}")));
        assert!(with("*"));
        assert!(!with("\"other\""));
        assert!(!none_match(&HeaderMap::new(), &cached));
    }

    #[test]
    fn cache_control_follows_the_staleness_bound() {
        assert_eq!(cache_control_for(Duration::from_millis(1_000)), "max-age=1");
        assert_eq!(cache_control_for(Duration::from_millis(2_500)), "max-age=2");
        assert_eq!(cache_control_for(Duration::from_millis(500)), "no-cache");
    }
}
