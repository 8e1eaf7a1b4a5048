//! Third-party access: API keys (401 without a valid one), revocation within the refresh bound,
//! per-key quotas (429 with Retry-After and RateLimit headers), secrets kept out of logs and
//! listings, and per-consumer metrics.

use crate::support::{App, Harness, app::keyed_client, eventually, metrics};
use std::time::{Duration, Instant};

async fn migrated_api(overrides: &[(&str, &str)]) -> (Harness, App) {
    let h = Harness::new().await;
    h.migrate().await;
    let api = h.serve(overrides).await;
    (h, api)
}

async fn get_with(api: &App, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{}{path}", api.http));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request")
}

#[tokio::test]
async fn data_needs_a_valid_key_and_probes_and_the_description_do_not() {
    let (_h, api) = migrated_api(&[]).await;
    let missing = get_with(&api, "/v1/events", &[]).await;
    assert_eq!(missing.status().as_u16(), 401);
    assert_eq!(
        missing.headers()["www-authenticate"],
        "Bearer realm=\"flightdeck\""
    );
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(problem["type"], "urn:flightdeck:problem:unauthorized");

    let forged = format!("fdk_0123456789ab_{}", "A".repeat(43));
    for headers in [
        vec![("authorization", format!("Bearer {forged}"))],
        vec![("x-api-key", forged.clone())],
        vec![("authorization", "Basic dXNlcjpwYXNz".to_string())],
        vec![("authorization", "Bearer not-a-key".to_string())],
    ] {
        let headers: Vec<_> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let refused = get_with(&api, "/v1/stats/delays?origin=SCL", &headers).await;
        assert_eq!(refused.status().as_u16(), 401, "{headers:?}");
        assert!(
            refused.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("error=\"invalid_token\""),
            "{headers:?}"
        );
    }

    let key = api.key.clone().unwrap();
    let by_header = get_with(&api, "/v1/events?limit=1", &[("x-api-key", &key)]).await;
    assert_eq!(by_header.status().as_u16(), 200);
    let bearer = get_with(
        &api,
        "/v1/events?limit=1",
        &[("authorization", &format!("Bearer {key}"))],
    )
    .await;
    assert_eq!(bearer.status().as_u16(), 200);
    assert!(bearer.headers().contains_key("ratelimit-policy"));
    assert!(bearer.headers().contains_key("ratelimit"));

    for open in ["/healthz", "/readyz", "/openapi.json"] {
        assert_eq!(
            get_with(&api, open, &[]).await.status().as_u16(),
            200,
            "{open}"
        );
    }
    let m = metrics::scrape(&api.metrics).await;
    assert_eq!(
        metrics::value(
            &m,
            r#"flightdeck_api_consumer_requests_total{consumer="_anonymous",status_code="401"}"#
        ),
        5.0
    );
    assert_eq!(
        metrics::value(
            &m,
            r#"flightdeck_api_consumer_requests_total{consumer="integration-tests",status_code="200"}"#
        ),
        2.0
    );
}

#[tokio::test]
async fn a_revoked_key_is_refused_within_the_refresh_interval() {
    let (h, api) = migrated_api(&[]).await;
    let key = h.create_key("leaving", 100, 100).await;
    let client = keyed_client(&key);
    let url = format!("{}/v1/events?limit=1", api.http);
    eventually("the new key is loaded", Duration::from_secs(5), || async {
        (client.get(&url).send().await.unwrap().status() == 200).then_some(())
    })
    .await;
    let out = h.apikey(&["revoke", "leaving"]).await;
    assert!(out.contains("revoked"), "{out}");
    let revoked_at = Instant::now();
    // API_KEYS_REFRESH_MS is 200 in the harness; allow ten reload periods on a busy machine.
    eventually(
        "the revoked key is refused",
        Duration::from_secs(2),
        || async { (client.get(&url).send().await.unwrap().status() == 401).then_some(()) },
    )
    .await;
    eprintln!("revocation took effect after {:?}", revoked_at.elapsed());
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    // The consumer's original key still works.
    assert_eq!(api.status("/v1/events?limit=1").await, 200);
}

/// Requests `key` sends before its first 429, and that 429.
async fn until_throttled(api: &App, key: &str) -> (u32, Duration, reqwest::Response) {
    let client = keyed_client(key);
    let started = Instant::now();
    for admitted in 0..1_000 {
        let response = client
            .get(format!("{}/v1/events?limit=1", api.http))
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            200 => {}
            429 => return (admitted, started.elapsed(), response),
            other => panic!("unexpected {other}"),
        }
    }
    panic!("never throttled");
}

