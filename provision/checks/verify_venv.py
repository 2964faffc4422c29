"""Prove a freshly built venv is usable before it is moved into place.

Run with the venv's own interpreter (stdlib only): the stdlib modules that need OS
libraries import, ``pip check`` is clean, and a tiny C extension shipped with the kit builds
from source offline and imports. A venv without pip (uv makes them) is checked by the uv that
built it (``--uv``: ``uv pip check``, a second where pip run from its zipped wheel compiles
itself first), else with pip run from ensurepip's wheel (``--pip-wheel``); a venv without
setuptools (the kit adds none) gets
the C extension compiled with this interpreter's own compiler settings (sysconfig), so the
check installs nothing into the venv. A venv that fails here is never promoted.
"""

from __future__ import annotations

import glob
import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

MODULES = ("ssl", "ctypes", "sqlite3", "venv")
HERE = os.path.dirname(os.path.abspath(__file__))


def bundled_pip_wheel() -> str | None:
    """The pip wheel this interpreter's ensurepip installs from: the interpreter probe's own finder
    (``provision/machine/interp_probe.py``, a script of the standard library only), run from its file
    because this script runs inside the venv, where the kit's package is not importable."""
    import runpy

    probe = os.path.join(os.path.dirname(HERE), "machine", "interp_probe.py")
    return runpy.run_path(probe)["pip_wheel"]()


def compile_directly(src: str, out: str) -> str | None:
    """Build the probe extension with sysconfig's compiler and flags (no setuptools needed)."""
    import shlex
    import sysconfig

    cv = sysconfig.get_config_var
    cc, ldshared = cv("CC"), cv("LDSHARED")
    if not cc or not ldshared:
        return None
    target = os.path.join(out, "provision_cext_probe" + (cv("EXT_SUFFIX") or ".so"))
    obj = os.path.join(out, "probe.o")
    includes = {sysconfig.get_path("include"), sysconfig.get_path("platinclude")}
    compile_argv = [*shlex.split(cc), *shlex.split(cv("CFLAGS") or ""), *shlex.split(cv("CCSHARED") or ""),
                    *(f"-I{d}" for d in includes if d), "-c", os.path.join(src, "provision_cext_probe.c"), "-o", obj]
    link_argv = [*shlex.split(ldshared), obj, "-o", target]
    for argv in (compile_argv, link_argv):
        if subprocess.run(argv, check=False).returncode != 0:
            return None
    return target


def can_build_wheels() -> bool:
    """setuptools can make a wheel here: it has bdist_wheel itself (70.1 and later) or the wheel
    package is there. An old venv's setuptools (Debian 11's 44, from ensurepip) without wheel
    cannot, and the probe is then compiled directly."""
    if importlib.util.find_spec("wheel") is not None:
        return True
    try:
        return importlib.util.find_spec("setuptools.command.bdist_wheel") is not None
    except ImportError:
        return False


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    wheel = args[args.index("--pip-wheel") + 1] if "--pip-wheel" in args else None
    uv = args[args.index("--uv") + 1] if "--uv" in args else None
    has_pip = importlib.util.find_spec("pip") is not None
    has_setuptools = importlib.util.find_spec("setuptools") is not None
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ImportError as e:
            print(f"verify: the venv's Python cannot import {name}: {e}", file=sys.stderr)
            return 1
    if has_pip:
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    elif wheel or (wheel := bundled_pip_wheel()):
        pip = [sys.executable, os.path.join(wheel, "pip"), "--disable-pip-version-check", "--no-input"]
    else:
        print("verify: the venv has no pip and no pip wheel was given (--pip-wheel)", file=sys.stderr)
        return 1
    check = [uv, "pip", "check", "--python", sys.executable] if uv and not has_pip else [*pip, "check"]
    res = subprocess.run(check, check=False)
    if res.returncode != 0:
        print(f"verify: '{'uv pip' if check[0] == uv else 'pip'} check' found broken requirements (above)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="provision-cext-") as tmp:
        src = os.path.join(tmp, "src")
        shutil.copytree(os.path.join(HERE, "cext"), src)
        site = os.path.join(tmp, "site")
        if os.name == "nt" or (has_setuptools and can_build_wheels()):
            wheels = os.path.join(tmp, "wheels")
            res = subprocess.run(
                [*pip, "wheel", "--no-index", "--no-deps", "--no-build-isolation", "-q", "-w", wheels, src], check=False
            )
            built = glob.glob(os.path.join(wheels, "*.whl"))
            if res.returncode != 0 or not built:
                print("verify: building a C extension from source failed (compiler or Python.h missing?)", file=sys.stderr)
                return 1
            with zipfile.ZipFile(built[0]) as z:
                z.extractall(site)
        else:
            os.makedirs(site)
            if compile_directly(src, site) is None:
                print("verify: building a C extension from source failed (compiler or Python.h missing?)", file=sys.stderr)
                return 1
        sys.path.insert(0, site)
        mod = importlib.import_module("provision_cext_probe")
        if mod.add(2, 3) != 5:
            print("verify: the built C extension gives a wrong answer", file=sys.stderr)
            return 1
    print(f"verify: ok (imports {', '.join(MODULES)}; pip check clean; C extension built and imported)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
