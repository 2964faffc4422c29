"""pipx: present, its bin directory on PATH, and the project's command-line tools.

Installed tools are read from pipx's own metadata files, not by running ``pipx list``:
the no-op re-run must cost probes only, and pipx's start-up alone is ~0.3 s.
"""

from __future__ import annotations

import json
import ntpath
import posixpath

from ..command import Command
from ..project.config import pipx_package_name, pipx_requirement
from . import ATOMIC, Change, Step, StepEnv

RC_FILES = (".profile", ".bashrc", ".bash_profile", ".zshrc", ".zprofile", ".config/fish/config.fish")


def _join(env: StepEnv, *parts: str) -> str:
    return (ntpath if env.windows else posixpath).join(*parts)


def bin_dir(env: StepEnv) -> str:
    return env.facts.env.get("PIPX_BIN_DIR") or _join(env, env.home, ".local", "bin")


def pipx_homes(env: StepEnv) -> list[str]:
    """Where pipx keeps its venvs (the facts: PIPX_HOME, else pipx's default for this system)."""
    return [env.facts.pipx_home]


def pipx_command(env: StepEnv) -> str:
    found = env.probe.which("pipx")
    if found:
        return found
    own = _join(env, bin_dir(env), "pipx.exe" if env.windows else "pipx")
    if env.profile.pipx_method == "venv" or env.probe.exists(own):
        return own
    return "pipx"


def ca_env(env: StepEnv) -> tuple[tuple[str, str], ...]:
    """pip inside pipx's venvs reads PIP_CERT; pipx has no option of its own for it."""
    out = []
    if env.pip_cert:
        out.append(("PIP_CERT", env.pip_cert))
    if env.config.index_url:
        out.append(("PIP_INDEX_URL", env.config.index_url))
    if env.config.proxy:
        out.append(("PIP_PROXY", env.config.proxy))
    return tuple(out)


class PipxInstalled(Step):
    """Where the distro has no pipx package, pipx installs itself from a throwaway venv."""

    name = "pipx"
    title = "pipx"

    def skip_reason(self, env: StepEnv) -> str | None:
        if env.profile.pipx_method == "package":
            return f"pipx comes from the {env.profile.package_manager} package (system packages step)"
        return None

    def check(self, env: StepEnv) -> Change:
        own = _join(env, bin_dir(env), "pipx.exe" if env.windows else "pipx")
        found = env.probe.which("pipx") or (own if env.probe.exists(own) else None)
        if found:
            return Change(f"pipx at {found}")
        tmp = _join(env, env.home, ".cache", "provision", "pipx-bootstrap")
        py = _join(env, tmp, "Scripts" if env.windows else "bin", "python.exe" if env.windows else "python")
        kit = env.options.kit_python
        # the throwaway venv is built in a directory the kit marks, so that only it is ever discarded
        leftover = (Command((kit, ATOMIC, "discard", tmp), purpose="remove an interrupted bootstrap of pipx"),) if env.probe.exists(tmp) else ()
        cmds = (
            *leftover,
            Command((kit, ATOMIC, "stage", tmp), purpose="a marked directory for the throwaway venv"),
            Command((env.python.path, "-m", "venv", tmp), purpose="throwaway venv to bootstrap pipx"),
            Command((py, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "pipx"), env=ca_env(env),
                    purpose="pipx into the throwaway venv"),
            Command((py, "-m", "pipx", "install", "pipx"), env=ca_env(env), purpose="pipx installs itself into its own venv"),
            Command((kit, ATOMIC, "discard", tmp), purpose="remove the throwaway venv"),
        )
        return Change(f"no pipx on PATH or at {own}; the {env.profile.name} profile installs it with pipx itself", cmds)


class PipxOnPath(Step):
    """pipx's bin directory on PATH for new shells (``pipx ensurepath``)."""

    name = "pipx-path"
    title = "pipx on PATH"

    def check(self, env: StepEnv) -> Change:
        target = bin_dir(env)
        if target in env.facts.path:
            return Change(f"{target} is on PATH")
        for rc in RC_FILES:
            text = env.probe.read_text(_join(env, env.home, rc))
            if text and (target in text or (target.startswith(env.home) and "$HOME/.local/bin" in text)):
                return Change(f"{target} is added to PATH by ~/{rc} (new shells have it)")
        return Change(f"{target} is not on PATH", (Command((pipx_command(env), "ensurepath"), purpose="add pipx's bin dir to PATH"),))


class PipxTools(Step):
    """The project's command-line tools, each in its own pipx venv."""

    name = "pipx-tools"
    title = "pipx tools"

    def skip_reason(self, env: StepEnv) -> str | None:
        return None if env.config.pipx else "the project lists no pipx tools"

    def installed_version(self, env: StepEnv, package: str) -> str | None:
        """The installed version; "broken" for a venv without metadata (an interrupted install)."""
        for home in pipx_homes(env):
            venv = _join(env, home, "venvs", package)
            text = env.probe.read_text(_join(env, venv, "pipx_metadata.json"))
            if text:
                try:
                    return str(json.loads(text)["main_package"]["package_version"])
                except (ValueError, KeyError, TypeError):
                    return "broken"
            if env.probe.exists(venv):
                return "broken"
        return None

    def check(self, env: StepEnv) -> Change:
        pipx = pipx_command(env)
        missing, present = [], []
        cmds = []
        for spec in env.config.pipx:
            package = pipx_package_name(spec)
            have = self.installed_version(env, package)
            req = pipx_requirement(spec)
            pinned = req.specifier if req and req.specifier else None
            if have is None:
                missing.append(spec)
                cmds.append(Command((pipx, "install", spec), env=ca_env(env), purpose=f"install {spec}"))
            elif have == "broken":
                missing.append(f"{spec} (a broken, interrupted install)")
                cmds.append(Command((pipx, "install", "--force", spec), env=ca_env(env), purpose=f"reinstall {spec}"))
            elif pinned and not pinned.contains(have):
                missing.append(f"{spec} (have {have})")
                cmds.append(Command((pipx, "install", "--force", spec), env=ca_env(env), purpose=f"reinstall {spec}"))
            else:
                present.append(f"{package} {have}")
        if not cmds:
            return Change(f"installed: {', '.join(present)}")
        return Change(f"missing: {', '.join(missing)}", tuple(cmds))