#[tokio::test]
async fn two_keys_are_throttled_independently_after_their_own_burst() {
    let (h, api) = migrated_api(&[]).await;
    let small = h.create_key("small", 1, 3).await;
    let large = h.create_key("large", 1, 8).await;
    eventually("both keys loaded", Duration::from_secs(5), || async {
        let m = metrics::scrape(&api.metrics).await;
        (metrics::value(&m, "flightdeck_api_keys_active") >= 3.0).then_some(())
    })
    .await;

    for (key, burst, name) in [(&small, 3, "small"), (&large, 8, "large")] {
        let (admitted, elapsed, throttled) = until_throttled(&api, key).await;
        // At 1 request per second, the bucket refills one request per elapsed second.
        let refilled = elapsed.as_secs() as u32 + 1;
        assert!(
            admitted >= burst && admitted <= burst + refilled,
            "{name}: {admitted} admitted before the first 429 in {elapsed:?} (burst {burst})"
        );
        let headers = throttled.headers();
        let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(
            (1..=1).contains(&retry_after),
            "{name}: Retry-After {retry_after}"
        );
        assert_eq!(
            headers["ratelimit-policy"],
            format!("\"burst\";q={burst};w={burst}").as_str(),
            "{name}"
        );
        assert_eq!(headers["ratelimit"], "\"burst\";r=0;t=1", "{name}");
        assert_eq!(headers["content-type"], "application/problem+json");
        let problem: serde_json::Value = throttled.json().await.unwrap();
        assert_eq!(problem["type"], "urn:flightdeck:problem:over-quota");
    }
    // The harness's own key was never throttled by the others.
    assert_eq!(api.status("/v1/events?limit=1").await, 200);
    let m = metrics::scrape(&api.metrics).await;
    for name in ["small", "large"] {
        let series = format!(
            r#"flightdeck_api_consumer_requests_total{{consumer="{name}",status_code="429"}}"#
        );
        assert_eq!(metrics::value(&m, &series), 1.0, "{series}");
    }
    assert_eq!(
        metrics::value(&m, "flightdeck_http_shed_total"),
        0.0,
        "throttled requests never take an in-flight slot"
    );
}

#[tokio::test]
async fn secrets_never_reach_logs_or_listings() {
    let (h, api) = migrated_api(&[("RUST_LOG", "debug")]).await;
    let key = api.key.clone().unwrap();
    let secret = key.rsplit_once('_').map(|(_, s)| s).unwrap().to_string();
    let prefix = &key[4..16];
    assert_eq!(api.status("/v1/events?limit=1").await, 200);
    let wrong = format!("fdk_{prefix}_{}", "B".repeat(43));
    let refused = get_with(
        &api,
        "/v1/events",
        &[("authorization", &format!("Bearer {wrong}"))],
    )
    .await;
    assert_eq!(refused.status().as_u16(), 401);

    let listing = h.apikey(&["list"]).await;
    assert!(
        listing.contains("integration-tests") && listing.contains(prefix),
        "{listing}"
    );
    let logs = api.logs();
    for (what, text) in [("listing", &listing), ("serve logs", &logs)] {
        assert!(!text.contains(&secret), "the secret appears in the {what}");
        assert!(
            !text.contains(&wrong),
            "a presented key appears in the {what}"
        );
    }
    let duplicate = tokio::process::Command::new(crate::support::app::binary())
        .args(["apikey", "create", "--name", "integration-tests"])
        .envs(h.env())
        .output()
        .await
        .unwrap();
    assert!(!duplicate.status.success());
    assert!(
        String::from_utf8_lossy(&duplicate.stderr).contains("revoke it first"),
        "{}",
        String::from_utf8_lossy(&duplicate.stderr)
    );
}

#[tokio::test]
async fn with_auth_off_data_is_served_without_keys_and_start_up_says_so() {
    let (_h, api) = migrated_api(&[("API_AUTH", "off")]).await;
    assert_eq!(
        get_with(&api, "/v1/events?limit=1", &[])
            .await
            .status()
            .as_u16(),
        200
    );
    assert!(
        api.logs().contains("API_AUTH=off"),
        "start-up warns loudly:\n{}",
        api.logs()
    );
}
