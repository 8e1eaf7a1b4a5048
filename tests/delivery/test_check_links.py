"""The Markdown link checker (scripts/check_links.py) on small repositories, then on this one:
missing files and anchors fail with file:line, GitHub's anchor rules hold, code is ignored."""

import importlib.util
import subprocess
import sys

from conftest import ROOT

SCRIPT = ROOT / "scripts" / "check_links.py"
spec = importlib.util.spec_from_file_location("check_links", SCRIPT)
check_links = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_links)


def repository(path, files):
    """A git repository at `path` holding `files` ({name: text}), untracked (new files count)."""
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    return path


def test_links_to_files_directories_and_headings_pass(tmp_path):
    repository(tmp_path, {
        "README.md": "# Top heading\n\n"
                     "[guide](docs/guide.md), [set-up](docs/guide.md#set-up), [docs](docs/),\n"
                     "[top](#top-heading), [root](/docs/guide.md), ![diagram](docs/diagram.png),\n"
                     "[spaced](<docs/guide.md> \"title\"), [line](app/main.py#L3-L9),\n"
                     "[web](https://example.org/missing.md#x), [mail](mailto:oncall@example.org),\n"
                     "[by reference][guide] and [collapsed][].\n\n"
                     "[guide]: docs/guide.md#set-up\n[collapsed]: ./README.md\n",
        "docs/guide.md": "# Guide\n\n## Set-up\n\nBack to [the top](../README.md#top-heading).\n",
        "docs/diagram.png": "",
        "app/main.py": "",
    })
    assert check_links.check(tmp_path) == []


def test_a_missing_file_is_reported_with_its_file_and_line(tmp_path):
    repository(tmp_path, {"docs/a.md": "# A\n\nSee\n[the other](other.md) and [this](a.md).\n"})
    assert check_links.check(tmp_path) == [
        "docs/a.md:4: other.md: docs/other.md does not exist in the repository"]


def test_a_missing_anchor_is_reported_in_the_same_and_in_another_file(tmp_path):
    repository(tmp_path, {
        "a.md": "# A\n\n## Known\n\n[here](#unknown) [there](b.md#gone) [ok](b.md#b)\n",
        "b.md": "# B\n",
    })
    assert check_links.check(tmp_path) == [
        "a.md:5: #unknown: a.md has no heading or anchor #unknown",
        "a.md:5: b.md#gone: b.md has no heading or anchor #gone",
    ]


def test_duplicate_headings_get_numbered_anchors(tmp_path):
    repository(tmp_path, {
        "a.md": "# Step\n\n## Step\n\n### Step\n\n## Step 1\n\n"
                "[0](#step) [1](#step-1) [2](#step-2) [3](#step-3)\n",
    })
    # "Step 1" comes after two repeats of "Step" took step-1 and step-2: it is step-1-1, and
    # nothing is step-3.
    assert check_links.anchors((tmp_path / "a.md").read_text()) == {"step", "step-1", "step-2", "step-1-1"}
    assert check_links.check(tmp_path) == ["a.md:9: #step-3: a.md has no heading or anchor #step-3"]


def test_headings_lose_markup_and_punctuation_as_on_github():
    doc = "\n".join([
        "# Runbook: ingest",
        "## 5.1 Alert rules & thresholds",
        "## The `system` label (`FLIGHTDECK_SYSTEM`)",
        "## A `code` [link](x.md) with _emphasis_ and **bold**",
        "## snake_case_name stays",
        "### Cómo mejorar cada parte ##",
        "## What's new? 100% `v2.1`!",
        "Setext heading, level two",
        "------",
        "",
        "A setext heading",
        "on two lines",
        "===",
        "",
        "- a list item",
        "  continued",
        "---",
        "",
        "| not | a heading |",
        "| --- | --- |",
    ])
    assert check_links.anchors(doc) == {
        "runbook-ingest", "51-alert-rules--thresholds", "the-system-label-flightdeck_system",
        "a-code-link-with-emphasis-and-bold", "snake_case_name-stays", "cómo-mejorar-cada-parte",
        "whats-new-100-v21", "setext-heading-level-two", "a-setext-heading-on-two-lines",
    }


def test_explicit_html_anchors_count(tmp_path):
    repository(tmp_path, {
        "a.md": '# A\n\n<a id="custom"></a>\n<a name="legacy"></a>\n\n[1](#custom) [2](#legacy)\n',
    })
    assert check_links.check(tmp_path) == []


def test_links_in_code_and_comments_are_ignored(tmp_path):
    repository(tmp_path, {
        "a.md": "# A\n\n"
                "```markdown\n[fenced](missing.md)\n# Not a heading\n```\n\n"
                "~~~~\n[tilde](missing.md)\n```\n[still fenced](missing.md)\n~~~~\n\n"
                "Inline `[code](missing.md)` and ``[double `tick`](missing.md)``.\n"
                "<!-- [comment](missing.md) -->\n\n"
                "[a heading in a fence is no anchor](#not-a-heading)\n",
    })
    assert check_links.check(tmp_path) == [
        "a.md:17: #not-a-heading: a.md has no heading or anchor #not-a-heading"]


def test_reference_definitions_and_labels_are_checked(tmp_path):
    repository(tmp_path, {"a.md": "# A\n\n[text][nowhere] and [b][B].\n\n[b]: gone.md\n"})
    assert check_links.check(tmp_path) == [
        "a.md:3: [text][nowhere]: reference label is not defined",
        "a.md:5: gone.md: gone.md does not exist in the repository",
    ]


def test_ignored_files_and_paths_outside_are_not_in_the_repository(tmp_path):
    repository(tmp_path, {
        ".gitignore": "reports/\n",
        "reports/today.md": "# Today\n",
        "a.md": "[ignored](reports/today.md) [outside](../elsewhere.md)\n",
    })
    assert check_links.check(tmp_path) == [
        "a.md:1: reports/today.md: reports/today.md does not exist in the repository",
        "a.md:1: ../elsewhere.md: ../elsewhere.md is outside the repository",
    ]


def test_an_anchor_into_a_file_that_is_not_markdown_cannot_pass(tmp_path):
    repository(tmp_path, {"a.md": "[section](main.tf#locals)\n", "main.tf": ""})
    assert check_links.check(tmp_path) == [
        "a.md:1: main.tf#locals: #locals cannot be checked: main.tf is not a Markdown file"]


def test_the_script_exits_1_and_prints_each_problem(tmp_path):
    repository(tmp_path, {"a.md": "[x](gone.md)\n"})
    broken = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True)
    assert broken.returncode == 1
    assert broken.stdout == "a.md:1: gone.md: gone.md does not exist in the repository\n"
    (tmp_path / "gone.md").write_text("")
    assert subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)]).returncode == 0


def test_every_link_of_this_repository_resolves():
    assert check_links.check(ROOT) == []
