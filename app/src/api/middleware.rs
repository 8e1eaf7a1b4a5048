//! The middleware stack of the public listener, outermost first:
//! `observe` (bounded metric labels, in-flight accounting that survives dropped requests, request
//! limits, the request timeout, security and cache headers) -> API keys and quotas (`auth`) ->
//! load shedding past the in-flight limit -> panics turned into 500 problems -> the routes.

use super::error::{ApiError, internal};
use crate::telemetry::metrics::{HTTP_ACTIVE, HTTP_DURATION, HTTP_PANICS, HTTP_SHED};
use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tracing::Instrument;

/// Request-level limits of the public listener.
#[derive(Debug, Clone)]
pub struct RequestLimits {
    pub timeout: Duration,
    pub max_in_flight: usize,
    pub max_uri_bytes: usize,
    pub max_header_bytes: usize,
}

/// Route templates, the only values of the `route` label besides `unmatched`.
pub const ROUTES: [&str; 6] = [
    "/v1/events",
    "/v1/flights/{flight_id}",
    "/v1/stats/delays",
    "/openapi.json",
    "/healthz",
    "/readyz",
];

/// Data routes whose success and 5xx series exist from start-up, so the first error of a
/// route is a visible increase to `rate()`.
const PREREGISTERED: [(&str, [&str; 3]); 3] = [
    ("/v1/events", ["200", "500", "503"]),
    ("/v1/flights/{flight_id}", ["200", "500", "503"]),
    ("/v1/stats/delays", ["200", "500", "503"]),
];

/// Status recorded for a request whose client went away before the response (nginx's 499).
pub const CLIENT_CLOSED: u16 = 499;

/// The route template a path belongs to, matched the way the router matches it.
pub fn route_label(path: &str) -> &'static str {
    if let Some(id) = path.strip_prefix("/v1/flights/") {
        return if !id.is_empty() && !id.contains('/') {
            ROUTES[1]
        } else {
            "unmatched"
        };
    }
    ROUTES
        .iter()
        .find(|route| **route == path)
        .copied()
        .unwrap_or("unmatched")
}

/// A closed set, so invented methods cannot create series.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        _ => "_OTHER",
    }
}

/// Registers the series of `PREREGISTERED` at zero.
pub fn preregister_series() {
    for (route, statuses) in PREREGISTERED {
        for status in statuses {
            let _ = metrics::histogram!(HTTP_DURATION, "method" => "GET", "route" => route, "status_code" => status);
        }
    }
    metrics::counter!(HTTP_SHED).increment(0);
    metrics::counter!(HTTP_PANICS).increment(0);
    metrics::gauge!(HTTP_ACTIVE).set(0.0);
}

/// Counts a request in flight until dropped; a request dropped before it finished (the client
/// closed the connection) is recorded as 499 with the time it had run.
struct InFlight {
    started: Instant,
    method: &'static str,
    route: &'static str,
    status: Option<u16>,
}

impl InFlight {
    fn start(method: &'static str, route: &'static str) -> Self {
        metrics::gauge!(HTTP_ACTIVE).increment(1.0);
        Self {
            started: Instant::now(),
            method,
            route,
            status: None,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(HTTP_ACTIVE).decrement(1.0);
        let status = self.status.unwrap_or(CLIENT_CLOSED);
        metrics::histogram!(HTTP_DURATION, "method" => self.method, "route" => self.route, "status_code" => status.to_string())
            .record(self.started.elapsed().as_secs_f64());
    }
}

/// Refuses what no route serves before any work is done: other methods, oversized targets
/// and headers.
fn refuse(request: &Request, limits: &RequestLimits) -> Option<ApiError> {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let method: String = request.method().as_str().chars().take(32).collect();
        return Some(ApiError::MethodNotAllowed(method));
    }
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if target > limits.max_uri_bytes {
        return Some(ApiError::UriTooLong(limits.max_uri_bytes));
    }
    let headers: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers > limits.max_header_bytes {
        return Some(ApiError::HeadersTooLarge(limits.max_header_bytes));
    }
    None
}

