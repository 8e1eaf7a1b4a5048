"""Every alert, hand-written (alerts/rules) or generated (slo/_gen), is actionable: a severity the
Alertmanager routes, a summary, a description and a runbook_url that resolves to a heading of a
runbook in this repository. Every runbook section of a symptom alert names an existing alert, and
every runbook links somewhere, with every link resolving (scripts/check_links.py).
"""

import importlib.util
import re
import urllib.parse

import pytest
import yaml

from conftest import ROOT, load_rules, rule_files

# The one base of every runbook link (alerts/runbooks.yml; `make docs` rewrites alerts/rules from it).
REPO_URL = yaml.safe_load((ROOT / "alerts" / "runbooks.yml").read_text())["runbook_url_base"]
RUNBOOKS = ROOT / "docs" / "runbooks"
# The SLO runbook: its sections are per SLO (the generated alerts' `slo` label), not per alert.
SLO_RUNBOOKS = {"slo.md"}

# The repository's link checker: GitHub's anchor rules written once.
_spec = importlib.util.spec_from_file_location("check_links", ROOT / "scripts" / "check_links.py")
check_links = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_links)


def alerts():
    return [(path.relative_to(ROOT).as_posix(), rule) for path in rule_files()
            for rule in load_rules(path) if "alert" in rule]


def alert_id(item):
    path, rule = item
    return f"{path}:{rule['alert']}:{rule['labels'].get('slo', '')}"


def test_github_anchor_rules():
    doc = "# Runbook: ingest\n## FlightdeckIngestStalled\n## 5.1 Alert rules and thresholds\n## A `code` [link](x)\n## A\n## A\n"
    assert check_links.anchors(doc) == {"runbook-ingest", "flightdeckingeststalled", "51-alert-rules-and-thresholds",
                                        "a-code-link", "a", "a-1"}


def test_there_are_alerts_to_check():
    names = {rule["alert"] for _, rule in alerts()}
    assert {"FlightdeckIngestStalled", "FlightdeckDeadLetterRateHigh", "FlightdeckDatabasePoolSaturated",
            "FlightdeckIngestLagHigh", "FlightdeckJobDown", "FlightdeckTargetAbsent"} <= names


@pytest.mark.parametrize("item", alerts(), ids=alert_id)
def test_alert_is_routable_and_documented(item):
    _, rule = item
    assert rule["labels"]["severity"] in {"page", "ticket"}
    annotations = rule["annotations"]
    for key in ("summary", "description", "runbook_url"):
        assert annotations.get(key, "").strip(), f"missing annotation {key}"


@pytest.mark.parametrize("item", alerts(), ids=alert_id)
def test_runbook_url_resolves_to_a_heading(item):
    _, rule = item
    url = rule["annotations"]["runbook_url"]
    assert url.startswith(REPO_URL), url
    path, _, anchor = url[len(REPO_URL):].partition("#")
    target = ROOT / urllib.parse.unquote(path)
    assert target.is_file(), f"{path} does not exist"
    assert anchor, f"{url} names no section"
    assert anchor in check_links.anchors(target.read_text()), f"{path} has no heading with anchor #{anchor}"


def test_every_symptom_runbook_section_is_an_alert():
    names = {rule["alert"] for _, rule in alerts()}
    linked = {rule["annotations"]["runbook_url"].split("#")[0].rsplit("/", 1)[-1] for _, rule in alerts()}
    for runbook in sorted(RUNBOOKS.glob("*.md")):
        if runbook.name in SLO_RUNBOOKS:
            continue
        assert runbook.name in linked, f"{runbook.name} is linked by no alert"
        sections = re.findall(r"^## (\S+)\s*$", runbook.read_text(), flags=re.M)
        assert sections, runbook.name
        for section in sections:
            assert section in names, f"{runbook.name}: section {section} documents no alert"


# The observability docs this suite owns, every runbook included.
LINKED_DOCS = [ROOT / "docs" / "observability.md"] + sorted(RUNBOOKS.glob("*.md"))


@pytest.mark.parametrize("doc", LINKED_DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(doc):
    source = doc.relative_to(ROOT).as_posix()
    links, _ = check_links.links(doc.read_text())
    assert [d for _, d in links if not check_links.SCHEME.match(d)], f"{source} links nowhere"
    assert check_links.check(ROOT, [source]) == []
