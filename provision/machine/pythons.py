"""The interpreters on this machine: each asked about itself by the constant probe (``pyprobe``)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Callable

from . import pyprobe
from .facts import PythonInstall, TagFacts
from .pyprobe import PROBE_SCRIPT, candidate_pythons

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]

def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """A read-only query, bounded (its whole process group is ended on timeout), output decoded leniently."""
    code, out, err = pyprobe.run_bounded(list(argv), pyprobe.PROBE_TIMEOUT)
    return subprocess.CompletedProcess(list(argv), code, out, err)

def probe_python(path: str, run: Runner = _run) -> PythonInstall | None:
    """Ask one interpreter about itself; None when it does not run or is too old to say."""
    try:
        res = run([path, "-I", PROBE_SCRIPT])
    except (OSError, subprocess.SubprocessError, ValueError):  # ValueError: UnicodeDecodeError of a raw runner
        return None
    data = pyprobe.parse(res.stdout) if res.returncode == 0 else None
    return python_from_probe(data) if data is not None else None

def python_from_probe(data: Mapping[str, object]) -> PythonInstall:
    executable = str(data["executable"])
    stdlib = str(data.get("stdlib") or "")
    include = str(data.get("include") or "")
    marker = os.path.join(stdlib, "EXTERNALLY-MANAGED") if stdlib else ""
    header = os.path.join(include, "Python.h") if include else ""
    cafile = data.get("cafile") or data.get("openssl_cafile")
    prefix = str(data.get("base_prefix") or "")
    framework = ""
    if data.get("framework"):
        if prefix.startswith("/Library/Frameworks/Python.framework"):
            framework = "python.org"
        elif "/homebrew/" in prefix.lower() or "/Cellar/" in prefix or prefix.startswith("/usr/local/opt"):
            framework = "homebrew"
        elif prefix.startswith(("/Library/Developer/CommandLineTools", "/Applications/Xcode")):
            framework = "system"
    os_managed = prefix in ("/usr", "/System/Library/Frameworks/Python.framework") or framework == "system"
    return PythonInstall(
        path=executable,
        version=str(data["version"]),
        implementation=str(data.get("implementation") or "cpython"),
        os_managed=os_managed,
        externally_managed=marker if marker and os.path.exists(marker) else None,
        has_venv=bool(data.get("venv")),
        has_ensurepip=bool(data.get("ensurepip")),
        has_pip=bool(data.get("pip")),
        pip_wheel=str(data["pip_wheel"]) if data.get("pip_wheel") and os.path.isfile(str(data["pip_wheel"])) else None,
        has_ssl=bool(data.get("ssl")),
        openssl=data.get("openssl") and str(data.get("openssl")),
        cafile=str(cafile) if cafile else None,
        cafile_exists=bool(cafile) and os.path.exists(str(cafile)),
        headers=header if header and os.path.exists(header) else None,
        framework=framework,
        purelib=str(data.get("purelib") or "") or None,
        user_site=str(data.get("user_site") or "") or None,
        tags=tag_facts(data.get("tags")),
    )


def tag_facts(raw: object) -> TagFacts | None:
    """The probe's "tags" object, or None when it is missing or malformed."""
    if not isinstance(raw, Mapping):
        return None
    try:
        return TagFacts(implementation=str(raw["implementation"]), nodot=str(raw["nodot"]), abi=str(raw["abi"]),
                        platform=str(raw["platform"]), libc=str(raw.get("libc") or ""),
                        libc_version=str(raw.get("libc_version") or ""), bits64=bool(raw.get("bits64", True)),
                        mac_version=str(raw.get("mac_version") or ""))
    except KeyError:
        return None

def gather_pythons(path_dirs: Sequence[str], run: Runner | None = None) -> tuple[PythonInstall, ...]:
    """Every candidate interpreter, probed all at once (or one by one through ``run``, for tests)."""
    if run is None:
        probes = pyprobe.start(path_dirs)
        candidates = probes.candidates
        probed = [python_from_probe(d) if d is not None else None for d in probes.answers()]
    else:
        candidates = candidate_pythons(path_dirs)
        probed = [probe_python(c, run) for c in candidates]
    seen: set[str] = set()
    out: list[PythonInstall] = []
    default_real = os.path.realpath("/usr/bin/python3") if os.path.exists("/usr/bin/python3") else None
    for cand, py in zip(candidates, probed):
        if py is None:
            continue
        real = os.path.realpath(py.path)
        if real in seen:
            continue
        seen.add(real)
        out.append(replace(py, path=cand if os.path.realpath(cand) == real else py.path, is_default=real == default_real))
    return tuple(out)
