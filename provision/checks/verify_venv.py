"""Prove a freshly built venv is usable before it is moved into place.

Run with the venv's own interpreter (stdlib + the venv's pip/setuptools only):
the stdlib modules that need OS libraries import, ``pip check`` is clean, and a tiny
C extension shipped with the kit builds from source offline with the venv's pip and
imports. A venv that fails here is never promoted.
"""

from __future__ import annotations

import glob
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

MODULES = ("ssl", "ctypes", "sqlite3", "venv")
HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> int:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ImportError as e:
            print(f"verify: the venv's Python cannot import {name}: {e}", file=sys.stderr)
            return 1
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    res = subprocess.run([*pip, "check"], check=False)
    if res.returncode != 0:
        print("verify: 'pip check' found broken requirements (above)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="provision-cext-") as tmp:
        src = os.path.join(tmp, "src")
        shutil.copytree(os.path.join(HERE, "cext"), src)
        wheels = os.path.join(tmp, "wheels")
        res = subprocess.run(
            [*pip, "wheel", "--no-index", "--no-deps", "--no-build-isolation", "-q", "-w", wheels, src], check=False
        )
        built = glob.glob(os.path.join(wheels, "*.whl"))
        if res.returncode != 0 or not built:
            print("verify: building a C extension from source failed (compiler or Python.h missing?)", file=sys.stderr)
            return 1
        site = os.path.join(tmp, "site")
        with zipfile.ZipFile(built[0]) as z:
            z.extractall(site)
        sys.path.insert(0, site)
        mod = importlib.import_module("provision_cext_probe")
        if mod.add(2, 3) != 5:
            print("verify: the built C extension gives a wrong answer", file=sys.stderr)
            return 1
    print(f"verify: ok (imports {', '.join(MODULES)}; pip check clean; C extension built and imported)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
