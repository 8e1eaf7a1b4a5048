"""docker-compose.yml is consistent with the app's contract and with the files it mounts.

No Docker engine runs here, so these tests are what stands between a typo and a broken
`docker compose up`: commands, environment, ports, scrape targets and mounted paths.
Paths owned by the SRE part (alerts/, slo/_gen/, dashboards/) may not exist yet: only their
names are checked, plus that they are directories once they do exist.
"""

import fnmatch
import posixpath
import re
from urllib.parse import urlparse

import pytest

from conftest import ROOT, load_yaml

COMPOSE = load_yaml(ROOT / "docker-compose.yml")
SERVICES = COMPOSE["services"]
PROMETHEUS = load_yaml(ROOT / "deploy" / "compose" / "prometheus.yml")

COMMANDS = {"migrate", "serve", "ingest", "publish", "pubsub-setup", "probe"}


def settings_reference():
    """Variable names of docs/reference.md#settings, the table generated from app/src/config.rs."""
    text = (ROOT / "docs" / "reference.md").read_text()
    block = text.split("<!-- generated: settings", 1)[1].split("<!-- end generated: settings", 1)[0]
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", block, re.MULTILINE))


CONTRACT_ENV = settings_reference()
DEFAULT_PORT, DEFAULT_METRICS_PORT = 8080, 9464
# Directories the SRE part provides; compose mounts them whole.
SRE_PATHS = {"alerts", "alerts/rules", "slo/_gen", "dashboards", "dashboards/provisioning"}


def flightdeck_services():
    return {name: s for name, s in SERVICES.items() if s.get("image") == "flightdeck:local"}


def env(service):
    return {k: str(v) for k, v in (service.get("environment") or {}).items()}


def command(service):
    return service["command"]


def ports(service):
    """(host_ip, host_port, container_port) for each short-syntax mapping."""
    out = []
    for spec in service.get("ports", []):
        parts = str(spec).split(":")
        assert len(parts) == 3, f"publish ports on an explicit host address: {spec}"
        out.append((parts[0], int(parts[1]), int(parts[2])))
    return out


def bind_mounts(service):
    for spec in service.get("volumes", []):
        source, target, *mode = spec.split(":")
        if source.startswith("./"):
            yield posixpath.normpath(source[2:]), target, mode


def test_compose_runs_the_whole_stack():
    assert set(SERVICES) >= {"postgres", "pubsub-emulator", "pubsub-setup", "migrate", "ingest", "api",
                             "publish", "probe", "prometheus", "alertmanager", "grafana"}
    assert {command(s)[0] for s in flightdeck_services().values()} == COMMANDS


def test_one_service_builds_the_image_the_others_reuse():
    builders = [name for name, s in flightdeck_services().items() if "build" in s]
    assert len(builders) == 1
    assert "GIT_SHA" in flightdeck_services()[builders[0]]["build"]["args"]


def test_the_settings_reference_is_read():
    assert {"DATABASE_URL", "PUBLISH_BACKFILL_DAYS", "RUST_LOG"} <= CONTRACT_ENV


def test_publish_arguments_are_valid():
    args = command(SERVICES["publish"])
    assert args[0] == "publish"
    values = dict(zip(args[1::2], args[2::2]))
    assert set(values) == {"--rate", "--count", "--invalid-ratio", "--backfill-days"}
    assert int(values["--rate"]) > 0 and int(values["--count"]) > 0
    assert 0.0 <= float(values["--invalid-ratio"]) <= 1.0
    assert 0 <= int(values["--backfill-days"]) <= 92


@pytest.mark.parametrize("name", sorted(flightdeck_services()))
def test_flightdeck_environment_uses_only_contract_variables(name):
    variables = env(SERVICES[name])
    assert set(variables) <= CONTRACT_ENV, set(variables) - CONTRACT_ENV
    assert "DATABASE_URL" in variables
    assert variables.get("LOG_FORMAT", "json") in {"json", "pretty"}


@pytest.mark.parametrize("name", sorted(flightdeck_services()))
def test_database_url_matches_the_postgres_service(name):
    url = urlparse(env(SERVICES[name])["DATABASE_URL"])
    pg = env(SERVICES["postgres"])
    assert url.scheme in {"postgres", "postgresql"}
    assert (url.hostname, url.port) == ("postgres", 5432)
    assert (url.username, url.path.lstrip("/")) == (pg["POSTGRES_USER"], pg["POSTGRES_DB"])
    # Either the URL carries the server's password, or the server asks for none.
    assert url.password == pg.get("POSTGRES_PASSWORD") or (
        url.password is None and pg.get("POSTGRES_HOST_AUTH_METHOD") == "trust")


@pytest.mark.parametrize("name", sorted(flightdeck_services()))
def test_emulator_host_matches_the_emulator_service(name):
    host, port = env(SERVICES[name])["PUBSUB_EMULATOR_HOST"].split(":")
    emulator = command(SERVICES["pubsub-emulator"])
    assert host == "pubsub-emulator"
    assert f"--host-port=0.0.0.0:{port}" in emulator
    project = env(SERVICES[name]).get("GOOGLE_CLOUD_PROJECT", "flightdeck-local")
    assert f"--project={project}" in emulator


