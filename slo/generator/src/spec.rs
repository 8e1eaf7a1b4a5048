//! One SLO spec per file in slo/specs: what is measured, the objective, where it is enforced.

use anyhow::{Context, bail};
use serde::Deserialize;
use std::path::Path;

/// An SLO as written in `slo/specs/<name>.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    pub name: String,
    pub display_name: String,
    pub service: String,
    pub description: String,
    /// Good ratio, e.g. 0.999.
    pub objective: f64,
    pub period_days: u32,
    #[serde(default)]
    pub latency_threshold_seconds: Option<f64>,
    pub sli: Sli,
    /// Burn-rate alerts stay silent while the long window holds fewer events than this: at
    /// 2 requests a minute three errors in an hour are not a trend worth waking anyone for.
    pub min_events: u32,
    /// false: this SLO opens tickets only (argued in the spec).
    #[serde(default = "yes")]
    pub page: bool,
    /// What the SLI needs to exist; a missing input reads as a perfect SLI, so it alerts.
    pub inputs: Inputs,
    /// Present for SLOs Cloud Monitoring also enforces (Terraform variables).
    #[serde(default)]
    pub cloud_monitoring: Option<CloudMonitoring>,
    /// Present for SLOs the k6 load tests enforce.
    #[serde(default)]
    pub k6: Option<K6>,
}

/// Error and total event rates; `$window` is replaced by each window.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sli {
    pub errors: String,
    pub total: String,
}

/// `reporter` (a selector or filtering expression) has series whenever the process behind the SLI
/// is scraped and should have produced the inputs; every `required` selector must then exist
/// too, otherwise the SLI is blind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    pub reporter: String,
    pub required: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudMonitoring {
    /// `availability` or `latency` (Cloud Run request metrics at the front end),
    /// `good_total` (`total_filter`, `bad_filter`) or `distribution_cut`
    /// (`distribution_filter`, `range_max`) over Managed Prometheus metrics.
    pub kind: String,
    #[serde(default)]
    pub total_filter: Option<String>,
    #[serde(default)]
    pub bad_filter: Option<String>,
    #[serde(default)]
    pub distribution_filter: Option<String>,
    #[serde(default)]
    pub range_max: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K6 {
    /// `http_req_failed` (availability) or `http_req_duration` (latency).
    pub metric: String,
}

fn yes() -> bool {
    true
}

/// `le="10"` matches nothing on Prometheus 3, which stores that bucket as `le="10.0"` (and the
/// zero-filled ratio then reads as a perfect SLI): integer bucket bounds must match both.
fn integer_le(query: &str) -> Option<String> {
    let mut rest = query;
    while let Some(at) = rest.find("le=\"") {
        let value = &rest[at + 4..];
        let end = value.find('"').unwrap_or(value.len());
        let bound = &value[..end];
        if !bound.is_empty() && bound.bytes().all(|b| b.is_ascii_digit()) {
            return Some(bound.to_string());
        }
        rest = &value[end..];
    }
    None
}

impl Slo {
    /// The share of events allowed to be bad, e.g. 0.001 for 99.9%.
    pub fn error_budget(&self) -> f64 {
        round((1.0 - self.objective) * 1e12) / 1e12
    }

    fn validate(&self) -> anyhow::Result<()> {
        let name_ok = !self.name.is_empty()
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            bail!(
                "name {:?} must be lowercase letters, digits and -",
                self.name
            );
        }
        if !(self.objective > 0.0 && self.objective < 1.0) {
            bail!(
                "{}: objective {} must be a ratio between 0 and 1, e.g. 0.999",
                self.name,
                self.objective
            );
        }
        if !(1..=30).contains(&self.period_days) {
            bail!(
                "{}: period_days must be 1-30 (Cloud Monitoring's limit)",
                self.name
            );
        }
        for (what, query) in [("errors", &self.sli.errors), ("total", &self.sli.total)] {
            if !query.contains("$window") {
                bail!(
                    "{}: sli.{what} must use [$window] so each window gets its own rate",
                    self.name
                );
            }
        }
        let mut queries = vec![&self.sli.errors, &self.sli.total, &self.inputs.reporter];
        queries.extend(self.inputs.required.iter());
        for query in queries {
            if let Some(bound) = integer_le(query) {
                bail!(
                    "{}: le=\"{bound}\" matches nothing on Prometheus 3 (it stores le=\"{bound}.0\"): write le=~\"{bound}|{bound}\\\\.0\"",
                    self.name
                );
            }
        }
        if self.inputs.required.is_empty() {
            bail!("{}: inputs.required lists no selector", self.name);
        }
        if let Some(cm) = &self.cloud_monitoring {
            match cm.kind.as_str() {
                "availability" => {}
                "good_total" if cm.total_filter.is_some() && cm.bad_filter.is_some() => {}
                "good_total" => bail!(
                    "{}: good_total needs total_filter and bad_filter",
                    self.name
                ),
                "distribution_cut"
                    if cm.distribution_filter.is_some() && cm.range_max.is_some() => {}
                "distribution_cut" => bail!(
                    "{}: distribution_cut needs distribution_filter and range_max",
                    self.name
                ),
                "latency" if self.latency_threshold_seconds.is_some() => {}
                "latency" => bail!(
                    "{}: a latency SLO needs latency_threshold_seconds",
                    self.name
                ),
                other => bail!(
                    "{}: cloud_monitoring.kind {other:?} is not availability, latency, good_total or distribution_cut",
                    self.name
                ),
            }
        }
        if let Some(k6) = &self.k6 {
            match k6.metric.as_str() {
                "http_req_failed" => {}
                "http_req_duration" if self.latency_threshold_seconds.is_some() => {}
                other => bail!(
                    "{}: k6.metric {other:?} needs http_req_failed, or http_req_duration with latency_threshold_seconds",
                    self.name
                ),
            }
        }
        Ok(())
    }
}

fn round(x: f64) -> f64 {
    x.round()
}

/// Loads and validates every `*.yaml` in `dir`, sorted by name so output is deterministic.
pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<Slo>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    paths.sort();
    let mut slos = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)?;
        let slo: Slo =
            serde_yaml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        slo.validate()
            .with_context(|| format!("in {}", path.display()))?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if stem != slo.name {
            bail!(
                "{} declares name {:?}: the file must be named after the SLO",
                path.display(),
                slo.name
            );
        }
        slos.push(slo);
    }
    if slos.is_empty() {
        bail!("no SLO specs in {}", dir.display());
    }
    Ok(slos)
}

#[cfg(test)]
pub fn parse(text: &str) -> anyhow::Result<Slo> {
    let slo: Slo = serde_yaml::from_str(text)?;
    slo.validate()?;
    Ok(slo)
}
