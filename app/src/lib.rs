//! flightdeck: flight events from Pub/Sub into PostgreSQL, served over HTTP, observable end to end.

pub mod access;
pub mod api;
pub(crate) mod backoff;
pub mod config;
pub mod db;
pub mod domain;
pub(crate) mod health;
pub(crate) mod ingest;
pub(crate) mod probe;
pub mod publish;
pub mod pubsub;
pub(crate) mod server;
pub mod startup;
pub mod telemetry;

/// The direction of dependencies between modules (docs/architecture.md), checked on the source.
#[cfg(test)]
mod layering {
    /// Each module and the modules of flightdeck it may import.
    const ALLOWED: &[(&str, &[&str])] = &[
        ("config", &[]),
        ("domain", &[]),
        ("backoff", &[]),
        ("telemetry", &["config"]),
        ("db", &["domain", "config", "telemetry"]),
        ("pubsub", &["config", "domain", "telemetry"]),
        ("access", &["db", "telemetry"]),
        ("health", &["db", "telemetry"]),
        ("server", &["telemetry"]),
        (
            "api",
            &["access", "config", "db", "domain", "health", "telemetry"],
        ),
        (
            "ingest",
            &[
                "backoff",
                "config",
                "db",
                "domain",
                "health",
                "pubsub",
                "telemetry",
            ],
        ),
        ("probe", &["config", "domain", "pubsub", "telemetry"]),
        ("publish", &["config", "domain", "pubsub"]),
        (
            "startup",
            &[
                "access",
                "api",
                "config",
                "db",
                "health",
                "ingest",
                "probe",
                "server",
                "telemetry",
            ],
        ),
    ];

    /// The modules named by `crate::NAME` paths in `text` (doc comments included: a link to
    /// another module is a dependency of the reader too).
    fn imports(text: &str) -> std::collections::BTreeSet<String> {
        text.match_indices("crate::")
            .map(|(at, _)| {
                text[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect()
            })
            .collect()
    }

    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read app/src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_module_imports_only_what_the_layering_allows() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&root, &mut files);
        let mut broken = Vec::new();
        for file in &files {
            let relative = file.strip_prefix(&root).expect("under src");
            let module = relative
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .expect("utf-8 path")
                .trim_end_matches(".rs");
            if matches!(module, "lib" | "main") {
                continue;
            }
            let allowed = ALLOWED
                .iter()
                .find(|(name, _)| *name == module)
                .unwrap_or_else(|| panic!("{module} is not in the layering table"))
                .1;
            let text = std::fs::read_to_string(file).expect("read source");
            for import in imports(&text) {
                if import != module && !allowed.contains(&import.as_str()) {
                    broken.push(format!("{} imports {import}", relative.display()));
                }
            }
        }
        assert!(
            broken.is_empty(),
            "imports against the layering: {broken:#?}"
        );
        assert!(files.len() > 40, "read {} files", files.len());
    }

    #[test]
    fn the_reader_sees_crate_paths() {
        let found = imports("use crate::db::Pool; // see [`crate::api::x`]");
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["api", "db"]);
    }
}
