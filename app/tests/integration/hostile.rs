//! Hostile traffic against the real `serve`: slow and idle sockets, floods, invented methods,
//! odd spellings and out-of-range input. Every answer is a 4xx problem or a shed 503, never a
//! crash, and the process stays bounded.

use crate::support::{App, Harness, eventually, metrics};
use futures::StreamExt;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `n` events written straight into the tables (no ingest needed for read-path tests).
async fn seed(h: &Harness, n: i64) {
    h.db.client()
        .await
        .batch_execute(&format!(
            "INSERT INTO flight_events (event_id, flight_id, airline, flight_number, origin, destination,
                 status, scheduled_departure, actual_departure, delay_minutes, event_time, published_at, message_id)
             SELECT gen_random_uuid(), 'F-' || i, 'LA', '800', 'SCL', 'MAD',
                 (ARRAY['scheduled','boarding','departed','arrived','delayed','cancelled'])[1 + i % 6],
                 now() - i * interval '1 minute', NULL, i % 90, now() - i * interval '1 second', now(), 'm' || i
             FROM generate_series(1, {n}) AS i;
             INSERT INTO flights (flight_id, airline, flight_number, origin, destination, status,
                 scheduled_departure, delay_minutes, last_event_id, last_event_time)
             SELECT flight_id, airline, flight_number, origin, destination, status,
                 scheduled_departure, delay_minutes, event_id, event_time FROM flight_events;"
        ))
        .await
        .expect("seed");
}

async fn seeded_api(n: i64, overrides: &[(&str, &str)]) -> (Harness, App) {
    let h = Harness::new().await;
    h.migrate().await;
    seed(&h, n).await;
    let api = h.serve(overrides).await;
    (h, api)
}

fn addr(app: &App) -> String {
    app.http.trim_start_matches("http://").to_string()
}

