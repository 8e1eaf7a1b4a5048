"""The Dockerfile and .dockerignore match the app's build and runtime contract."""

import fnmatch
import re
import tomllib

from conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
INSTRUCTIONS = [
    line.strip()
    for line in re.sub(r"\\\n", " ", DOCKERFILE).splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]


def stages():
    out, current = [], None
    for line in INSTRUCTIONS:
        if line.upper().startswith("FROM "):
            current = {"from": line, "lines": []}
            out.append(current)
        elif current is not None:
            current["lines"].append(line)
    return out


def test_final_stage_is_distroless_cc_and_runs_as_non_root():
    final = stages()[-1]
    assert "gcr.io/distroless/cc-" in final["from"]
    users = [line.split()[1] for line in final["lines"] if line.startswith("USER ")]
    assert users, "final stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0


def test_dependencies_are_cooked_before_the_sources_are_copied():
    builder = next(s for s in stages() if " AS builder" in s["from"])
    lines = builder["lines"]
    cook = next(i for i, line in enumerate(lines) if "cargo chef cook" in line)
    copy_all = next(i for i, line in enumerate(lines) if line.startswith("COPY . ."))
    build = next(i for i, line in enumerate(lines) if "cargo build" in line)
    git_sha = next(i for i, line in enumerate(lines) if line.startswith("ARG GIT_SHA"))
    assert cook < copy_all < build
    assert cook < git_sha < build, "GIT_SHA must not invalidate the dependency layer"
    assert "--release --locked -p flightdeck" in lines[build]
    assert any(line.startswith("ENV GIT_SHA=${GIT_SHA}") for line in lines)


def test_image_exposes_the_contract_ports_and_defaults_to_serve():
    final = stages()[-1]["lines"]
    exposed = {int(p) for line in final if line.startswith("EXPOSE ") for p in line.split()[1:]}
    assert exposed == {8080, 9464}
    assert 'ENTRYPOINT ["/usr/local/bin/flightdeck"]' in final
    assert 'CMD ["serve"]' in final


def test_image_has_oci_labels():
    labels = " ".join(line for line in stages()[-1]["lines"] if line.startswith("LABEL "))
    for key in ("title", "source", "revision", "version", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels


def dockerignore_allows(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern also matches everything below it."""
    allowed = True
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        candidates = [pattern, pattern.replace("**/", "")]
        if any(fnmatch.fnmatch(prefix, c) for prefix in prefixes for c in candidates):
            allowed = negate
    return allowed


def test_dockerignore_sends_every_workspace_member_and_nothing_else():
    workspace = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]
    for member in workspace["members"]:
        assert dockerignore_allows(f"{member}/Cargo.toml"), f"workspace member {member} is ignored"
        assert dockerignore_allows(f"{member}/src/main.rs") or dockerignore_allows(f"{member}/src/lib.rs")
    assert dockerignore_allows("Cargo.toml") and dockerignore_allows("Cargo.lock")
    assert dockerignore_allows("app/migrations/V1__flight_events.sql")
    for private in (".git/config", "target/release/flightdeck", "terraform/envs/prod/main.tf", ".env",
                    "app/target/debug/flightdeck"):
        assert not dockerignore_allows(private), f"{private} would be sent to the build"
