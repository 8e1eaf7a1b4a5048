//! Reads a Prometheus text exposition into `series -> value`.

use std::collections::HashMap;

/// Series are keyed exactly as exposed, e.g. `flightdeck_ingest_messages_total{outcome="stored"}`.
pub async fn scrape(url: &str) -> HashMap<String, f64> {
    let body = reqwest::get(url)
        .await
        .expect("scrape")
        .text()
        .await
        .expect("body");
    parse(&body)
}

pub fn parse(body: &str) -> HashMap<String, f64> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// The value of a counter or gauge series, 0 when absent.
pub fn value(metrics: &HashMap<String, f64>, series: &str) -> f64 {
    metrics.get(series).copied().unwrap_or(0.0)
}
