"""The fixture projects (tests/fixtures/projects): well formed, consistent with their manifest,
free of real host names. No network: installing them is verify.py's job."""

from __future__ import annotations

import configparser
import json
import sys

import pytest

from tests.fixtures.projects import (
    FILES_PLACEHOLDER,
    INDEX_PLACEHOLDER,
    ROOT,
    canonical,
    committed_files,
    expected,
    fixture_dir,
    from_placeholders,
    locked_versions,
    materialize,
    names,
    read_lock,
    real_hosts,
    to_placeholders,
    tomllib,
)

STYLES = {
    "uv",
    "poetry1",
    "poetry2",
    "pdm",
    "pipenv",
    "pylock",
    "groups-only",
    "pep621-extras",
    "setupcfg",
    "setuppy-cext",
    "requirements",
    "requirements-dir",
    "piptools",
    "pins-packaging",
    "python313",
}
NAMES = names()


def test_every_style_has_a_fixture_and_a_manifest_entry():
    assert set(NAMES) == STYLES
    on_disk = {p.name for p in ROOT.iterdir() if (p / "tests").is_dir()}
    assert on_disk == STYLES


def test_real_hosts_are_read_at_run_time():
    hosts = real_hosts()
    assert set(hosts) == {INDEX_PLACEHOLDER, FILES_PLACEHOLDER}
    assert all(hosts.values()) and "<" not in "".join(hosts.values())


@pytest.mark.parametrize("name", NAMES)
def test_no_committed_file_names_a_real_host(name):
    hosts = list(real_hosts().values())
    for rel in committed_files(name):
        text = (fixture_dir(name) / rel).read_text(encoding="utf-8")
        for host in hosts:
            assert host not in text, f"{name}/{rel} names {host}"
        assert "file://" not in text and "/opt/" not in text, f"{name}/{rel} names a local path"