/// True once the server has closed `socket` (EOF or reset), reading whatever it sent first.
async fn closed_by_server(socket: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0_u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// Waits until at least `n` requests are in flight in `api`.
async fn wait_in_flight(api: &App, n: usize) {
    eventually(
        &format!("{n} request(s) in flight"),
        Duration::from_secs(10),
        || async {
            let m = metrics::scrape(&api.metrics).await;
            (metrics::value(&m, "http_server_active_requests") >= n as f64).then_some(())
        },
    )
    .await;
}

/// Holds an exclusive lock on `flight_events` so every read blocks until it is dropped.
async fn lock_events(h: &Harness) -> tokio_postgres::Client {
    let client = h.db.client().await;
    client
        .batch_execute("BEGIN; LOCK TABLE flight_events IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    client
}

#[tokio::test]
async fn idle_and_half_open_sockets_are_closed_within_the_header_read_timeout() {
    let (_h, api) = seeded_api(10, &[("HTTP_HEADER_READ_TIMEOUT_MS", "1000")]).await;
    let mut sockets = Vec::new();
    for i in 0..200 {
        let mut socket = TcpStream::connect(addr(&api)).await.expect("connect");
        match i % 3 {
            0 => {} // connects and sends nothing
            1 => socket
                .write_all(b"GET /v1/events HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap(), // half a request head
            _ => {
                // a complete request, then the connection idles in keep-alive
                socket
                    .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                    .await
                    .unwrap();
            }
        }
        sockets.push(socket);
    }
    let started = Instant::now();
    let mut closed = 0;
    for socket in &mut sockets {
        let left = Duration::from_secs(10).saturating_sub(started.elapsed());
        if closed_by_server(socket, left).await {
            closed += 1;
        }
    }
    assert_eq!(closed, 200, "sockets closed by the server within 10 s");
    // Still serving afterwards.
    assert_eq!(api.status("/healthz").await, 200);
}

#[tokio::test]
async fn past_the_in_flight_limit_requests_are_shed_with_503_and_retry_after() {
    let (h, api) = seeded_api(
        100,
        &[("HTTP_MAX_IN_FLIGHT", "3"), ("API_CACHE_TTL_MS", "0")],
    )
    .await;
    let lock = lock_events(&h).await;
    let client = api.client();
    let held: Vec<_> = (0..3)
        .map(|i| {
            let request = client
                .get(format!("{}/v1/events?limit={}", api.http, i + 1))
                .send();
            tokio::spawn(request)
        })
        .collect();
    wait_in_flight(&api, 3).await;
    let shed = api.get("/v1/events?limit=7").await;
    assert_eq!(shed.status().as_u16(), 503);
    assert_eq!(shed.headers()["retry-after"], "1");
    assert_eq!(shed.headers()["cache-control"], "no-store");
    let problem: serde_json::Value = shed.json().await.unwrap();
    assert_eq!(problem["type"], "urn:flightdeck:problem:overloaded");
    drop(lock);
    for request in held {
        assert_eq!(request.await.unwrap().unwrap().status().as_u16(), 200);
    }
    assert_eq!(api.status("/v1/events?limit=7").await, 200);
    let m = metrics::scrape(&api.metrics).await;
    assert_eq!(metrics::value(&m, "flightdeck_http_shed_total"), 1.0);
}

#[tokio::test]
async fn a_client_that_disconnects_mid_request_leaves_nothing_in_flight_and_is_recorded_as_499() {
    let (h, api) = seeded_api(10, &[("API_CACHE_TTL_MS", "0")]).await;
    let lock = lock_events(&h).await;
    let impatient = api
        .client_builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let result = impatient
        .get(format!("{}/v1/events", api.http))
        .send()
        .await;
    assert!(result.is_err(), "the client gave up");
    eventually("the dropped request is no longer in flight", Duration::from_secs(10), || async {
        let m = metrics::scrape(&api.metrics).await;
        let gone = metrics::value(&m, "http_server_active_requests") == 0.0;
        let recorded = metrics::value(
            &m,
            r#"http_server_request_duration_seconds_count{method="GET",route="/v1/events",status_code="499"}"#,
        ) == 1.0;
        (gone && recorded).then_some(())
    })
    .await;
    drop(lock);
    assert_eq!(api.status("/v1/events").await, 200);
}

#[tokio::test]
async fn hostile_input_gets_a_4xx_problem_and_never_a_5xx() {
    let (_h, api) = seeded_api(50, &[]).await;
    let page: serde_json::Value = api.get_json("/v1/events?limit=2", 200).await;
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let long = "a".repeat(5_000);
    let cases: Vec<(String, u16, &str)> = vec![
        (
            "/v1/stats/delays?origin=SCL&to=-262143-01-01".into(),
            400,
            "to",
        ),
        (
            "/v1/stats/delays?origin=SCL&to=%2B262142-12-31".into(),
            400,
            "to",
        ),
        (
            "/v1/stats/delays?origin=SCL&to=-4714-01-01".into(),
            400,
            "to",
        ),
        (
            "/v1/stats/delays?origin=SCL&from=1970-01-01&to=1970-01-02".into(),
            200,
            "",
        ),
        ("/v1/stats/delays?origin=SCL&to=1970-01-01".into(), 200, ""),
        ("/v1/stats/delays?origin=SCL&to=2199-12-31".into(), 200, ""),
        (
            "/v1/stats/delays?origin=SCL&to=2200-01-01".into(),
            400,
            "to",
        ),
        // A cursor dated before 4713 BC, and other spellings of a valid one.
        (
            format!(
                "/v1/events?cursor={}",
                b64("v1:-210866803200000001:00000000-0000-0000-0000-000000000000")
            ),
            400,
            "cursor",
        ),
        (
            format!(
                "/v1/events?cursor={}",
                b64(&format!("v1:0{}", &decoded(&cursor)[3..]))
            ),
            400,
            "cursor",
        ),
        (
            format!(
                "/v1/events?cursor={}",
                b64(&decoded(&cursor).to_uppercase().replace("V1:", "v1:"))
            ),
            400,
            "cursor",
        ),
        (format!("/v1/events?cursor={cursor}&limit=2"), 200, ""),
        (format!("/v1/events?cursor={long}"), 414, ""),
        ("/v1/flights/%FF%FE".into(), 400, "flight_id"),
        ("/v1/flights/a%2Fb".into(), 400, "flight_id"),
        (
            "/v1/events?limit=99999999999999999999999".into(),
            400,
            "limit",
        ),
    ];
    for (path, status, parameter) in cases {
        let response = api.get(&path).await;
        assert_eq!(response.status().as_u16(), status, "GET {path}");
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
        if status >= 400 {
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json",
                "{path}"
            );
            assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
            let problem: serde_json::Value = response.json().await.unwrap();
            if !parameter.is_empty() {
                assert_eq!(problem["parameter"], parameter, "{path}: {problem}");
            }
        }
    }
    let big_header = api
        .client()
        .get(format!("{}/v1/events", api.http))
        .header("x-padding", "p".repeat(20_000))
        .send()
        .await
        .unwrap();
    assert_eq!(big_header.status().as_u16(), 431);
    let posted = api
        .client()
        .post(format!("{}/v1/events", api.http))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status().as_u16(), 405);
    assert_eq!(posted.headers()["allow"], "GET, HEAD");
    let m = metrics::scrape(&api.metrics).await;
    let server_errors: f64 = m
        .iter()
        .filter(|(k, _)| {
            k.starts_with("http_server_request_duration_seconds_count")
                && k.contains("status_code=\"5")
        })
        .map(|(_, v)| v)
        .sum();
    assert_eq!(server_errors, 0.0, "no 5xx from client input");
}

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn decoded(cursor: &str) -> String {
    use base64::Engine;
    String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn invented_methods_get_405_problems_and_add_no_series() {
    let (_h, api) = seeded_api(1, &[]).await;
    // The readiness check has run (its pool series exist) before /metrics is first counted.
    api.wait_ready().await;
    let client = api.client();
    let send = |n: usize| {
        let method = reqwest::Method::from_bytes(format!("M{n:05}").as_bytes()).unwrap();
        client
            .request(method, format!("{}/v1/events", api.http))
            .send()
    };
    send(0).await.unwrap();
    let before = reqwest::get(&api.metrics)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .lines()
        .count();
    for n in 1..=500 {
        let response = send(n).await.unwrap();
        assert_eq!(response.status().as_u16(), 405);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    let after = reqwest::get(&api.metrics)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .lines()
        .count();
    assert_eq!(after, before, "500 invented methods added /metrics lines");
    let m = metrics::scrape(&api.metrics).await;
    assert_eq!(
        metrics::value(
            &m,
            r#"http_server_request_duration_seconds_count{method="_OTHER",route="/v1/events",status_code="405"}"#
        ),
        501.0
    );
}

#[tokio::test]
async fn the_cache_stays_inside_its_byte_budget_under_thousands_of_distinct_keys() {
    const BUDGET: f64 = 300_000.0;
    let (_h, api) = seeded_api(
        600,
        &[
            ("API_CACHE_MAX_BYTES", "300000"),
            ("API_CACHE_TTL_MS", "60000"),
        ],
    )
    .await;
    let client = api.client();
    let statuses = [
        "scheduled",
        "boarding",
        "departed",
        "arrived",
        "delayed",
        "cancelled",
    ];
    let mut peak: f64 = 0.0;
    for limit in 1..=500 {
        let requests = statuses.iter().map(|status| {
            client
                .get(format!(
                    "{}/v1/events?limit={limit}&status={status}",
                    api.http
                ))
                .send()
        });
        for response in futures::future::join_all(requests).await {
            assert_eq!(response.unwrap().status().as_u16(), 200);
        }
        if limit % 50 == 0 {
            let m = metrics::scrape(&api.metrics).await;
            peak = peak.max(metrics::value(&m, "flightdeck_api_cache_bytes"));
        }
    }
    let m = metrics::scrape(&api.metrics).await;
    assert!(
        peak > BUDGET * 0.5 && peak <= BUDGET,
        "cache held {peak} bytes (budget {BUDGET})"
    );
    assert!(
        metrics::value(
            &m,
            r#"flightdeck_api_cache_evictions_total{reason="budget"}"#
        ) > 0.0
    );
}

#[tokio::test]
async fn entity_tags_turn_repeated_reads_into_304s_and_data_carries_cache_headers() {
    let (_h, api) = seeded_api(20, &[]).await;
    for path in [
        "/v1/events?limit=5",
        "/v1/flights/F-3",
        "/v1/stats/delays?origin=SCL",
    ] {
        let first = api.get(path).await;
        assert_eq!(first.status().as_u16(), 200, "{path}");
        let etag = first.headers()["etag"].clone();
        let cache_control = first.headers()["cache-control"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            cache_control == "max-age=1" || cache_control == "no-cache",
            "{path}: {cache_control}"
        );
        assert_eq!(first.headers()["x-content-type-options"], "nosniff");
        let again = api
            .client()
            .get(format!("{}{path}", api.http))
            .header("if-none-match", etag.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{path}");
        assert_eq!(again.headers()["etag"], etag);
        assert!(again.bytes().await.unwrap().is_empty());
        let other = api
            .client()
            .get(format!("{}{path}", api.http))
            .header("if-none-match", "\"something-else\"")
            .send()
            .await
            .unwrap();
        assert_eq!(other.status().as_u16(), 200, "{path}");
    }
}

#[tokio::test]
async fn sigterm_drains_then_exits_even_with_a_slow_client_attached() {
    let (h, mut api) = seeded_api(
        10,
        &[
            ("HTTP_SHUTDOWN_GRACE_MS", "1000"),
            ("API_CACHE_TTL_MS", "0"),
        ],
    )
    .await;
    let _lock = lock_events(&h).await;
    let stuck = tokio::spawn(api.client().get(format!("{}/v1/events", api.http)).send());
    let mut idle = TcpStream::connect(addr(&api)).await.unwrap();
    idle.write_all(b"GET /v1/ev").await.unwrap();
    wait_in_flight(&api, 1).await;
    let started = Instant::now();
    api.signal(nix::sys::signal::Signal::SIGTERM);
    let status = api.wait(Duration::from_secs(10)).await;
    assert!(status.success(), "exit status {status}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "exited {:?} after SIGTERM",
        started.elapsed()
    );
    // The slow request was cut at the deadline rather than answered.
    assert!(stuck.await.unwrap().is_err());
    assert!(closed_by_server(&mut idle, Duration::from_secs(1)).await);
}

#[tokio::test]
async fn readiness_is_held_in_memory_accepts_a_newer_schema_and_says_nothing_internal() {
    let (h, api) = seeded_api(1, &[("READINESS_INTERVAL_MS", "200")]).await;
    api.wait_ready().await;
    // A newer build applied migration 999 (expand-only): this build keeps serving.
    h.db.client()
        .await
        .batch_execute("INSERT INTO flightdeck_schema_migrations (version, name, checksum) VALUES (999, 'future', 'x')")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(api.status("/readyz").await, 200);
    h.db.cut_off().await;
    let body: serde_json::Value = eventually(
        "unready once the database is gone",
        Duration::from_secs(10),
        || async {
            let response = api.get("/readyz").await;
            if response.status().as_u16() == 503 {
                response.json().await.ok()
            } else {
                None
            }
        },
    )
    .await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        !detail.contains("database") && !detail.contains("migration"),
        "{detail}"
    );
    let m = metrics::scrape(&api.metrics).await;
    assert_eq!(
        metrics::value(&m, r#"flightdeck_unready{reason="database_unreachable"}"#),
        1.0
    );
    assert_eq!(metrics::value(&m, "flightdeck_ready"), 0.0);
    h.db.restore().await;
    eventually("ready again", Duration::from_secs(10), || async {
        (api.status("/readyz").await == 200).then_some(())
    })
    .await;
}

/// Spellings of one cursor position the API never produces (each would have been a distinct
/// cache key and a full page of 500 events before cursors had to be canonical).
fn respelled(cursor: &str, n: usize) -> String {
    let text = decoded(cursor);
    let (micros, id) = text["v1:".len()..].split_once(':').unwrap();
    let uuid = uuid::Uuid::parse_str(id).unwrap();
    let id = match n % 5 {
        0 => uuid.hyphenated().to_string().to_uppercase(),
        1 => uuid.simple().to_string(),
        2 => uuid.braced().to_string(),
        3 => uuid.urn().to_string(),
        _ => uuid.hyphenated().to_string(),
    };
    b64(&format!("v1:{}{micros}:{id}", "0".repeat(1 + n / 5)))
}

#[tokio::test]
async fn ten_thousand_distinct_hostile_requests_leave_memory_and_metrics_bounded() {
    /// The issue's numbers: RSS growth and /metrics growth after 10,000 hostile requests.
    const RSS_GROWTH_MB: f64 = 64.0;
    const METRICS_GROWTH_LINES: usize = 200;
    let (_h, api) = seeded_api(1_000, &[]).await;
    api.wait_ready().await;
    let page: serde_json::Value = api.get_json("/v1/events?limit=2", 200).await;
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let metrics_lines = || async {
        reqwest::get(&api.metrics)
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .lines()
            .count()
    };
    // Warm-up: every route and status seen once, so later series are the hostile ones only.
    for path in [
        "/v1/events?limit=1",
        "/v1/events?limit=0",
        "/nope",
        "/v1/flights/x",
    ] {
        api.get(path).await;
    }
    let rss_before = api.memory_mb("VmRSS");
    let lines_before = metrics_lines().await;
    let client = api.client();
    let requests = (0..10_000).map(|n| {
        let request = match n % 4 {
            0 | 1 => client.get(format!(
                "{}/v1/events?limit=500&cursor={}",
                api.http,
                respelled(&cursor, n)
            )),
            2 => client.request(
                reqwest::Method::from_bytes(format!("M{n:05}").as_bytes()).unwrap(),
                format!("{}/v1/events?limit=500", api.http),
            ),
            _ => client.get(format!(
                "{}/v1/stats/delays?origin=SCL&to=-{:06}-01-01",
                api.http,
                4714 + n
            )),
        };
        request.send()
    });
    let mut statuses = std::collections::BTreeMap::new();
    let mut stream = futures::stream::iter(requests).buffer_unordered(32);
    while let Some(response) = futures::StreamExt::next(&mut stream).await {
        *statuses
            .entry(response.unwrap().status().as_u16())
            .or_insert(0) += 1;
    }
    assert_eq!(
        statuses,
        [(400, 7_500), (405, 2_500)].into_iter().collect(),
        "every hostile request refused"
    );
    let rss_growth = api.memory_mb("VmRSS") - rss_before;
    let lines_growth = metrics_lines().await.saturating_sub(lines_before);
    eprintln!("10,000 hostile requests: RSS +{rss_growth:.1} MB, /metrics +{lines_growth} lines");
    assert!(rss_growth < RSS_GROWTH_MB, "RSS grew {rss_growth:.1} MB");
    assert!(
        lines_growth < METRICS_GROWTH_LINES,
        "/metrics grew {lines_growth} lines"
    );
}
