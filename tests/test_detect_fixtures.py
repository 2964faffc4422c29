"""Detection on the fixture projects (lockfiles made by the real tools): what the manifest says each is."""

from __future__ import annotations

import pytest

from provision.project import config, detect, locks
from tests.fixtures.projects import expected, materialize, names

# manifest tool -> the source the kit installs it with
SOURCE = {"uv": "uv", "poetry": "poetry", "pdm": "pdm", "pipenv": "pipenv", "pip": "pip", "pip-tools": "pip"}


@pytest.mark.parametrize("name", names())
def test_fixture_is_detected_as_its_manifest_says(tmp_path, name):
    entry = expected(name)
    project = materialize(name, tmp_path / name)
    spec = detect.detect(config.load(project))
    kind = "pylock" if entry["style"] == "pylock" else SOURCE[entry["tool"]]
    assert spec.kind == kind
    used = {u.path.name for u in spec.used}
    assert set(entry["lock_files"]) <= used  # pip-compile's outputs are the requirement files used
    if kind != "pylock":  # a pylock made by pip lock holds its groups already (single-use)
        dev = ["dev" if g == "dev-packages" else g for g in entry["dev_groups"]]
        assert list(spec.groups) == dev
    assert list(spec.extras) == entry["dev_extras"]
    if entry["requires_python"] and entry["style"] != "pipenv":
        assert any(c.text == entry["requires_python"] for c in spec.python)
    if entry["python_version_file"]:
        assert spec.python[0].source == ".python-version" and spec.python[0].text == entry["python_version_file"]


@pytest.mark.parametrize("name", [n for n in names() if expected(n)["tool"] in ("uv", "poetry", "pdm", "pipenv") or expected(n)["style"] == "pylock"])
def test_locked_versions_match_the_manifest(tmp_path, name):
    entry = expected(name)
    project = materialize(name, tmp_path / name)
    spec = detect.detect(config.load(project))
    got = {d.name: d.version for d in locks.locked_distributions(spec)}
    assert got == {k: v for k, v in entry["locked"].items() if k != entry["project"].get("name")}