@pytest.mark.parametrize("name", ["api", "ingest"])
def test_servers_publish_their_http_and_metrics_ports(name):
    service = SERVICES[name]
    variables = env(service)
    http = int(variables.get("PORT", DEFAULT_PORT))
    metrics = int(variables.get("METRICS_PORT", DEFAULT_METRICS_PORT))
    assert http != metrics
    assert {c for _, _, c in ports(service)} == {http, metrics}
    assert command(service) == [{"api": "serve", "ingest": "ingest"}[name]]


def test_host_ports_are_loopback_only_and_unique():
    published = [p for s in SERVICES.values() for p in ports(s)]
    assert all(ip == "127.0.0.1" for ip, _, _ in published)
    host_ports = [hp for _, hp, _ in published]
    assert len(host_ports) == len(set(host_ports))


def test_prometheus_scrapes_the_metrics_port_of_api_ingest_and_probe():
    targets = {t for job in PROMETHEUS["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    for name in ("api", "ingest", "probe"):
        metrics = int(env(SERVICES[name]).get("METRICS_PORT", DEFAULT_METRICS_PORT))
        assert f"{name}:{metrics}" in targets
    alertmanagers = PROMETHEUS["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert alertmanagers == ["alertmanager:9093"]


def mounted_source(service, container_path):
    """The repo path mounted at (or above) container_path in service."""
    for source, target, _ in bind_mounts(service):
        if container_path == target or container_path.startswith(target.rstrip("/") + "/"):
            return posixpath.normpath(posixpath.join(source, posixpath.relpath(container_path, target)))
    return None


def test_prometheus_loads_its_config_and_the_repo_rules_through_mounts():
    prometheus = SERVICES["prometheus"]
    config = next(a.split("=", 1)[1] for a in command(prometheus) if a.startswith("--config.file="))
    assert mounted_source(prometheus, config) == "deploy/compose/prometheus.yml"
    rule_dirs = {mounted_source(prometheus, posixpath.dirname(glob)) for glob in PROMETHEUS["rule_files"]}
    assert rule_dirs == {"alerts/rules", "slo/_gen"}
    assert all(fnmatch.fnmatch("x.yml", posixpath.basename(g)) for g in PROMETHEUS["rule_files"])


def test_alertmanager_reads_the_repo_config():
    alertmanager = SERVICES["alertmanager"]
    config = next(a.split("=", 1)[1] for a in command(alertmanager) if a.startswith("--config.file="))
    assert mounted_source(alertmanager, config) == "alerts/alertmanager.yml"


def test_grafana_is_provisioned_from_the_repo():
    grafana = SERVICES["grafana"]
    assert mounted_source(grafana, "/etc/grafana/provisioning/datasources") == "dashboards/provisioning/datasources"
    assert mounted_source(grafana, "/etc/grafana/provisioning/dashboards") == "dashboards/provisioning/dashboards"
    assert mounted_source(grafana, "/var/lib/grafana/dashboards") == "dashboards"


def test_every_bind_mount_is_read_only_and_points_at_a_known_path():
    for name, service in SERVICES.items():
        for source, target, mode in bind_mounts(service):
            assert mode == ["ro"], f"{name}: {source} is mounted writable"
            path = ROOT / source
            if source.startswith("deploy/compose/"):
                assert path.exists(), f"{name} mounts {source}, which does not exist"
            else:
                assert source in SRE_PATHS, f"{name} mounts {source}, which no part of flightdeck provides"
                assert not path.exists() or path.is_dir(), f"{source} should be a directory"


def test_dependencies_exist_and_servers_start_after_migrations():
    for name, service in SERVICES.items():
        for dependency in service.get("depends_on", []):
            assert dependency in SERVICES, f"{name} depends on unknown service {dependency}"
    for name in ("api", "ingest"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["ingest"]["depends_on"]["pubsub-setup"]["condition"] == "service_completed_successfully"


def test_the_probe_reads_back_through_the_api_service_and_labels_like_the_others():
    probe = SERVICES["probe"]
    url = urlparse(env(probe)["PROBE_API_URL"])
    api_port = int(env(SERVICES["api"]).get("PORT", DEFAULT_PORT))
    assert (url.scheme, url.hostname, url.port) == ("http", "api", api_port)
    # A key is shown once when created: it comes from the host, never from this file.
    assert env(probe)["PROBE_API_KEY"] == "${PROBE_API_KEY:-}"
    metrics = int(env(probe).get("METRICS_PORT", DEFAULT_METRICS_PORT))
    assert metrics in {c for _, _, c in ports(probe)}
    jobs = {job["job_name"]: job for job in PROMETHEUS["scrape_configs"]}
    labels = {name: jobs[name]["static_configs"][0]["labels"] for name in
              ("flightdeck-api", "flightdeck-ingest", "flightdeck-probe")}
    assert len({lbl["system"] for lbl in labels.values()}) == 1, labels
    assert all(jobs[name].get("honor_labels") is True for name in labels)


def test_flightdeck_containers_are_locked_down():
    for name, service in flightdeck_services().items():
        assert service.get("read_only") is True, name
        assert service.get("cap_drop") == ["ALL"], name
        assert "no-new-privileges:true" in service.get("security_opt", []), name


def test_images_are_pinned_to_a_version():
    for name, service in SERVICES.items():
        image = service["image"]
        if image == "flightdeck:local":
            continue
        tag = image.rsplit(":", 1)[-1]
        assert re.search(r"\d", tag) and tag != "latest", f"{name}: {image} has no version tag"
