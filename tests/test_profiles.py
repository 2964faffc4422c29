"""Profiles: every shipped profile validates; resolution by id, ID_LIKE (noticed), system; bad data is a clear error."""

from __future__ import annotations

import pytest

from provision.errors import ConfigError, PlatformError
from provision.platforms import presets, profiles

RESOLUTION = [
    # preset, profile, via
    ("debian:11", "debian", "id"),
    ("debian:12", "debian", "id"),
    ("debian:13", "debian", "id"),
    ("ubuntu:22.04", "ubuntu", "id"),
    ("ubuntu:24.04", "ubuntu", "id"),
    ("fedora:40", "fedora", "id"),
    ("fedora:41", "fedora", "id"),
    ("rocky:8", "rhel", "id_like"),
    ("rocky:9", "rhel", "id_like"),
    ("almalinux:9", "rhel", "id_like"),
    ("centos:9", "rhel", "id_like"),
    ("opensuse-leap:15.6", "opensuse", "id_like"),
    ("opensuse-tumbleweed", "opensuse", "id_like"),
    ("arch", "arch", "id"),
    ("alpine:3.20", "alpine", "id"),
    ("linuxmint:22", "ubuntu", "id_like"),
    ("pop:22.04", "ubuntu", "id_like"),
    ("raspbian:12", "debian", "id_like"),
    ("macos:14", "macos", "id"),
    ("macos:15", "macos", "id"),
    ("windows:11", "windows", "id"),
]


@pytest.mark.parametrize("name", profiles.available())
def test_every_profile_loads(name):
    p = profiles.load(name)
    assert p.name == name
    assert {"build-tools", "python-headers", "venv"} <= set(p.needs)


@pytest.mark.parametrize(("key", "profile", "via"), RESOLUTION)
def test_resolution(key, profile, via):
    res = profiles.resolve(presets.load(key))
    assert (res.profile.name, res.via) == (profile, via)
    if via == "id_like":
        assert res.notice and "ID_LIKE" in res.notice and profile in res.notice
    else:
        assert res.notice is None


def test_unknown_distro_is_a_clear_error():
    from conftest import FIXTURES

    from provision.machine.facts import Facts
    from provision.machine.identity import read_identity

    ident = read_identity(FIXTURES / "os-release" / "unknown-distro", system="Linux")
    f = Facts("Linux", ident.distro_id, ident.distro_version, ident.distro_codename, ident.distro_name, ident.id_like, "x86_64")
    with pytest.raises(PlatformError) as e:
        profiles.resolve(f)
    msg = str(e.value)
    assert "gentoo" in msg and "--profile" in msg and "Known profiles" in msg


def test_forced_profile():
    f = presets.load("linuxmint:22")
    res = profiles.resolve(f, forced="debian")
    assert res.profile.name == "debian" and res.via == "forced"


def test_extends_merges_over_the_parent():
    ubuntu, debian = profiles.load("ubuntu"), profiles.load("debian")
    assert ubuntu.package_manager == "apt"
    assert ubuntu.needs["build-tools"] == debian.needs["build-tools"]
    assert len(ubuntu.files) == 2 and ubuntu.files[0].endswith("debian.toml")


def test_release_override():
    assert profiles.load("debian", release="11").pipx_method == "venv"
    assert profiles.load("debian", release="12").pipx_method == "package"
    assert profiles.load("rhel", release="8.8").python_packages
    assert not profiles.load("rhel", release="9.5").python_packages


GOOD = """
name = "{name}"
package-manager = "apt"
[needs]
build-tools = ["build-essential"]
python-headers = ["python3-dev"]
venv = ["python3-venv"]
pipx = ["pipx"]
"""

CA = """
[ca]
anchors = "/usr/local/share/ca-certificates"
update = ["update-ca-certificates"]
bundle = "/etc/ssl/certs/ca-certificates.crt"
package = "ca-certificates"
"""

BAD = [
    # text (name = "x"), message fragment
    (GOOD + 'colour = "blue"\n', "'needs.colour' must be a list"),
    (GOOD.replace('"apt"', '"yum"'), "'package-manager' is 'yum'"),
    (GOOD.replace('["build-essential"]', '["build essential"]'), "invalid package name"),
    (GOOD.replace('["build-essential"]', '["--force-yes"]'), "invalid package name"),
    (GOOD.replace('["build-essential"]', '"build-essential"'), "must be a list"),
    (GOOD.replace('pipx = ["pipx"]\n', ""), "lacks 'pipx'"),
    (GOOD + "[pipx]\nmethod = 'curl'\n", "'pipx.method'"),
    (GOOD.replace('package-manager = "apt"', 'package-manager = "apt"\nsurprise = 1'), "unknown key 'surprise'"),
    ("name = [", "not valid TOML"),
    (GOOD.replace('name = "{name}"', 'name = "other"'), "'name' is 'other'"),
    (GOOD + '[release."11"]\nfoo = 1\n', "unknown key 'release.11.foo'"),
    (GOOD + CA.replace("ca-certificates", "ca certificates"), "'ca.package' has an invalid package name"),
    (GOOD + CA.replace("\nupdate = [\"update-ca-certificates\"]", ""), "[ca] lacks update"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD)
def test_malformed_profiles(tmp_path, text, fragment):
    (tmp_path / "x.toml").write_text(text.replace("{name}", "x"))
    with pytest.raises(ConfigError) as e:
        profiles.load("x", tmp_path)
    assert fragment in str(e.value)
    assert "x.toml" in str(e.value)


def test_the_store_package_is_read(tmp_path):
    (tmp_path / "x.toml").write_text((GOOD + CA).replace("{name}", "x"))
    assert profiles.load("x", tmp_path).trust_store.package == "ca-certificates"


def test_extends_loop(tmp_path):
    (tmp_path / "a.toml").write_text('name = "a"\nextends = "b"\n')
    (tmp_path / "b.toml").write_text('name = "b"\nextends = "a"\n')
    with pytest.raises(ConfigError, match="loop"):
        profiles.load("a", tmp_path)


def test_unknown_need_names_the_profile():
    with pytest.raises(ConfigError, match="no packages in the 'windows' profile"):
        profiles.load("windows").packages("cairo")
