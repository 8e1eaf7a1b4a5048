"""Every alert, hand-written (alerts/rules) or generated (slo/_gen), is actionable: a severity the
Alertmanager routes, a summary, a description and a runbook_url that resolves to a heading of a
runbook in this repository. Every runbook section of a symptom alert names an existing alert.
"""

import re
import urllib.parse

import pytest

from conftest import ROOT, load_rules, rule_files

REPO_URL = "https://github.com/flightdeck-sre/flightdeck/blob/main/"
RUNBOOKS = ROOT / "docs" / "runbooks"
# Written with the SLO generator; its sections are per SLO, not per alert.
GENERATED_RUNBOOKS = {"slo.md"}


def alerts():
    return [(path.relative_to(ROOT).as_posix(), rule) for path in rule_files()
            for rule in load_rules(path) if "alert" in rule]


def alert_id(item):
    path, rule = item
    return f"{path}:{rule['alert']}:{rule['labels'].get('slo', '')}"


def github_anchors(markdown):
    """The anchors GitHub generates for the headings of a Markdown document."""
    anchors, seen, fenced = set(), {}, False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        text = re.sub(r"`([^`]*)`", r"\1", match.group(1))
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def test_github_anchor_rules():
    doc = "# Runbook: ingest\n## FlightdeckIngestStalled\n## 5.1 Alert rules and thresholds\n## A `code` [link](x)\n## A\n## A\n"
    assert github_anchors(doc) == {"runbook-ingest", "flightdeckingeststalled", "51-alert-rules-and-thresholds",
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
    assert anchor in github_anchors(target.read_text()), f"{path} has no heading with anchor #{anchor}"


def test_every_symptom_runbook_section_is_an_alert():
    names = {rule["alert"] for _, rule in alerts()}
    linked = {rule["annotations"]["runbook_url"].split("#")[0].rsplit("/", 1)[-1] for _, rule in alerts()}
    for runbook in sorted(RUNBOOKS.glob("*.md")):
        if runbook.name in GENERATED_RUNBOOKS:
            continue
        assert runbook.name in linked, f"{runbook.name} is linked by no alert"
        sections = re.findall(r"^## (\S+)\s*$", runbook.read_text(), flags=re.M)
        assert sections, runbook.name
        for section in sections:
            assert section in names, f"{runbook.name}: section {section} documents no alert"


# The observability docs this suite owns (slo.md is checked by the SLO generator's own tests).
LINKED_DOCS = [ROOT / "docs" / "observability.md"] + [p for p in sorted(RUNBOOKS.glob("*.md"))
                                                       if p.name not in GENERATED_RUNBOOKS]


@pytest.mark.parametrize("doc", LINKED_DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(doc):
    text = re.sub(r"```.*?```", "", doc.read_text(), flags=re.S)
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links, f"{doc.name} links nowhere"
    for link in links:
        if re.match(r"^[a-z]+://", link):
            continue
        path, _, anchor = link.partition("#")
        target = (doc.parent / urllib.parse.unquote(path)).resolve() if path else doc
        assert target.exists(), f"{doc.name}: {link} points at a missing file"
        if anchor:
            assert target.suffix == ".md" and anchor in github_anchors(target.read_text()), \
                f"{doc.name}: {link} points at a missing heading"
