//! `flightdeck-slo generate|check`: writes (or verifies) every file derived from slo/specs.

mod burn;
mod cloud;
mod outputs;
mod prometheus;
mod spec;

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Every generated file, relative to the repository root, with its content.
fn generate(root: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let slos = spec::load_dir(&root.join("slo/specs"))?;
    let tfvars = outputs::terraform_tfvars(&slos)?;
    let rules = prometheus::rules_file(&slos, &runbook_base(root)?)?;
    let cloud_alerts = cloud::policies_json(&root.join("alerts/rules"), &rules)?;
    Ok(vec![
        (PathBuf::from("slo/_gen/rules.yml"), rules),
        (
            PathBuf::from("terraform/modules/monitoring/prometheus_alerts.json"),
            cloud_alerts,
        ),
        (
            PathBuf::from("loadtests/thresholds.json"),
            outputs::k6_thresholds(&slos)?,
        ),
        (
            PathBuf::from("terraform/envs/staging/slo.auto.tfvars.json"),
            tfvars.clone(),
        ),
        (
            PathBuf::from("terraform/envs/prod/slo.auto.tfvars.json"),
            tfvars,
        ),
    ])
}

/// `runbook_url_base` of alerts/runbooks.yml: the one base of every runbook link.
fn runbook_base(root: &Path) -> anyhow::Result<String> {
    #[derive(serde::Deserialize)]
    struct Runbooks {
        runbook_url_base: String,
    }
    let path = root.join("alerts/runbooks.yml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
    let runbooks: Runbooks =
        serde_yaml::from_str(&text).with_context(|| format!("parse {}", path.display()))?;
    anyhow::ensure!(
        runbooks.runbook_url_base.starts_with("https://")
            && runbooks.runbook_url_base.ends_with('/'),
        "{}: runbook_url_base must be an https URL ending in /",
        path.display()
    );
    Ok(runbooks.runbook_url_base)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let root = PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    let result = match command.as_str() {
        "generate" => write_all(&root),
        "check" => check_all(&root),
        _ => {
            eprintln!("usage: flightdeck-slo generate|check [REPO_ROOT]");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn write_all(root: &Path) -> anyhow::Result<bool> {
    for (path, content) in generate(root)? {
        let target = root.join(&path);
        std::fs::create_dir_all(target.parent().expect("has a parent"))?;
        std::fs::write(&target, content)
            .with_context(|| format!("writing {}", target.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(true)
}

fn check_all(root: &Path) -> anyhow::Result<bool> {
    let mut clean = true;
    for (path, content) in generate(root)? {
        let committed = std::fs::read_to_string(root.join(&path)).unwrap_or_default();
        if committed != content {
            eprintln!(
                "{} differs from a fresh generation: run `make slo-gen` and commit",
                path.display()
            );
            clean = false;
        }
    }
    if clean {
        println!("generated SLO files are up to date");
    }
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A runbook base other than the repository's: links must follow whatever base is set.
    const BASE: &str = "https://runbooks.example/repo/";

    const AVAILABILITY: &str = r#"
name: api-availability
display_name: "API availability"
service: flightdeck-api
description: d
objective: 0.999
period_days: 28
sli:
  errors: sum(rate(e[$window]))
  total: sum(rate(t[$window]))
min_events: 600
inputs:
  reporter: r
  required: [e]
cloud_monitoring: {kind: availability}
k6: {metric: http_req_failed}
"#;

    #[test]
    fn every_window_gets_a_nan_safe_ratio_of_summed_rates() {
        let slo = spec::parse(AVAILABILITY).unwrap();
        let rules = prometheus::rules_file(std::slice::from_ref(&slo), BASE).unwrap();
        for window in burn::WINDOWS {
            assert!(
                rules.contains(&format!("record: slo:sli_error:ratio_rate{window}\n")),
                "{window}"
            );
            assert!(rules.contains(&format!("(sum(rate(e[{window}])) or 0 * sum(rate(t[{window}]))) / clamp_min(sum(rate(t[{window}])), 1e-12)")));
        }
        assert!(
            !rules.contains("avg_over_time"),
            "ratios of rates, never averages of ratios"
        );
    }

    #[test]
    fn alerts_follow_the_multi_window_policy_of_the_period() {
        let slo = spec::parse(AVAILABILITY).unwrap();
        let rules = prometheus::rules_file(std::slice::from_ref(&slo), BASE).unwrap();
        // Compared with whitespace collapsed: the YAML layout is not the point.
        let flat = rules.split_whitespace().collect::<Vec<_>>().join(" ");
        for needle in [
            "slo:sli_error:ratio_rate1h{slo=\"api-availability\"} > (13.44 * 0.001) and slo:sli_error:ratio_rate5m{slo=\"api-availability\"} > (13.44 * 0.001) and slo:sli_events:rate1h{slo=\"api-availability\"} * 3600 >= 600",
            "slo:sli_error:ratio_rate6h{slo=\"api-availability\"} > (5.6 * 0.001)",
            "slo:sli_error:ratio_rate1d{slo=\"api-availability\"} > (2.8 * 0.001)",
            "slo:sli_error:ratio_rate3d{slo=\"api-availability\"} > (0.93 * 0.001)",
            "for: 2m ",
            "for: 15m ",
            "for: 1h ",
            "for: 3h ",
            "alert: SLOInputAbsent",
            "group by (system) (r) unless on (system) group by (system) (e)",
            "runbook_url: https://runbooks.example/repo/docs/runbooks/slo.md#api-availability",
        ] {
            assert!(flat.contains(needle), "missing {needle}\n{rules}");
        }
        let ticket_only = spec::parse(&format!("{AVAILABILITY}page: false\n")).unwrap();
        let rules = prometheus::rules_file(std::slice::from_ref(&ticket_only), BASE).unwrap();
        assert!(!rules.contains("SLOBurnRatePage") && rules.contains("SLOBurnRateTicket"));
    }

    #[test]
    fn every_alert_reaches_the_cloud_with_its_recording_rules_inlined() {
        let slo = spec::parse(AVAILABILITY).unwrap();
        let rules = prometheus::rules_file(std::slice::from_ref(&slo), BASE).unwrap();
        let empty = std::env::temp_dir().join(format!("flightdeck-slo-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&cloud::policies_json(&empty, &rules).unwrap()).unwrap();
        let page = &json["alerts"]["SLOBurnRatePage-api-availability-1h"];
        assert_eq!(page["severity"], "page");
        assert_eq!(page["duration"], "120s");
        let query = page["query"].as_str().unwrap();
        assert!(!query.contains("slo:"), "recording rules left in {query}");
        assert!(
            query.contains("(sum(rate(e[1h])) or 0 * sum(rate(t[1h])))"),
            "{query}"
        );
        assert_eq!(json["alerts"].as_object().unwrap().len(), 5);
    }

    #[test]
    fn k6_and_terraform_outputs_carry_the_objective() {
        let slo = spec::parse(AVAILABILITY).unwrap();
        let k6 = outputs::k6_thresholds(std::slice::from_ref(&slo)).unwrap();
        assert!(k6.contains("\"rate<0.001\""), "{k6}");
        let tf: serde_json::Value =
            serde_json::from_str(&outputs::terraform_tfvars(std::slice::from_ref(&slo)).unwrap())
                .unwrap();
        assert_eq!(tf["slos"]["api-availability"]["goal"], 0.999);
        assert_eq!(
            tf["slos"]["api-availability"]["burn_rate_alerts"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
        assert_eq!(
            tf["slos"]["api-availability"]["burn_rate_alerts"][0]["threshold"],
            13.44
        );
    }

    #[test]
    fn invalid_specs_are_rejected_with_the_reason() {
        let bad_objective = AVAILABILITY.replace("0.999", "99.9");
        assert!(
            spec::parse(&bad_objective)
                .unwrap_err()
                .to_string()
                .contains("objective")
        );
        let no_window = AVAILABILITY.replace("e[$window]", "e[5m]");
        assert!(
            spec::parse(&no_window)
                .unwrap_err()
                .to_string()
                .contains("$window")
        );
        let unknown_field = format!("{AVAILABILITY}surprise: 1\n");
        assert!(spec::parse(&unknown_field).is_err());
        let integer_bucket = AVAILABILITY.replace("e[$window]", "e{le=\"10\"}[$window]");
        let message = spec::parse(&integer_bucket).unwrap_err().to_string();
        assert!(message.contains("Prometheus 3"), "{message}");
        let both_spellings = AVAILABILITY.replace("e[$window]", "e{le=~\"10|10\\\\.0\"}[$window]");
        assert!(spec::parse(&both_spellings).is_ok());
    }

    #[test]
    fn committed_files_match_a_fresh_generation() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        assert!(
            check_all(&root).unwrap(),
            "run `make slo-gen` and commit the result"
        );
    }
}
