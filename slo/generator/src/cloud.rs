//! The alerting rules that run locally (alerts/rules/*.yml and the generated SLO rules), as
//! Cloud Monitoring PromQL alert policies: same expression, same `for:`, same labels. Cloud
//! Monitoring evaluates alert queries only, not recording rules, so every recorded series an
//! alert reads is replaced by the expression that records it.

use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::{Map, json};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
struct RuleFile {
    groups: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    name: String,
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
struct Rule {
    #[serde(default)]
    record: Option<String>,
    #[serde(default)]
    alert: Option<String>,
    expr: String,
    #[serde(default, rename = "for")]
    for_: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

struct Record {
    name: String,
    labels: BTreeMap<String, String>,
    expr: String,
}

/// Labels that tell apart several rules of one alert name (one per SLO, window or input).
const DISTINGUISHING: [&str; 3] = ["slo", "burn_window", "input"];

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Replaces every recorded series in `expr` by `(the expression that records it)`, recursively.
/// A selector on a recorded series may only use `=` on the record's own static labels.
fn inline(expr: &str, records: &[Record]) -> anyhow::Result<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut in_string = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' && (i == 0 || chars[i - 1] != '\\') {
            in_string = !in_string;
        }
        let starts_ident = !in_string
            && (c.is_ascii_alphabetic() || c == '_' || c == ':')
            && (i == 0 || !is_ident(chars[i - 1]));
        if !starts_ident {
            out.push(c);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_ident(chars[i]) {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        if !records.iter().any(|r| r.name == name) {
            out.push_str(&name);
            continue;
        }
        let mut matchers = BTreeMap::new();
        if chars.get(i) == Some(&'{') {
            let close = chars[i..]
                .iter()
                .position(|&c| c == '}')
                .map(|p| i + p)
                .with_context(|| format!("unclosed selector after {name}"))?;
            let body: String = chars[i + 1..close].iter().collect();
            for matcher in body.split(',').map(str::trim).filter(|m| !m.is_empty()) {
                let Some((key, value)) = matcher.split_once('=') else {
                    bail!("cannot read matcher {matcher:?} of {name}");
                };
                if key.ends_with('!') || value.starts_with('~') {
                    bail!(
                        "{name}{{{body}}}: only = matchers can select a recording rule to inline"
                    );
                }
                matchers.insert(
                    key.trim().to_string(),
                    value.trim().trim_matches('"').to_string(),
                );
            }
            i = close + 1;
        }
        let candidates: Vec<&Record> = records
            .iter()
            .filter(|r| r.name == name && matchers.iter().all(|(k, v)| r.labels.get(k) == Some(v)))
            .collect();
        let [record] = candidates.as_slice() else {
            bail!(
                "{name} with {matchers:?} matches {} recording rules, not exactly one",
                candidates.len()
            );
        };
        out.push('(');
        out.push_str(inline(record.expr.trim(), records)?.as_str());
        out.push(')');
    }
    Ok(out)
}

/// Alertmanager annotations use Go templates; Cloud Monitoring documentation uses
/// `${metric.label.NAME}`. Labels are translated, `with`/`else` blocks keep their first branch,
/// and a templated value becomes words (the incident shows the value itself).
fn cloud_text(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    let mut with: Vec<String> = Vec::new();
    let mut skipping = false;
    while let Some(open) = rest.find("{{") {
        if !skipping {
            out.push_str(&rest[..open]);
        }
        let Some(close) = rest[open..].find("}}") else {
            break;
        };
        let action = rest[open + 2..open + close].trim();
        rest = &rest[open + close + 2..];
        if let Some(label) = action.strip_prefix("with $labels.") {
            with.push(label.trim().to_string());
        } else if action == "else" {
            skipping = true;
        } else if action == "end" {
            with.pop();
            skipping = false;
        } else if skipping {
        } else if action == "." {
            if let Some(label) = with.last() {
                out.push_str(&format!("${{metric.label.{label}}}"));
            }
        } else if let Some(label) = action.strip_prefix("$labels.") {
            out.push_str(&format!("${{metric.label.{}}}", label.trim()));
        } else if action.starts_with("$value") {
            out.push_str("the observed value");
        }
    }
    if !skipping {
        out.push_str(rest);
    }
    out
}

fn duration_seconds(text: &str) -> anyhow::Result<u64> {
    let (number, unit) = text.split_at(text.len() - 1);
    let n: u64 = number
        .parse()
        .with_context(|| format!("duration {text:?}"))?;
    Ok(n * match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => bail!("duration {text:?}: unit must be s, m, h or d"),
    })
}

