"""The venv check (provision/checks/verify_venv.py) run for real in a venv without pip, as uv makes them."""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import pytest

from provision.paths import PACKAGE

CHECK = str(PACKAGE / "checks" / "verify_venv.py")


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("venv") / "v"
    venv.EnvBuilder(with_pip=False).create(where)
    return where / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def fake_uv(tmp_path: Path, code: int) -> Path:
    uv = tmp_path / "uv"
    uv.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{tmp_path}/argv"\necho "uv says {code}"\nexit {code}\n')
    uv.chmod(0o755)
    return uv


@pytest.mark.skipif(os.name == "nt", reason="a shell script stands in for uv")
@pytest.mark.parametrize("code", [0, 1])
def test_a_venv_without_pip_is_checked_by_uv(bare_venv, tmp_path, code):
    uv = fake_uv(tmp_path, code)
    res = subprocess.run([str(bare_venv), CHECK, "--uv", str(uv)], capture_output=True, text=True, timeout=300)
    out = res.stdout + res.stderr
    assert (tmp_path / "argv").read_text().split("\n")[:4] == ["pip", "check", "--python", str(bare_venv)]
    if code:  # a broken venv is never promoted
        assert res.returncode == 1 and "'uv pip check' found broken requirements" in out
    else:  # on to the C extension (which needs a compiler on this machine)
        assert "found broken requirements" not in out and ("verify: ok" in out or "C extension" in out), out
