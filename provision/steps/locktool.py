"""The project's own lock tool (uv, Poetry, PDM, Pipenv) and a downloaded interpreter.

A locked project is installed with the tool that wrote its lock, so that ``uv run``,
``poetry run``, ``pdm run``, ``pipenv run`` work on the venv the kit built. The tool is
installed with pipx like any other command-line tool, at the kit's pinned version or the
one the project requires; the kit then calls it by the path of its pipx venv, so PATH does
not matter. When the project allows it (``--python-downloads``), uv also installs an
interpreter the machine lacks.
"""

from __future__ import annotations

import json

from ..command import Command
from ..platforms.pkgmgr import adapter
from ..project import versions
from ..project.config import requirement as parse_requirement
from ..project.detect import TOOL_PINS, TOOL_WITH
from . import Change, Step, StepEnv
from .packages import proxy_variables
from .pipx import PipxTools, _join, ca_env, pipx_command, pipx_homes
from .pipx import bin_dir as pipx_bin_dir


def tool_exe(env: StepEnv, tool: str) -> str:
    """The tool as pipx exposes it, in pipx's bin directory (PIPX_BIN_DIR, else ~/.local/bin).

    Not inside pipx's home: where that is depends on pipx's version (Debian 12's 1.1 uses
    ~/.local/pipx, newer ones the platformdirs data dir), which a plan made before pipx is
    installed cannot know; the bin directory is the same for all of them.
    """
    return _join(env, pipx_bin_dir(env), f"{tool}.exe" if env.windows else tool)


def injected(env: StepEnv, package: str) -> dict[str, str]:
    """name -> version of what was injected into a pipx venv (from pipx's metadata, not by running pipx)."""
    for home in pipx_homes(env):
        text = env.probe.read_text(_join(env, home, "venvs", package, "pipx_metadata.json"))
        if text:
            try:
                data = json.loads(text).get("injected_packages") or {}
                return {versions.canonical_name(k): str(v.get("package_version", "")) for k, v in data.items()}
            except (ValueError, AttributeError):
                return {}
    return {}


def ensure_tool(env: StepEnv, requirement: str) -> tuple[str | None, tuple[Command, ...]]:
    """(what is installed, the pipx commands when it is missing or of a version the project excludes)."""
    req = parse_requirement(requirement)
    have = PipxTools().installed_version(env, req.name)
    pipx = pipx_command(env)
    extra = [parse_requirement(w) for w in TOOL_WITH.get(versions.canonical_name(req.name), ())]
    ok = have and have != "broken" and (not req.specifier or req.specifier.contains(have, prereleases=True))
    cmds: list[Command] = []
    if not ok:
        force = ("--force",) if have else ()
        why = f"install {requirement}" if not have else f"reinstall {requirement} (have {have})"
        cmds.append(Command((pipx, "install", *force, requirement), env=ca_env(env), purpose=why))
    inj = {} if not ok else injected(env, req.name)
    for w in extra:
        version = inj.get(versions.canonical_name(w.name))
        if not version or not w.specifier.contains(version, prereleases=True):
            cmds.append(Command((pipx, "inject", req.name, str(w)), env=ca_env(env),
                                purpose=f"{w} beside {req.name} (a later release breaks it)"))
    return (have if ok else None), tuple(cmds)


class LockTool(Step):
    """The tool that installs the project's lock, at the version the kit pins or the project asks for."""

    name = "lock-tool"
    title = "Lock tool"

    def skip_reason(self, env: StepEnv) -> str | None:
        spec = env.project
        if not spec.tool_requirement:
            return "the project installs with pip (no lockfile tool)"
        return None

    def check(self, env: StepEnv) -> Change:
        spec = env.project
        assert spec.tool_requirement
        have, cmds = ensure_tool(env, spec.tool_requirement)
        if not cmds:
            return Change(f"{spec.tool} {have} (pipx), as {spec.tool_requirement} asks")
        what = f"{spec.tool} for {spec.lock.path.name if spec.lock else spec.kind}"
        return Change(f"{what}: {spec.tool_requirement} is not installed with pipx", cmds)


class PythonDownload(Step):
    """uv installs the interpreter the project needs when the machine has none (downloads allowed)."""

    name = "python-download"
    title = "Python download"

    def skip_reason(self, env: StepEnv) -> str | None:
        if not env.python_download:
            return "no interpreter download needed"
        return None

    def check(self, env: StepEnv) -> Change:
        minor = env.python_download
        if not minor:  # after the download the re-probe finds the interpreter: nothing left to do
            return Change(f"Python {env.python.version} at {env.python.path}")
        if env.probe.exists(env.python.path):
            return Change(f"Python {minor} at {env.python.path}")
        _, cmds = ensure_tool(env, f"uv=={TOOL_PINS['uv']}")
        bin_dir = pipx_bin_dir(env)
        tls = (("SSL_CERT_FILE", env.pip_cert),) if env.pip_cert else ()
        install = Command((tool_exe(env, "uv"), "python", "install", minor),
                          env=(("UV_PYTHON_BIN_DIR", bin_dir), ("UV_PYTHON_INSTALL_BIN", "1"), *tls),
                          purpose=f"uv downloads CPython {minor} (python-build-standalone) for this user")
        return Change(f"no Python {minor} here; python-downloads allows uv to install one", (*cmds, install))


class PythonRepository(Step):
    """An explicit repository for another Python (Ubuntu: the deadsnakes PPA), as its own step:
    adding a third-party repository is never hidden inside the package transaction."""

    name = "python-repository"
    title = "Python repository"

    def skip_reason(self, env: StepEnv) -> str | None:
        if not env.python_repository:
            return "the interpreter needs no extra repository"
        return None

    def check(self, env: StepEnv) -> Change:
        repo = env.python_repository
        assert repo
        owner = repo.split(":", 1)[1].split("/", 1)[0]
        found = env.probe.run(("find", "/etc/apt/sources.list.d", "-maxdepth", "1", "-name", f"{owner}-*"))
        if found.ok and found.stdout.strip():
            return Change(f"{repo} is configured ({found.stdout.split()[0]})")
        cmds: list[Command] = []
        setup = env.profile.python.repository_setup
        if setup and not env.probe.which("add-apt-repository"):
            cmds += adapter(env.profile.package_manager).install(setup)
        keep = proxy_variables(env)
        cmds.append(Command(("add-apt-repository", "-y", repo), sudo=True, keep_env=keep,
                            purpose=f"add {repo}: the project's Python is not in this release's own repositories"))
        return Change(f"{repo} is not configured; Python {env.python.minor} comes from it", tuple(cmds))