/// `terraform/modules/monitoring/prometheus_alerts.json` from the hand-written rule files in
/// `alerts_dir` and the generated SLO rule file.
pub fn policies_json(alerts_dir: &Path, generated_rules: &str) -> anyhow::Result<String> {
    let mut paths: Vec<_> = std::fs::read_dir(alerts_dir)
        .with_context(|| format!("reading {}", alerts_dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "yml"));
    paths.sort();
    let mut files = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path)?;
        let file: RuleFile =
            serde_yaml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        files.push(file);
    }
    files.push(serde_yaml::from_str(generated_rules).context("parsing the generated rules")?);

    let records: Vec<Record> = files
        .iter()
        .flat_map(|f| &f.groups)
        .flat_map(|g| &g.rules)
        .filter_map(|r| {
            r.record.as_ref().map(|name| Record {
                name: name.clone(),
                labels: r.labels.clone(),
                expr: r.expr.clone(),
            })
        })
        .collect();

    let mut alerts = Map::new();
    for group in files.iter().flat_map(|f| &f.groups) {
        for rule in &group.rules {
            let Some(alert) = &rule.alert else { continue };
            let mut key = alert.clone();
            for label in DISTINGUISHING {
                if let Some(value) = rule.labels.get(label) {
                    key = format!("{key}-{value}");
                }
            }
            let Some(severity) = rule.labels.get("severity") else {
                bail!("{alert} has no severity label");
            };
            let seconds = match &rule.for_ {
                Some(text) => duration_seconds(text)?,
                None => 0,
            };
            let entry = json!({
                "alert": alert,
                "group": group.name,
                "severity": severity,
                "duration": format!("{seconds}s"),
                "local_expr": rule.expr.trim(),
                "query": inline(rule.expr.trim(), &records)
                    .with_context(|| format!("inlining the recording rules of {key}"))?,
                "labels": rule.labels,
                "summary": rule.annotations.get("summary").cloned().unwrap_or_default(),
                "description": rule.annotations.get("description").cloned().unwrap_or_default(),
                "cloud_summary": cloud_text(rule.annotations.get("summary").map_or("", String::as_str)),
                "cloud_description": cloud_text(rule.annotations.get("description").map_or("", String::as_str)),
                "runbook_url": rule.annotations.get("runbook_url").cloned().unwrap_or_default(),
            });
            if alerts.insert(key.clone(), entry).is_some() {
                bail!("two alerting rules share the key {key}: give them a distinguishing label");
            }
        }
    }
    let document = json!({
        "_comment": "Generated by `make slo-gen` from alerts/rules/*.yml and slo/_gen/rules.yml: every local alert as a Cloud Monitoring PromQL policy. Do not edit: CI fails on drift.",
        "alerts": alerts,
    });
    Ok(serde_json::to_string_pretty(&document)? + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, slo: &str, expr: &str) -> Record {
        Record {
            name: name.into(),
            labels: BTreeMap::from([("slo".to_string(), slo.to_string())]),
            expr: expr.into(),
        }
    }

    #[test]
    fn recorded_series_are_replaced_by_their_expression() {
        let records = vec![
            record("slo:r1h", "a", "sum(rate(x[1h]))"),
            record("slo:r1h", "b", "sum(rate(y[1h]))"),
        ];
        let out = inline(
            r#"slo:r1h{slo="b"} > 2 and on (system) up{job="slo:r1h"}"#,
            &records,
        )
        .unwrap();
        assert_eq!(
            out,
            r#"(sum(rate(y[1h]))) > 2 and on (system) up{job="slo:r1h"}"#
        );
        assert!(
            inline("slo:r1h > 1", &records).is_err(),
            "ambiguous without a selector"
        );
        assert!(inline(r#"slo:r1h{slo=~"a|b"}"#, &records).is_err());
    }

    #[test]
    fn annotations_become_cloud_monitoring_documentation() {
        assert_eq!(
            cloud_text("Ingest of {{ $labels.system }} is {{ $value | humanizePercentage }} late."),
            "Ingest of ${metric.label.system} is the observed value late."
        );
        assert_eq!(
            cloud_text(
                "no {{ with $labels.job }}{{ . }}{{ else }}flightdeck{{ end }} target{{ with $labels.system }} of {{ . }}{{ end }}."
            ),
            "no ${metric.label.job} target of ${metric.label.system}."
        );
    }

    #[test]
    fn durations_become_seconds() {
        assert_eq!(duration_seconds("2m").unwrap(), 120);
        assert_eq!(duration_seconds("3h").unwrap(), 10800);
        assert!(duration_seconds("2w").is_err());
    }
}
