//! Prometheus recording rules per window and burn-rate alerts, as one rule file.

use crate::burn::{BurnWindow, WINDOWS, policies};
use crate::spec::Slo;
use serde::Serialize;
use std::collections::BTreeMap;

/// The SLO runbook, relative to the repository's runbook base (alerts/runbooks.yml).
const SLO_RUNBOOK: &str = "docs/runbooks/slo.md";

#[derive(Serialize)]
struct RuleFile {
    groups: Vec<Group>,
}

#[derive(Serialize)]
struct Group {
    name: String,
    rules: Vec<Rule>,
}

#[derive(Serialize, Default)]
struct Rule {
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alert: Option<String>,
    expr: String,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    for_: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

fn slo_label(slo: &Slo) -> BTreeMap<String, String> {
    BTreeMap::from([("slo".to_string(), slo.name.clone())])
}

fn windows_of(slo: &Slo) -> Vec<String> {
    let mut windows: Vec<String> = WINDOWS.iter().map(|w| w.to_string()).collect();
    let period = format!("{}d", slo.period_days);
    if !windows.contains(&period) {
        windows.push(period);
    }
    windows
}

/// Error ratio over `window` as a ratio of summed rates. Absent error series count as zero and
/// the denominator never reaches zero, so no window ever evaluates to NaN.
pub fn error_ratio(slo: &Slo, window: &str) -> String {
    let errors = slo.sli.errors.replace("$window", window);
    let total = slo.sli.total.replace("$window", window);
    format!("({errors} or 0 * {total}) / clamp_min({total}, 1e-12)")
}

fn sli_rules(slo: &Slo) -> Group {
    let mut rules: Vec<Rule> = windows_of(slo)
        .iter()
        .map(|window| Rule {
            record: Some(format!("slo:sli_error:ratio_rate{window}")),
            expr: error_ratio(slo, window),
            labels: slo_label(slo),
            ..Rule::default()
        })
        .collect();
    // Valid events per second, for the minimum-events guard of the burn-rate alerts.
    for window in windows_of(slo) {
        rules.push(Rule {
            record: Some(format!("slo:sli_events:rate{window}")),
            expr: slo.sli.total.replace("$window", &window),
            labels: slo_label(slo),
            ..Rule::default()
        });
    }
    Group {
        name: format!("slo-sli-{}", slo.name),
        rules,
    }
}

fn meta_rules(slo: &Slo) -> Group {
    let budget = slo.error_budget();
    let selector = format!("{{slo=\"{}\"}}", slo.name);
    let mut rules = vec![
        Rule {
            record: Some("slo:objective:ratio".into()),
            expr: format!("vector({})", slo.objective),
            labels: slo_label(slo),
            ..Rule::default()
        },
        Rule {
            record: Some("slo:error_budget:ratio".into()),
            expr: format!("vector({budget})"),
            labels: slo_label(slo),
            ..Rule::default()
        },
        Rule {
            record: Some("slo:error_budget_remaining:ratio".into()),
            expr: format!(
                "1 - slo:sli_error:ratio_rate{}d{selector} / {budget}",
                slo.period_days
            ),
            labels: slo_label(slo),
            ..Rule::default()
        },
    ];
    for window in windows_of(slo) {
        rules.push(Rule {
            record: Some(format!("slo:burn_rate:ratio_rate{window}")),
            expr: format!("slo:sli_error:ratio_rate{window}{selector} / {budget}"),
            labels: slo_label(slo),
            ..Rule::default()
        });
    }
    Group {
        name: format!("slo-meta-{}", slo.name),
        rules,
    }
}

/// Both windows above the factor, and enough events in the long window to mean something.
pub fn burn_condition(slo: &Slo, w: &BurnWindow) -> String {
    let budget = slo.error_budget();
    let selector = format!("{{slo=\"{}\"}}", slo.name);
    let limit = format!("({} * {budget})", w.factor);
    format!(
        "slo:sli_error:ratio_rate{long}{selector} > {limit}\nand\nslo:sli_error:ratio_rate{short}{selector} > {limit}\nand\nslo:sli_events:rate{long}{selector} * {seconds} >= {min}",
        long = w.long,
        short = w.short,
        seconds = w.long_seconds,
        min = slo.min_events,
    )
}

fn alert_rules(slo: &Slo, runbook_base: &str) -> Group {
    let budget = slo.error_budget();
    let mut rules = Vec::new();
    for policy in policies(slo.period_days, slo.page) {
        for w in &policy.windows {
            let mut labels = slo_label(slo);
            labels.insert("severity".into(), policy.severity.into());
            labels.insert("service".into(), slo.service.clone());
            labels.insert("burn_window".into(), w.long.into());
            let days_left = f64::from(slo.period_days) / w.factor;
            let annotations = BTreeMap::from([
                (
                    "summary".to_string(),
                    format!(
                        "{} is burning its error budget {}x too fast over {} ({})",
                        slo.display_name, w.factor, w.long, policy.severity
                    ),
                ),
                (
                    "description".to_string(),
                    format!(
                        "{} System {{{{ $labels.system }}}} is spending its error budget ({} of events) {}x too fast over {} and {}, \
                         with at least {} events in {}: at this pace the {}-day budget is gone in {:.1} days. \
                         Error-budget policy: docs/slo-policy.md.",
                        slo.description,
                        percent(budget),
                        w.factor,
                        w.long,
                        w.short,
                        slo.min_events,
                        w.long,
                        slo.period_days,
                        days_left,
                    ),
                ),
                (
                    "runbook_url".to_string(),
                    format!("{runbook_base}{SLO_RUNBOOK}#{}", slo.name),
                ),
            ]);
            rules.push(Rule {
                alert: Some(policy.alert.into()),
                expr: burn_condition(slo, w),
                for_: Some(w.for_.into()),
                labels,
                annotations,
                ..Rule::default()
            });
        }
    }
    for required in &slo.inputs.required {
        let mut labels = slo_label(slo);
        labels.insert("severity".into(), "ticket".into());
        labels.insert("service".into(), slo.service.clone());
        labels.insert("input".into(), metric_name(required));
        let annotations = BTreeMap::from([
            (
                "summary".to_string(),
                format!(
                    "{} is blind in {{{{ $labels.system }}}}: {} is missing",
                    slo.display_name,
                    metric_name(required)
                ),
            ),
            (
                "description".to_string(),
                format!(
                    "The process behind {} reports ({}) but no series matches {} in system {{{{ $labels.system }}}}. \
                     A missing input reads as zero errors: the SLI looks perfect and no burn-rate alert can fire. \
                     Usual causes: a renamed metric or label, a bucket bound spelled differently (le=\"10\" vs le=\"10.0\"), \
                     series not created at start-up.",
                    slo.name, slo.inputs.reporter, required
                ),
            ),
            (
                "runbook_url".to_string(),
                format!("{runbook_base}{SLO_RUNBOOK}#{}", slo.name),
            ),
        ]);
        rules.push(Rule {
            alert: Some("SLOInputAbsent".into()),
            expr: format!(
                "group by (system) ({})\nunless on (system)\ngroup by (system) ({})",
                slo.inputs.reporter, required
            ),
            for_: Some("15m".into()),
            labels,
            annotations,
            ..Rule::default()
        });
    }
    Group {
        name: format!("slo-alerts-{}", slo.name),
        rules,
    }
}

/// The metric name of a selector, e.g. `flightdeck_ingest_lag_seconds_bucket`.
fn metric_name(selector: &str) -> String {
    selector
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .next()
        .unwrap_or_default()
        .to_string()
}

fn percent(ratio: f64) -> String {
    format!("{}%", (ratio * 100.0 * 1e9).round() / 1e9)
}

/// The complete rule file for every SLO; runbook links start with `runbook_base`.
pub fn rules_file(slos: &[Slo], runbook_base: &str) -> anyhow::Result<String> {
    let mut groups = Vec::new();
    for slo in slos {
        groups.push(sli_rules(slo));
        groups.push(meta_rules(slo));
        groups.push(alert_rules(slo, runbook_base));
    }
    let body = serde_yaml::to_string(&RuleFile { groups })?;
    Ok(format!(
        "# Generated by `make slo-gen` from slo/specs/*.yaml. Do not edit: CI fails on drift.\n{body}"
    ))
}
