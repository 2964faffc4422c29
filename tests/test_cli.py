"""The command line as users call it: ./bootstrap (stage 0 + invoke)."""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import REPO

PLATFORMS = ["debian:11", "debian:12", "debian:13", "ubuntu:22.04", "ubuntu:24.04", "fedora:40", "rocky:9",
             "opensuse-leap:15.6", "arch", "alpine:3.20", "macos:14", "windows:11", "linuxmint:22"]


@pytest.fixture(autouse=True)
def _own_home(own_home):
    """Every command here writes (logs, state) only below the test's own HOME."""
    return own_home


def kit(*args: str, cwd=REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REPO / "bootstrap"), *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_list_shows_the_tasks():
    res = kit("--list")
    assert res.returncode == 0
    for name in ("bootstrap", "facts", "doctor", "explain", "test"):
        assert f"  {name}" in res.stdout, name


def test_bootstrap_help_documents_every_option():
    res = kit("bootstrap", "--help")
    for option in ("--dry-run", "--platform", "--project", "--ca-bundle", "--profile", "--python", "--json", "--yes", "--refresh-after"):
        assert option in res.stdout, option


@pytest.mark.parametrize("platform", PLATFORMS)
def test_dry_run_json_per_platform(platform):
    res = kit("--dry-run", "--platform", platform, "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)  # nothing but JSON on stdout
    assert data["dry_run"] is True and data["preset"]
    assert data["recap"]["failed"] == 0
    names = [s["name"] for s in data["steps"]]
    assert names.index("system-packages") < names.index("project-venv")
    for step in data["steps"]:
        for c in step["commands"]:
            assert isinstance(c["argv"], list) and all(isinstance(a, str) for a in c["argv"])


def test_derivative_notice_is_visible():
    res = kit("--dry-run", "--platform", "linuxmint:22")
    assert "notice: no profile for 'linuxmint'; using the 'ubuntu' profile" in res.stdout


def test_dry_run_of_this_machine_touches_nothing(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    (project / "provision.toml").write_text('venv = ".venv"\n')
    res = kit("--dry-run", "--project", str(project))
    assert res.returncode == 0, res.stderr
    assert "dry run: nothing is changed" in res.stdout and "recap:" in res.stdout
    assert sorted(p.name for p in project.iterdir()) == ["provision.toml"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--dry-run", "--platform", "plan9"], "unknown platform preset 'plan9'"),
        (["--platform", "debian:12"], "can only be planned here"),
        (["--dry-run", "--profile", "nosuch"], "there is no profile 'nosuch'"),
        (["--dry-run", "--ca-bundle", "/nonexistent.pem"], "CA bundle '/nonexistent.pem' is not a readable file"),
    ],
)
def test_bad_input_is_one_clear_error(args, fragment):
    res = kit(*args)
    assert res.returncode != 0
    assert fragment in res.stderr
    assert "Traceback" not in res.stderr


def test_malformed_project_config(tmp_path):
    (tmp_path / "provision.toml").write_text('venv = ".venv"\npipx = "ruff"\n')
    res = kit("--dry-run", "--project", str(tmp_path))
    assert res.returncode != 0
    assert "provision.toml" in res.stderr and "key 'pipx' must be a list" in res.stderr


def test_malformed_ca_bundle(tmp_path):
    bad = tmp_path / "corp.pem"
    bad.write_text("not a certificate\n")
    res = kit("--dry-run", "--ca-bundle", str(bad))
    assert res.returncode != 0 and "holds no PEM certificate" in res.stderr
