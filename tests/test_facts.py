"""Facts from fixture trees of real os-release files, and the interpreter probe."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import FIXTURES, PRESETS

from provision.errors import ProvisionError
from provision.machine import facts, host, identity, interp_probe, pyprobe, pythons
from provision.redact import mask

IDENTITY = [
    # tree, id, version, codename, ID_LIKE
    ("debian-11", "debian", "11", "bullseye", ()),
    ("debian-12", "debian", "12", "bookworm", ()),
    ("debian-13", "debian", "13", "trixie", ()),
    ("ubuntu-22.04", "ubuntu", "22.04", "jammy", ("debian",)),
    ("ubuntu-24.04", "ubuntu", "24.04", "noble", ("debian",)),
    ("fedora-40", "fedora", "40", "", ()),
    ("fedora-41", "fedora", "41", "", ()),
    ("rocky-8", "rocky", "8.8", "Green Obsidian", ("rhel", "centos", "fedora")),
    ("rocky-9", "rocky", "9.5", "Blue Onyx", ("rhel", "centos", "fedora")),
    ("almalinux-9", "almalinux", "9.2", "Turquoise Kodkod", ("rhel", "centos", "fedora")),
    ("centos-stream-9", "centos", "9", "", ("rhel", "fedora")),
    ("opensuse-leap-15.6", "opensuse-leap", "15.6", "", ("suse", "opensuse")),
    ("opensuse-tumbleweed", "opensuse-tumbleweed", "20240112", "", ("opensuse", "suse")),
    ("arch", "arch", "", "", ()),
    ("alpine-3.20", "alpine", "3.20.1", "", ()),
    ("linuxmint-22", "linuxmint", "22.3", "zena", ("ubuntu", "debian")),
    ("pop-22.04", "pop", "22.04", "jammy", ("ubuntu", "debian")),
    ("raspbian-12", "raspbian", "12", "bookworm", ("debian",)),
]


@pytest.mark.parametrize(("tree", "distro_id", "version", "codename", "like"), IDENTITY)
def test_identity_from_real_os_release(tree, distro_id, version, codename, like):
    ident = identity.read_identity(PRESETS / tree, system="Linux")
    assert (ident.distro_id, ident.distro_version, ident.distro_codename, ident.id_like) == (distro_id, version, codename, like)
    assert ident.system == "Linux"
    assert ident.distro_name


def test_every_preset_tree_is_covered():
    trees = {p.name for p in PRESETS.iterdir() if (p / "etc" / "os-release").exists()}
    assert trees == {row[0] for row in IDENTITY}


def test_unknown_distro_fixture():
    ident = identity.read_identity(FIXTURES / "os-release" / "unknown-distro", system="Linux")
    assert ident.distro_id == "gentoo" and ident.id_like == ()


def test_missing_os_release_is_a_clear_error(tmp_path):
    with pytest.raises(ProvisionError, match="no os-release file below"):
        identity.read_identity(tmp_path, system="Linux")


def test_probe_of_the_running_interpreter():
    py = pythons.probe_python(sys.executable)
    assert py is not None
    assert py.version == ".".join(map(str, sys.version_info[:3]))
    assert py.has_ssl and py.has_venv
    # the same answer in-process (stage 0 and remote use it) and through the probe
    assert py.pip_wheel == interp_probe.pip_wheel()


def test_all_candidates_probed_at_once_match_one_by_one():
    path = tuple(os.environ.get("PATH", "").split(os.pathsep))
    assert pythons.gather_pythons(path) == pythons.gather_pythons(path, run=pythons._run)


def test_prefetched_probes_are_taken_once(monkeypatch):
    path = tuple(os.environ.get("PATH", "").split(os.pathsep))
    pyprobe.prefetch(path)
    early = pyprobe._prefetched
    assert early is not None and pyprobe.start(path) is early
    assert pyprobe.start(path) is not early  # a later gather probes again: facts never go stale


def test_probe_of_a_broken_interpreter_is_none(tmp_path):
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    assert pythons.probe_python(str(fake)) is None


PROBE_CASES = [
    # probe output -> (os_managed, framework)
    ({"base_prefix": "/usr"}, (True, "")),
    ({"base_prefix": "/root/.pyenv/versions/3.11.7"}, (False, "")),
    ({"base_prefix": "/Library/Frameworks/Python.framework/Versions/3.12", "framework": "Python"}, (False, "python.org")),
    ({"base_prefix": "/opt/homebrew/Cellar/python@3.12/3.12.4/Frameworks/Python.framework/Versions/3.12", "framework": "Python"},
     (False, "homebrew")),
    ({"base_prefix": "/Library/Developer/CommandLineTools/Library/Frameworks/Python3.framework/Versions/3.9", "framework": "Python3"},
     (True, "system")),
]


@pytest.mark.parametrize(("extra", "expected"), PROBE_CASES)
def test_python_from_probe_classifies_installations(extra, expected):
    data = {"executable": "/x/python3", "version": "3.11.2", "stdlib": "/nonexistent", "include": "/nonexistent", **extra}
    py = pythons.python_from_probe(data)
    assert (py.os_managed, py.framework) == expected
    assert py.minor == "3.11"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("http://user:secret@proxy:3128", "http://***@proxy:3128"),
        ("http://proxy:3128", "http://proxy:3128"),
        ("https://tok@idx/simple", "https://***@idx/simple"),
    ],
)
def test_proxy_credentials_are_masked(raw, masked):
    assert mask(raw) == masked


def test_shebang_tools(tmp_path):
    script = tmp_path / "pip"
    script.write_text("#!/usr/bin/python3\nimport pip\n")
    script.chmod(0o755)
    shim = tmp_path / "pipx"
    shim.write_text("#!/usr/bin/env bash\nexec pyenv exec pipx\n")
    shim.chmod(0o755)
    assert host.find_tool("pip", str(tmp_path)).python == "/usr/bin/python3"
    assert host.find_tool("pipx", str(tmp_path)).python is None


def test_gather_on_this_machine_is_json_serialisable():
    f = facts.gather()
    json.dumps(f.to_json())
    assert f.system in ("Linux", "Darwin", "Windows")
    assert f.pythons, "at least the interpreter running the tests is found"


def test_facts_task_json(own_home):
    from conftest import REPO

    res = subprocess.run([str(REPO / "bootstrap"), "facts", "--json"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert {"system", "distro_id", "distro_version", "id_like", "pythons", "pip", "pipx", "compiler", "ca", "proxies", "sudo"} <= set(data)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, {}),
        ({"HTTPS_PROXY": "http://proxy:3128"}, {"HTTPS_PROXY": "http://proxy:3128"}),
        ({"https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2"}, {"HTTPS_PROXY": "http://lower:1"}),  # urllib: lower case wins
        ({"http_proxy": "http://u:secret@p:3128", "no_proxy": "localhost"}, {"HTTP_PROXY": "http://***@p:3128", "NO_PROXY": "localhost"}),
    ],
)
def test_proxies_as_urllib_reads_them(monkeypatch, environ, expected):
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for k, v in environ.items():
        monkeypatch.setenv(k, v)
    f = facts.gather()
    assert dict(f.proxies) == expected
    assert "secret" not in json.dumps(f.to_json())


@pytest.mark.parametrize(
    ("system_wheel", "kept", "expected"),
    [
        ("/usr/share/python-wheels/pip-23.0.1-py3-none-any.whl", True, "/usr/share/python-wheels/pip-23.0.1-py3-none-any.whl"),
        (None, True, "KEPT"),  # stage 0 downloaded the wheel: the copy it kept in the tool venv
        (None, False, None),
    ],
)
def test_pip_for_the_kits_own_calls(tmp_path, monkeypatch, system_wheel, kept, expected):
    import importlib.util

    from provision.machine import interp_probe as probe_script

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pip" else real_find_spec(name, *a))
    monkeypatch.setattr(probe_script, "pip_wheel", lambda: system_wheel)
    monkeypatch.setattr(pyprobe.sys, "prefix", str(tmp_path))
    keep = tmp_path / "share" / "provision" / "pip-25.0-py3-none-any.whl"
    if kept:
        keep.parent.mkdir(parents=True)
        keep.write_bytes(b"")
    cmd = pyprobe.pip_command()
    want = str(keep) if expected == "KEPT" else expected
    assert cmd == ([pyprobe.sys.executable, f"{want}/pip"] if want else [])
