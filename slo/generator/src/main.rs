//! `flightdeck-slo generate|check`: writes (or verifies) every file derived from slo/specs.

mod burn;
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
    Ok(vec![
        (
            PathBuf::from("slo/_gen/rules.yml"),
            prometheus::rules_file(&slos)?,
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
cloud_monitoring: {kind: availability}
k6: {metric: http_req_failed}
"#;

    #[test]
    fn every_window_gets_a_nan_safe_ratio_of_summed_rates() {
        let slo = spec::parse(AVAILABILITY).unwrap();
        let rules = prometheus::rules_file(std::slice::from_ref(&slo)).unwrap();
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
    fn alerts_follow_the_multi_window_policy() {
        let slo = spec::parse(AVAILABILITY).unwrap();
        let rules = prometheus::rules_file(std::slice::from_ref(&slo)).unwrap();
        for needle in [
            "slo:sli_error:ratio_rate1h{slo=\"api-availability\"} > (14.4 * 0.001) and slo:sli_error:ratio_rate5m{slo=\"api-availability\"} > (14.4 * 0.001)",
            "slo:sli_error:ratio_rate6h{slo=\"api-availability\"} > (6 * 0.001) and slo:sli_error:ratio_rate30m",
            "slo:sli_error:ratio_rate1d{slo=\"api-availability\"} > (3 * 0.001) and slo:sli_error:ratio_rate2h",
            "slo:sli_error:ratio_rate3d{slo=\"api-availability\"} > (1 * 0.001) and slo:sli_error:ratio_rate6h",
            "runbook_url: https://github.com/flightdeck-sre/flightdeck/blob/main/docs/runbooks/slo.md#api-availability",
        ] {
            assert!(rules.contains(needle), "missing {needle}\n{rules}");
        }
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
