"""Shared fixtures: the repo on sys.path, paths to fixture trees."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PRESETS = REPO / "provision" / "platforms" / "presets"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def healthy_venv(venv: str, want: dict, *, windows: bool = False) -> dict[str, str]:
    """The files of a venv the kit built and that still works (for a FakeProbe): stamp, pyvenv.cfg, interpreter, site-packages."""
    import json

    from provision.atomic import STAMP
    from provision.steps.venv import digest

    base = str(want["python"])
    sep = "\\" if windows else "/"
    home = base.rsplit(sep, 1)[0]
    site = sep.join([venv, "Lib", "site-packages"]) if windows else f"{venv}/lib/python{want['python_version']}/site-packages"
    return {
        f"{venv}/{STAMP}": json.dumps({"digest": digest(want), "inputs": want}),
        f"{venv}{sep}pyvenv.cfg": f"home = {home}\nversion = {want['python_version']}.2\n",
        (venv + "\\Scripts\\python.exe") if windows else f"{venv}/bin/python": "",
        site: "",  # the directory (FakeProbe knows a directory by a file below it only with "/")
        base: "",
    }
