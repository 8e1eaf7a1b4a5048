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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudMonitoring {
    /// `availability` or `latency` (Cloud Run request metrics).
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K6 {
    /// `http_req_failed` (availability) or `http_req_duration` (latency).
    pub metric: String,
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
        if let Some(cm) = &self.cloud_monitoring {
            match cm.kind.as_str() {
                "availability" => {}
                "latency" if self.latency_threshold_seconds.is_some() => {}
                "latency" => bail!(
                    "{}: a latency SLO needs latency_threshold_seconds",
                    self.name
                ),
                other => bail!(
                    "{}: cloud_monitoring.kind {other:?} is not availability or latency",
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
