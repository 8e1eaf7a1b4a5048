//! Prometheus recording rules per window and burn-rate alerts, as one rule file.

use crate::burn::{POLICIES, WINDOWS};
use crate::spec::Slo;
use serde::Serialize;
use std::collections::BTreeMap;

const RUNBOOK_BASE: &str =
    "https://github.com/flightdeck-sre/flightdeck/blob/main/docs/runbooks/slo.md";

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
    let rules = windows_of(slo)
        .iter()
        .map(|window| Rule {
            record: Some(format!("slo:sli_error:ratio_rate{window}")),
            expr: error_ratio(slo, window),
            labels: slo_label(slo),
            ..Rule::default()
        })
        .collect();
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

fn alert_rules(slo: &Slo) -> Group {
    let budget = slo.error_budget();
    let selector = format!("{{slo=\"{}\"}}", slo.name);
    let rules = POLICIES
        .iter()
        .map(|policy| {
            let conditions: Vec<String> = policy
                .windows
                .iter()
                .map(|w| {
                    let limit = format!("({} * {budget})", w.factor);
                    format!(
                        "(slo:sli_error:ratio_rate{long}{selector} > {limit} and slo:sli_error:ratio_rate{short}{selector} > {limit})",
                        long = w.long,
                        short = w.short,
                    )
                })
                .collect();
            let days_left = |factor: f64| f64::from(slo.period_days) / factor;
            let mut labels = slo_label(slo);
            labels.insert("severity".into(), policy.severity.into());
            labels.insert("service".into(), slo.service.clone());
            let [fast, slow] = &policy.windows;
            let annotations = BTreeMap::from([
                (
                    "summary".to_string(),
                    format!("{} is burning its error budget ({})", slo.display_name, policy.severity),
                ),
                (
                    "description".to_string(),
                    format!(
                        "{} System {{{{ $labels.system }}}} is spending its error budget ({} of events) {}x too fast over {} and {}, \
                         or {}x over {} and {}: at {}x the {}-day budget is gone in {:.1} days.",
                        slo.description,
                        percent(budget),
                        fast.factor, fast.long, fast.short,
                        slow.factor, slow.long, slow.short,
                        fast.factor, slo.period_days, days_left(fast.factor),
                    ),
                ),
                ("runbook_url".to_string(), format!("{RUNBOOK_BASE}#{}", slo.name)),
            ]);
            Rule {
                alert: Some(policy.alert.into()),
                expr: conditions.join(" or "),
                labels,
                annotations,
                ..Rule::default()
            }
        })
        .collect();
    Group {
        name: format!("slo-alerts-{}", slo.name),
        rules,
    }
}

fn percent(ratio: f64) -> String {
    format!("{}%", (ratio * 100.0 * 1e9).round() / 1e9)
}

/// The complete rule file for every SLO.
pub fn rules_file(slos: &[Slo]) -> anyhow::Result<String> {
    let mut groups = Vec::new();
    for slo in slos {
        groups.push(sli_rules(slo));
        groups.push(meta_rules(slo));
        groups.push(alert_rules(slo));
    }
    let body = serde_yaml::to_string(&RuleFile { groups })?;
    Ok(format!(
        "# Generated by `make slo-gen` from slo/specs/*.yaml. Do not edit: CI fails on drift.\n{body}"
    ))
}
