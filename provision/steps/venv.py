"""ProjectVenv: the project's virtual environment, built aside, verified, then moved in.

A stamp of the resolved inputs (interpreter, requirement files' contents, extras,
index, certificate) lets an unchanged venv be skipped without calling pip at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
from pathlib import Path

from .. import venvsafety
from ..atomic import STAMP
from ..command import Command
from ..paths import PACKAGE
from ..redact import fingerprint
from . import ATOMIC, Change, Step, StepEnv

RECIPE = 1  # bump when the way venvs are built changes
CHECKS = PACKAGE / "checks"
PIP_QUIET = ("--disable-pip-version-check", "--no-input", "--progress-bar", "off")


def _sha(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return "missing"


def inputs(env: StepEnv) -> dict[str, object]:
    """What the venv is made from; any change means a rebuild."""
    cfg = env.config
    real = env.python.path if env.options.preset else os.path.realpath(env.python.path)
    return {
        "recipe": RECIPE,
        "python": real,
        "python_version": env.python.minor,
        "requirements": {str(p.relative_to(cfg.project)) if cfg.project in p.parents else str(p): _sha(p) for p in cfg.requirements},
        "project": _sha(cfg.project / "pyproject.toml") if cfg.install_project else None,
        "extras": list(cfg.extras),
        "index_url": fingerprint(cfg.index_url) if cfg.index_url else None,  # never the secret itself
        "proxy": hashlib.sha256(proxy.encode()).hexdigest()[:16] if (proxy := pip_proxy(env)) else None,
        "ca_bundle": _sha(cfg.ca_bundle) if cfg.ca_bundle else None,
    }


def digest(data: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def venv_python(env: StepEnv, venv: str) -> str:
    if env.windows:
        return venv + "\\Scripts\\python.exe"
    return posixpath.join(venv, "bin", "python")


def pip_proxy(env: StepEnv) -> str | None:
    """The proxy the venv's pip.conf keeps: the config's, else HTTPS_PROXY of this run.

    A proxy URL with credentials is not written to a file: pip reads it from the
    environment at run time instead.
    """
    if env.config.proxy:
        return env.config.proxy
    value = env.facts.env.get("https_proxy") or env.facts.env.get("HTTPS_PROXY")
    return value if value and "@" not in value else None


def describe_difference(old: dict[str, object], new: dict[str, object]) -> str:
    keys = [k for k in new if old.get(k) != new.get(k)]
    return ", ".join(keys) if keys else "recipe"


class ProjectVenv(Step):
    name = "project-venv"
    title = "Project venv"

    def current(self, env: StepEnv) -> tuple[str | None, dict[str, object]]:
        """(why a rebuild is needed or None, the wanted inputs)."""
        venv = str(env.config.venv)
        want = inputs(env)
        found = venvsafety.existing(env.probe, venv)
        if found.kind == "absent":
            return f"no venv at {venv}", want
        if found.kind == "foreign":
            return (f"{venv} was not built by provision (made by hand or another tool): a new one is built aside and "
                    f"the existing one is moved to {found.backup} and kept"), want
        text = env.probe.read_text(os.path.join(venv, STAMP))
        try:
            stamp = json.loads(text) if text else None
        except ValueError:
            stamp = None
        if not isinstance(stamp, dict):
            return f"{venv} has no provision stamp (made by hand or by an interrupted build)", want
        if not env.probe.exists(venv_python(env, venv)):
            return f"the interpreter of {venv} is gone", want
        if (why := venvsafety.broken(env.probe, venv, stamp, windows=env.windows)) is not None:
            return why, want
        have = stamp.get("inputs", {})
        if have.get("python_version") != want["python_version"]:
            return f"{venv} uses Python {have.get('python_version')}, the project needs {want['python_version']} (python = \"{env.config.python}\")", want
        if stamp.get("digest") != digest(want):
            return f"inputs changed since {venv} was built: {describe_difference(have, want)}", want
        return None, want

    def check(self, env: StepEnv) -> Change:
        cfg = env.config
        venv = str(cfg.venv)
        stage = venv + ".partial"
        leftovers = venvsafety.leftovers(env.probe, venv)
        why, want = self.current(env)
        kit = env.options.kit_python
        cleanup = (Command((kit, ATOMIC, "discard", *leftovers), purpose="remove an interrupted build"),) if leftovers else ()
        if why is None:
            reason = f"up to date: {venv} (Python {env.python.minor}, stamp matches)"
            if leftovers:
                reason += f"; leftovers of an interrupted build: {', '.join(leftovers)}"
            return Change(reason, cleanup)
        py = venv_python(env, stage)
        cmds: list[Command] = [*cleanup, Command((kit, ATOMIC, "stage", stage), purpose="a marked directory to build the venv in")]
        # ensurepip's install of its bundled pip (seconds, byte-compiling) is redundant when the
        # next command installs the newest pip anyway: run that pip from ensurepip's wheel instead
        wheel = None if env.windows else env.python.pip_wheel
        if wheel:
            cmds.append(Command((env.python.path, "-m", "venv", "--without-pip", stage),
                                purpose=f"new venv with Python {env.python.version}, built aside"))
        else:
            cmds.append(Command((env.python.path, "-m", "venv", stage), purpose=f"new venv with Python {env.python.version}, built aside"))
        proxy = pip_proxy(env)
        if cfg.ca_bundle or cfg.index_url or proxy:
            conf = [kit, ATOMIC, "pip-conf", stage]
            if env.pip_cert:
                conf += ["--cert", env.pip_cert]
            if cfg.index_url:
                conf += ["--index-url", cfg.index_url]
            if proxy:
                conf += ["--proxy", proxy]
            cmds.append(Command(tuple(conf), purpose="the venv's pip.conf (certificate, index, proxy)"))
        pip = (py, posixpath.join(wheel, "pip")) if wheel else (py, "-m", "pip")
        cmds.append(Command((*pip, "install", *PIP_QUIET, "--upgrade", "pip", "setuptools", "wheel"),
                            purpose="newest pip, setuptools and wheel first" + (" (pip run from ensurepip's wheel)" if wheel else "")))
        install: list[str] = []
        for r in cfg.requirements:
            install += ["-r", str(r)]
        if cfg.install_project:
            extras = f"[{','.join(cfg.extras)}]" if cfg.extras else ""
            install += ["-e", f"{cfg.project}{extras}"]
        if install:
            cmds.append(Command((py, "-m", "pip", "install", *PIP_QUIET, *install), purpose="the project's requirements"))
        cmds.append(Command((py, str(CHECKS / "verify_venv.py")), purpose="verify: ssl/ctypes/sqlite3/venv, pip check, a C extension builds"))
        stamp = json.dumps({"digest": digest(want), "inputs": want}, sort_keys=True)
        backup = venvsafety.existing(env.probe, venv).backup
        cmds.append(Command((kit, ATOMIC, "promote", stage, venv, "--stamp", stamp, *(("--backup", backup) if backup else ())),
                            purpose="move the verified venv into place" + (f" (the existing one is kept at {backup})" if backup else "")))
        return Change(why, tuple(cmds))
