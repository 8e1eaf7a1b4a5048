"""scripts/install-prometheus.sh as a user who is not root, with fakes for `id`, `sudo`, `apt-get`
and `apt-cache` and a PATH that holds nothing else of Prometheus: it installs through sudo when the
user has it (GitHub's runner), and otherwise stops with a message saying what to do.
"""

import os
import shutil
import subprocess

import pytest

from conftest import ROOT

SYSTEM_TOOLS = ("bash", "dirname", "cat", "head", "find", "mkdir", "touch", "tee", "chmod", "rm", "env", "grep")

FAKE_ID = '#!/bin/bash\ncase "$1" in -u) echo 1001 ;; -un) echo runner ;; *) echo "uid=1001(runner)" ;; esac\n'
FAKE_SUDO = r"""#!/bin/bash
printf 'sudo %s\n' "$*" >> "$FAKE_DIR/calls"
[[ $1 == -n ]] && shift
[[ $1 == true ]] && exit 0
[[ $1 == env ]] && shift && while [[ $1 == *=* ]]; do shift; done
case "$1" in
  apt-get) exec "$FAKE_BIN/apt-get" "${@:2}" ;;
  *) cat >/dev/null 2>&1 <&0 & exit 0 ;;  # tee, chmod, rm, mkdir, touch: recorded, not run
esac
"""
FAKE_APT_GET = r"""#!/bin/bash
printf 'apt-get %s\n' "$*" >> "$FAKE_DIR/calls"
if [[ $1 == install ]]; then
  for tool in promtool amtool prometheus alertmanager; do
    printf '#!/bin/bash\necho "%s, version 2.42.0"\n' "$tool" > "$FAKE_BIN/$tool"; chmod +x "$FAKE_BIN/$tool"
  done
fi
"""


@pytest.fixture
def user_env(tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for tool in SYSTEM_TOOLS:
        os.symlink(shutil.which(tool), fake_bin / tool)
    for name, text in (("id", FAKE_ID), ("apt-get", FAKE_APT_GET), ("apt-cache", "#!/bin/bash\nexit 0\n")):
        (fake_bin / name).write_text(text)
        (fake_bin / name).chmod(0o755)
    env = {"PATH": str(fake_bin), "FAKE_DIR": str(tmp_path), "FAKE_BIN": str(fake_bin),
           "FLIGHTDECK_TOOLS": str(tmp_path / "tools"), "HOME": str(tmp_path)}
    return tmp_path, fake_bin, env


def run_install(env):
    return subprocess.run(["bash", str(ROOT / "scripts/install-prometheus.sh")], env=env, capture_output=True,
                          text=True, timeout=30)


def test_a_user_without_sudo_is_told_what_to_run(user_env):
    tmp, _, env = user_env
    result = run_install(env)
    assert result.returncode == 1
    assert "runner is neither root nor has passwordless sudo" in result.stderr
    assert "sudo apt-get install prometheus prometheus-alertmanager" in result.stderr
    assert not (tmp / "calls").exists(), "nothing may be attempted without root"


def test_a_user_with_sudo_installs_through_it(user_env):
    tmp, fake_bin, env = user_env
    (fake_bin / "sudo").write_text(FAKE_SUDO)
    (fake_bin / "sudo").chmod(0o755)
    result = run_install(env)
    assert result.returncode == 0, result.stderr
    calls = (tmp / "calls").read_text().splitlines()
    install = [c for c in calls if c.startswith("sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install")]
    assert install and install[0].endswith("prometheus prometheus-alertmanager")
    assert "apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager" in calls
    assert "installed: promtool, version 2.42.0" in result.stderr


def test_a_user_finds_tools_already_installed_without_root(user_env):
    tmp, fake_bin, env = user_env
    for tool in ("promtool", "amtool", "prometheus", "alertmanager"):
        (fake_bin / tool).write_text(f'#!/bin/bash\necho "{tool}, version 2.42.0"\n')
        (fake_bin / tool).chmod(0o755)
    result = run_install(env)
    assert result.returncode == 0, result.stderr
    assert "prometheus tools present" in result.stderr and "(user runner)" in result.stderr
    assert not (tmp / "calls").exists()
