"""SystemPackages: every system package the machine needs, in one transaction."""

from __future__ import annotations

from dataclasses import replace

from ..command import Command
from ..machine.facts import PROXY_VARS, STEP_VARS
from ..platforms.pkgmgr import PackageManager, adapter
from ..platforms.profiles import fill_version
from . import Change, Step, StepEnv


def age_text(seconds: float) -> str:
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def wanted(env: StepEnv) -> list[tuple[str, tuple[str, ...]]]:
    """(need, packages) pairs for this machine, from the profile's needs map."""
    prof, py = env.profile, env.python
    out: list[tuple[str, tuple[str, ...]]] = []
    if env.python_from_packages:
        out.append(("python", env.python_packages if env.python_packages is not None else prof.python_packages))
    out.append(("build-tools", prof.packages("build-tools")))
    default = env.facts.default_python
    versioned = py.os_managed and default is not None and py.minor != default.minor
    if py.os_managed:
        if versioned and prof.versioned_headers:
            out.append(("python-headers", (fill_version(prof.versioned_headers, py.minor),)))
        else:
            out.append(("python-headers", prof.packages("python-headers")))
        if versioned and prof.versioned_venv:
            out.append(("venv", (fill_version(prof.versioned_venv, py.minor),)))
        else:
            out.append(("venv", prof.packages("venv")))
    if prof.pipx_method == "package":
        out.append(("pipx", prof.packages("pipx")))
    if env.config.ca_bundle and prof.trust_store and prof.trust_store.package:  # its install builds the bundle with the anchor
        out.append(("ca-trust", (prof.trust_store.package,)))
    where = env.config.source or str(env.config.project)
    for need in env.config.needs:
        out.append((need, prof.packages(need, where=f"{where} key 'needs'")))
    asked = {n for n, _ in out}
    out += [(n, pkgs) for n, pkgs in predicted(env)[0] if n not in asked]
    out += [(why, (pkg,)) for pkg, why in env.packages]
    return out


def predicted(env: StepEnv) -> tuple[list[tuple[str, tuple[str, ...]]], list[str]]:
    """The native needs of what will build from source here, and why, one line per distribution."""
    if env.prediction is None:
        return [], []
    from ..project.predict_env import needs_pairs

    return needs_pairs(env.prediction, env.profile)




def proxy_variables(env: StepEnv) -> tuple[str, ...]:
    """Proxy variables set for this run: sudo resets the environment, so they are passed on."""
    return tuple(n for n in STEP_VARS if n.upper() in PROXY_VARS and n.upper() != "ALL_PROXY" and env.facts.env.get(n))


class SystemPackages(Step):
    """Build prerequisites, Python headers, venv, pipx and the project's native needs."""

    name = "system-packages"
    title = "System packages"

    def skip_reason(self, env: StepEnv) -> str | None:
        if not any(pkgs for _, pkgs in wanted(env)):
            return "this platform needs no system packages"
        return None

    def check(self, env: StepEnv) -> Change:
        change = self._check(env)
        why = predicted(env)[1]
        return Change("\n".join((change.reason, *(f"  {ln}" for ln in why))), change.commands) if why else change

    def _check(self, env: StepEnv) -> Change:
        pairs = wanted(env)
        packages = list(dict.fromkeys(p for _, pkgs in pairs for p in pkgs))
        pm = adapter(env.profile.package_manager)
        installed = pm.installed(env.probe, packages)
        missing = [p for p in packages if p not in installed]
        repair = pm.repair(env.probe)
        if not missing and repair is None:
            return Change(f"all {len(packages)} installed: {' '.join(packages)}")
        if not missing:
            return Change("an interrupted package transaction is pending", (repair,))
        needs = [n for n, pkgs in pairs if any(p in missing for p in pkgs)]
        reason = f"missing {' '.join(missing)} (for {', '.join(needs)})"
        commands, why = install_commands(env, pm, missing, repair)
        return Change(reason + why, commands)


def install_commands(env: StepEnv, pm: PackageManager, missing: list[str], repair: Command | None = None) -> tuple[tuple[Command, ...], str]:
    """The commands that install ``missing`` (finishing an interrupted transaction and
    refreshing a stale index first), and what the reason should add about them."""
    commands: list[Command] = []
    reason = ""
    if repair is not None:
        commands.append(repair)
        reason += "; an interrupted package transaction is finished first"
    refresh = pm.refresh()
    if refresh is not None:
        age = pm.index_age(env.probe)
        if age is None:
            commands.append(refresh)
            reason += "; no package index yet"
        elif age > env.options.refresh_after:
            commands.append(refresh)
            reason += f"; package index {age_text(age)} old"
        else:
            lacking = pm.without_candidate(env.probe, missing)
            if lacking:
                commands.append(refresh)
                reason += f"; no candidate for {' '.join(lacking)} in the {age_text(age)} old index"
    commands.extend(pm.install(missing))
    keep = proxy_variables(env)
    if keep:
        commands = [replace(c, keep_env=keep) if c.sudo else c for c in commands]
    return tuple(commands), reason


