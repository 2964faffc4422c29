"""FileIndexReady: the distro's file search and its index, before install --fix searches it.

``install --fix`` looks a header, command or library that no table knows up in the
distro's own file index (``provision.diagnose.fileindex``). Some indexes need a tool and
data first: Debian's ``apt-file`` is a package of its own whose index (the archive's
Contents files) ``apt-file update`` downloads; Arch's ``pacman -F`` reads a files database
that ``pacman -Fy`` fetches. This step yields exactly those commands, so a dry run prints
them and a real run goes through the same runner, lock and re-probe as every step.
"""

from __future__ import annotations

from dataclasses import replace

from ..command import Command
from ..diagnose.fileindex import Index, index_for
from ..platforms.pkgmgr import adapter
from . import Change, Step, StepEnv
from .packages import age_text, install_commands, proxy_variables


def index_of(env: StepEnv) -> Index | None:
    return index_for(env.profile.package_manager)


class FileIndexReady(Step):
    """The search tool installed and its index filled and fresh."""

    name = "file-index"
    title = "File index"

    def skip_reason(self, env: StepEnv) -> str | None:
        index = index_of(env)
        if index is None or not index.runnable:
            return f"{env.profile.package_manager} has no file index the kit can search"
        if not index.package and not index.update:
            return f"{index.tool} needs no setup"
        return None

    def check(self, env: StepEnv) -> Change:
        index = index_of(env)
        assert index is not None  # skip_reason said so
        commands: list[Command] = []
        why: list[str] = []
        if index.package:
            pm = adapter(env.profile.package_manager)
            if index.package not in pm.installed(env.probe, [index.package]):
                install, extra = install_commands(env, pm, [index.package], pm.repair(env.probe))
                commands += [*install[:-1], replace(install[-1], purpose=f"install {index.package}, the file search")]
                why.append(f"{index.package} is not installed{extra}")
        if index.update:
            times = [t for t in (env.probe.mtime(p) for p in (env.probe.glob(index.index) if index.index else ())) if t is not None]
            age = max(0.0, env.probe.now() - max(times)) if times else None
            if commands or age is None:
                why.append("its index is empty")
            elif age > env.options.refresh_after:
                why.append(f"its index is {age_text(age)} old")
            if commands or age is None or age > env.options.refresh_after:
                commands.append(Command(index.update, sudo=True, keep_env=proxy_variables(env), purpose="fill the file index"))
        tool = index.package or index.pm
        if not commands:
            return Change(f"{tool} and its index are ready")
        return Change("; ".join(why), tuple(commands))