/// The outermost layer: metrics, limits, timeout and headers for every response.
async fn observe(
    State(limits): State<Arc<RequestLimits>>,
    request: Request,
    next: Next,
) -> Response {
    let method = method_label(request.method());
    let route = route_label(request.uri().path());
    let mut in_flight = InFlight::start(method, route);
    let span = if crate::telemetry::tracing_enabled() {
        tracing::info_span!(
            "http.request",
            http.method = method,
            http.route = route,
            otel.kind = "server",
            http.status_code = tracing::field::Empty
        )
    } else {
        tracing::Span::none()
    };
    let mut response = match refuse(&request, &limits) {
        Some(refusal) => refusal.into_response(),
        None => {
            match tokio::time::timeout(limits.timeout, next.run(request).instrument(span.clone()))
                .await
            {
                Ok(response) => response,
                Err(_) => ApiError::Timeout.into_response(),
            }
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    let status = response.status().as_u16();
    span.record("http.status_code", status);
    in_flight.status = Some(status);
    response
}

async fn shed(error: tower::BoxError) -> Response {
    if error.is::<tower::load_shed::error::Overloaded>() {
        metrics::counter!(HTTP_SHED).increment(1);
        ApiError::Overloaded.into_response()
    } else {
        tracing::error!(%error, "middleware error");
        internal()
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("non-string panic payload")
}

/// An unforeseen panic becomes a logged, counted 500 problem; the process keeps serving.
fn panicked(panic: Box<dyn Any + Send + 'static>) -> Response {
    metrics::counter!(HTTP_PANICS).increment(1);
    tracing::error!(panic = panic_message(&*panic), "handler panicked");
    internal()
}

/// Wraps `routes` in the whole stack.
pub fn stack(routes: Router, limits: RequestLimits, access: super::auth::Access) -> Router {
    let protected = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(shed))
        .load_shed()
        .concurrency_limit(limits.max_in_flight)
        .layer(CatchPanicLayer::custom(panicked))
        .service(routes);
    Router::new()
        .fallback_service(protected)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(access),
            super::auth::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(limits),
            observe,
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_labels_itself_and_anything_else_is_unmatched() {
        for route in ROUTES {
            assert_eq!(route_label(&route.replace("{flight_id}", "LA800-1")), route);
        }
        for path in [
            "/",
            "/v1/flights/",
            "/v1/flights/a/b",
            "/v1/events/",
            "/metrics",
            "/v1/eventsx",
        ] {
            assert_eq!(route_label(path), "unmatched", "{path}");
        }
    }

    #[test]
    fn methods_map_to_a_closed_set() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::HEAD), "HEAD");
        assert_eq!(
            method_label(&Method::from_bytes(b"M00001").unwrap()),
            "_OTHER"
        );
        assert_eq!(method_label(&Method::POST), "_OTHER");
    }

    #[test]
    fn a_panic_message_is_read_from_either_payload_kind() {
        assert_eq!(panic_message(&"boom"), "boom");
        assert_eq!(panic_message(&String::from("bang")), "bang");
        assert_eq!(panic_message(&42_u8), "non-string panic payload");
    }

    async fn boom() -> &'static str {
        panic!("boom")
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_500_problem_and_the_next_request_is_served() {
        use axum::body::Body;
        use axum::routing::get;
        use tower::ServiceExt;
        let routes = Router::new()
            .route("/boom", get(boom))
            .route("/ok", get(|| async { "ok" }));
        let app = stack(
            routes,
            RequestLimits {
                timeout: Duration::from_secs(1),
                max_in_flight: 4,
                max_uri_bytes: 1_000,
                max_header_bytes: 1_000,
            },
            super::super::auth::Access {
                mode: super::super::auth::AuthMode::Off,
                ring: crate::access::KeyRing::new(crate::access::ring::RingSettings {
                    default_limits: crate::access::quota::Limits {
                        rate: std::num::NonZeroU32::new(1).unwrap(),
                        burst: std::num::NonZeroU32::new(1).unwrap(),
                    },
                    refresh: Duration::from_secs(10),
                    label_limit: 1,
                }),
            },
        );
        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        let response = app.clone().oneshot(get("/boom")).await.unwrap();
        assert_eq!(response.status().as_u16(), 500);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        assert!(
            !String::from_utf8_lossy(&body).contains("boom"),
            "the panic is not echoed"
        );
        let response = app.oneshot(get("/ok")).await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    }
}
