"""The kit only ever deletes or replaces what it can prove it built, inside the project.

The config fence (this file), the venv step's fence (test_steps) and provision.atomic's
own refusal (test_atomic) each hold alone; the chroot test runs the real thing.
"""

from __future__ import annotations

import os

import pytest

from provision.atomic import STAMP
from provision.errors import ConfigError
from provision.project import config


def _project(tmp_path, venv_value: str | None, setup: str) -> tuple:
    project = tmp_path / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("print('mine')\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious").write_text("keep me")
    if setup == "venv is a symlink":
        (project / ".venv").symlink_to(elsewhere)
    elif setup == "venv is a symlink to a kit venv":
        (elsewhere / STAMP).write_text("{}")
        (project / ".venv").symlink_to(elsewhere)
    elif setup == "dangling symlink":
        (project / ".venv").symlink_to(tmp_path / "nowhere")
    elif setup == "parent is a symlink":
        (project / "envs").symlink_to(elsewhere)
    elif setup == "venv is a file":
        (project / ".venv").write_text("not a dir")
    elif setup == "empty directory":
        (project / ".venv").mkdir()
    body = f"venv = {venv_value!r}\n" if venv_value is not None else ""
    (project / "provision.toml").write_text(body)
    return project, elsewhere


REFUSED = [
    # venv value, setup, message fragment
    (None, "venv is a symlink", "goes through a symlink"),
    (None, "venv is a symlink to a kit venv", "goes through a symlink"),
    (None, "dangling symlink", "goes through a symlink"),
    ("envs/dev", "parent is a symlink", "goes through a symlink"),
    ("src", "", "is not a venv"),
    ("src/", "", "is not a venv"),
    ("./src/.", "", "is not a venv"),
    ("../x", "", "is not inside the project"),
    ("../proj/../x", "", "is not inside the project"),
    ("/usr", "", "is not inside the project"),
    ("/", "", "is not inside the project"),
    ("~", "", "is not inside the project"),
    (".", "", "is not inside the project"),
    ("src/..", "", "is not inside the project"),
    ("", "", "non-empty path"),
    ("  ", "", "non-empty path"),
    (None, "venv is a file", "is not a directory"),
    (None, "empty directory", "is not a venv"),
]


@pytest.mark.parametrize(("value", "setup", "fragment"), REFUSED)
def test_venv_path_refused_when_the_config_is_read(tmp_path, value, setup, fragment):
    project, elsewhere = _project(tmp_path, value, setup)
    before = sorted(os.walk(tmp_path))
    with pytest.raises(ConfigError) as e:
        config.load(project)
    assert fragment in str(e.value) and "key 'venv'" in str(e.value) and "provision.toml" in str(e.value)
    assert sorted(os.walk(tmp_path)) == before
    assert (elsewhere / "precious").read_text() == "keep me"


@pytest.mark.parametrize(("value", "setup"), [(None, ""), (".venv", ""), ("envs/dev", ""), ("./.venv/", "")])
def test_venv_path_accepted(tmp_path, value, setup):
    project, _ = _project(tmp_path, value, setup)
    cfg = config.load(project)
    assert str(cfg.venv).startswith(str(project) + os.sep) and not os.path.lexists(cfg.venv)


def test_existing_foreign_venv_is_accepted_for_a_kept_backup(tmp_path):
    project, _ = _project(tmp_path, None, "")
    (project / ".venv").mkdir()
    (project / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert config.load(project).venv == project / ".venv"
