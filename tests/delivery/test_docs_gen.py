"""Generated docs (scripts/docs_gen.py, `make docs` / `make docs-check`): the committed ones are
current, and the check fails, naming what is stale, on a copy of this repository where a block, a
block name, a test named in docs/requirements.yml, the metrics table, the diagram source or the
runbook base drifted; `make docs` repairs what it owns.
"""

import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

SCRIPT = ROOT / "scripts" / "docs_gen.py"
IGNORED = shutil.ignore_patterns(".git", ".run", "target", "__pycache__", ".terraform", "node_modules")


def docs_gen(root, *args):
    return subprocess.run([sys.executable, str(SCRIPT), "--root", str(root), *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture()
def repo(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=IGNORED)
    return copy


def edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_the_committed_docs_are_current():
    result = docs_gen(ROOT, "--check")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr


def test_a_fresh_generation_passes_and_changes_nothing(repo):
    before = (repo / "docs" / "reference.md").read_text()
    assert docs_gen(repo).returncode == 0
    assert (repo / "docs" / "reference.md").read_text() == before
    assert docs_gen(repo, "--check").returncode == 0


def test_a_stale_block_makes_the_check_fail_with_a_diff_until_make_docs(repo):
    reference = repo / "docs" / "reference.md"
    edit(reference, "| `GET` | `/healthz` |", "| `GET` | `/health` |")
    result = docs_gen(repo, "--check")
    assert result.returncode == 1
    assert "docs/reference.md is stale" in result.stderr
    assert "-| `GET` | `/health` |" in result.stdout and "+| `GET` | `/healthz` |" in result.stdout
    assert docs_gen(repo).returncode == 0
    assert docs_gen(repo, "--check").returncode == 0


def test_a_changed_source_makes_its_block_stale(repo):
    edit(repo / "slo" / "specs" / "api-latency.yaml", "objective: 0.99\n", "objective: 0.995\n")
    result = docs_gen(repo, "--check")
    assert result.returncode == 1 and "docs/reference.md is stale" in result.stderr
    assert "99.5%" in result.stdout


def test_an_unknown_block_makes_the_check_fail(repo):
    reference = repo / "docs" / "reference.md"
    reference.write_text(reference.read_text() + "\n<!-- generated: nonsense (make docs) -->\n"
                         "<!-- end generated: nonsense -->\n")
    result = docs_gen(repo, "--check")
    assert result.returncode == 1
    assert "unknown generated block 'nonsense'" in result.stderr
    assert docs_gen(repo).returncode == 1, "make docs cannot repair an unknown block either"


def test_the_settings_block_belongs_to_the_rust_test(repo):
    reference = repo / "docs" / "reference.md"
    edit(reference, "<!-- generated: settings (cargo test -p flightdeck config) -->\n",
         "<!-- generated: settings (cargo test -p flightdeck config) -->\n| Variable |\n| --- |\n| `PORT` |\n")
    assert docs_gen(repo, "--check").returncode == 0
    assert docs_gen(repo).returncode == 0
    assert "| `PORT` |" in reference.read_text(), "make docs left the settings block alone"
    edit(reference, "(cargo test -p flightdeck config)", "(make docs)")
    result = docs_gen(repo, "--check")
    assert result.returncode == 1 and "block settings is written by `cargo test -p flightdeck config`" in result.stderr


def test_a_renamed_test_in_the_mapping_makes_the_check_fail(repo):
    edit(repo / "app" / "tests" / "integration" / "end_to_end.rs",
         "fn published_event_is_served_by_the_api_with_identical_fields(",
         "fn published_event_is_served_by_the_api(")
    result = docs_gen(repo, "--check")
    assert result.returncode == 1
    assert "app/tests/integration/end_to_end.rs has no test published_event_is_served_by_the_api_with_identical_fields" \
        in result.stderr


def test_a_mapping_naming_a_missing_file_makes_the_check_fail(repo):
    edit(repo / "docs" / "requirements.yml", "      - slo/tests/slo_rules_test.yml\n",
         "      - slo/tests/renamed_test.yml\n")
    result = docs_gen(repo, "--check")
    assert result.returncode == 1 and "slo/tests/renamed_test.yml does not exist" in result.stderr


def test_a_metric_missing_from_the_contract_table_makes_the_check_fail(repo):
    metrics = repo / "docs" / "metrics.md"
    row = next(line for line in metrics.read_text().splitlines() if line.startswith("| `flightdeck_ingest_paused`"))
    edit(metrics, row + "\n", "")
    result = docs_gen(repo, "--check")
    assert result.returncode == 1
    assert "flightdeck_ingest_paused (app/src/telemetry/metrics.rs) has no row in the contract table" in result.stderr


def test_a_label_the_table_does_not_name_makes_the_check_fail(repo):
    edit(repo / "app" / "src" / "db" / "pool.rs", '"state" => "idle"', '"state" => "idle", "pool" => "main"')
    result = docs_gen(repo, "--check")
    assert result.returncode == 1
    assert re.search(r"flightdeck_db_pool_connections has labels \['pool', 'state'\]", result.stderr)


def test_a_changed_diagram_source_makes_the_check_fail(repo):
    dot = repo / "docs" / "architecture.dot"
    dot.write_text(dot.read_text() + "// one more line\n")
    result = docs_gen(repo, "--check")
    assert result.returncode == 1
    assert "docs/architecture.svg is stale" in result.stderr or "docs/architecture.svg is stale" in result.stdout
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed: the repair by make docs is not exercised")
    assert docs_gen(repo).returncode == 0
    assert docs_gen(repo, "--check").returncode == 0


def test_every_runbook_url_follows_the_one_base(repo):
    config = repo / "alerts" / "runbooks.yml"
    base = re.search(r"^runbook_url_base: (\S+)$", config.read_text(), re.M).group(1)
    moved = "https://github.com/someone/elsewhere/blob/release/"
    assert moved != base
    edit(config, f"runbook_url_base: {base}", f"runbook_url_base: {moved}")
    result = docs_gen(repo, "--check")
    assert result.returncode == 1
    assert "alerts/rules/ingest.yml is stale" in result.stderr
    assert "slo/_gen/rules.yml: runbook_url" in result.stderr and "make slo-gen" in result.stderr
    docs_gen(repo)
    rules = (repo / "alerts" / "rules" / "ingest.yml").read_text()
    assert f"runbook_url: {moved}docs/runbooks/ingest.md#flightdeckingeststalled" in rules
    assert base not in "".join(p.read_text() for p in (repo / "alerts" / "rules").glob("*.yml"))
    # The promtool tests expect the moved links too, so `make promtool-test` stays green.
    tests = "".join(p.read_text() for p in (repo / "alerts" / "tests").glob("*_test.yml"))
    assert base not in tests and f"{moved}docs/runbooks/" in tests


def test_a_restated_severity_that_drifted_makes_the_check_fail(repo):
    edit(repo / "docs" / "observability.md",
         "| [`FlightdeckIngestLagHigh`](runbooks/ingest.md#flightdeckingestlaghigh) | ticket |",
         "| [`FlightdeckIngestLagHigh`](runbooks/ingest.md#flightdeckingestlaghigh) | page |")
    result = docs_gen(repo, "--check")
    assert result.returncode == 1
    assert "FlightdeckIngestLagHigh is ticket in alerts/rules, the symptom table says page" in result.stderr