def test_manifest_and_helpers_name_no_real_host():
    hosts = list(real_hosts().values())
    for path in [ROOT / "manifest.toml", *ROOT.glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert not [h for h in hosts if h in text], path


@pytest.mark.parametrize("name", NAMES)
def test_fixture_files_parse(name):
    base = fixture_dir(name)
    for rel in committed_files(name):
        path = base / rel
        text = from_placeholders(path.read_text(encoding="utf-8"))
        if path.suffix in (".toml", ".lock") and path.name != "Pipfile.lock" or path.name == "Pipfile":
            tomllib.loads(text)
        elif path.name == "Pipfile.lock":
            json.loads(text)
        elif path.suffix in (".cfg", ".ini"):
            configparser.ConfigParser().read_string(text)
        elif path.suffix == ".py":
            compile(text, str(path), "exec")
    assert list((base / "tests").glob("test_*.py")), f"{name} has no tests"


@pytest.mark.parametrize("name", NAMES)
def test_manifest_entry_matches_the_lock(name):
    entry = expected(name)
    in_files = locked_versions(name)
    assert entry["locked"] == in_files
    # Everything the dev venv gets is in the lock (or pinned), at the version there.
    assert entry["venv"], name
    for dist, version in entry["venv"].items():
        assert in_files.get(dist) == version, f"{name}: {dist} {version} not in {entry['lock_files'] or entry['pin_files']}"
    for rel in entry["lock_files"] + entry["pin_files"] + entry["requirement_files"]:
        assert (fixture_dir(name) / rel).is_file(), rel


@pytest.mark.parametrize("name", NAMES)
def test_manifest_entry_fields(name):
    entry = expected(name)
    assert entry["style"] and entry["tool"] and entry["install"]
    assert entry["python"] in ("3.11", "3.13")
    if entry["lock_files"]:
        assert entry["tool_version"] and entry["lock_command"]
    assert entry["dev_groups"] or entry["dev_extras"] or entry["requirement_files"] or entry["tool"] == "pipenv"
    if not entry["app"]:
        assert entry["project"]["name"] and entry["project"]["version"]


def test_locks_pin_versions_older_than_their_requirements_allow():
    # A re-resolve would pick newer ones: these lower bounds are far below the locked versions.
    assert expected("uv")["venv"]["pytest"] == "8.3.4"
    assert expected("poetry1")["venv"] == {
        "attrs": "23.2.0",
        "idna": "3.6",
        "iniconfig": "2.0.0",
        "packaging": "24.1",
        "pluggy": "1.5.0",
        "pytest": "8.2.2",
    }
    assert expected("piptools")["venv"]["idna"] == "3.6"
    assert expected("pins-packaging")["venv"]["packaging"] == "21.3"


def test_dev_selection():
    assert expected("uv")["dev_groups"] == ["dev"]
    assert expected("poetry2")["dev_groups"] == ["test"]
    assert expected("pep621-extras")["dev_extras"] == ["test"]
    groups = tomllib.loads((fixture_dir("groups-only") / "pyproject.toml").read_text())["dependency-groups"]
    assert {"include-group": "test"} in groups["dev"]
    # The lint group and the docs extra stay out of the dev venv.
    assert "colorama" not in expected("groups-only")["venv"]
    assert "colorama" not in expected("pep621-extras")["venv"]


def test_python313_needs_313():
    entry = expected("python313")
    assert entry["requires_python"] == ">=3.13" and entry["python_version_file"] == "3.13"
    assert tomllib.loads((fixture_dir("python313") / "uv.lock").read_text())["requires-python"] == ">=3.13"


def test_placeholders_round_trip():
    for name in NAMES:
        for rel in committed_files(name):
            text = (fixture_dir(name) / rel).read_text(encoding="utf-8")
            assert to_placeholders(from_placeholders(text)) == text
    sample = f"https://{INDEX_PLACEHOLDER}/simple https://{FILES_PLACEHOLDER}/packages/x.whl"
    real = from_placeholders(sample)
    assert "<" not in real and to_placeholders(real) == sample


@pytest.mark.parametrize("name", ["uv", "pipenv", "poetry2", "setuppy-cext"])
def test_materialize(tmp_path, name):
    dest = materialize(name, tmp_path / name)
    assert dest == tmp_path / name
    assert sorted(p.relative_to(dest) for p in dest.rglob("*") if p.is_file()) == committed_files(name)
    for rel in committed_files(name):
        assert to_placeholders((dest / rel).read_text(encoding="utf-8")) == (fixture_dir(name) / rel).read_text(encoding="utf-8")
        assert INDEX_PLACEHOLDER not in (dest / rel).read_text(encoding="utf-8")
    assert locked_versions(name, dest) == locked_versions(name)
    with pytest.raises(FileExistsError):
        materialize(name, dest)


def test_materialize_unknown_fixture(tmp_path):
    with pytest.raises(KeyError):
        materialize("no-such-style", tmp_path / "x")
    with pytest.raises(KeyError):
        expected("no-such-style")


def test_pipfile_lock_hash_matches_materialized_pipfile(tmp_path):
    # Pipenv hashes the Pipfile (with its source URL): only the materialized copy matches.
    dest = materialize("pipenv", tmp_path / "p")
    lock = json.loads((dest / "Pipfile.lock").read_text())
    assert lock["_meta"]["sources"][0]["url"] == tomllib.loads((dest / "Pipfile").read_text())["source"][0]["url"]


def test_read_lock_formats():
    assert read_lock(fixture_dir("pipenv") / "Pipfile.lock")["six"] == "1.16.0"
    assert read_lock(fixture_dir("pylock") / "pylock.toml")["certifi"] == "2024.8.30"
    assert read_lock(fixture_dir("piptools") / "requirements.txt") == {"idna": "3.6", "six": "1.16.0"}
    assert canonical("Foo_Bar.baz") == "foo-bar-baz"


def test_fixture_tests_are_not_collected_here():
    # tests/conftest.py keeps the fixtures' own tests out of this suite.
    assert not [m for m in sys.modules if m.startswith("fx_")]
