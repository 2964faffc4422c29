"""Which interpreter the project's venv is built with.

The first interpreter on PATH that satisfies the project's ``python`` range wins; an
explicit ``--python`` overrides. When none does and the profile knows packages that
bring a newer one (EL8, Leap 15), the plan installs them and the interpreter is the one
those packages provide.
"""

from __future__ import annotations

import re

from ..errors import MachineError, ProvisionError
from ..machine.facts import Facts, PythonInstall
from ..platforms.profiles import Profile
from .config import ProjectConfig


def planned_from_packages(profile: Profile) -> PythonInstall | None:
    """The interpreter the profile's ``python.packages`` will install (python3.11, python311)."""
    for pkg in profile.python_packages:
        m = re.match(r"^python(\d)\.?(\d{1,2})$", pkg)
        if m:
            minor = f"{m.group(1)}.{m.group(2)}"
            return PythonInstall(path=f"/usr/bin/python{minor}", version=f"{minor}.0", os_managed=True,
                                 has_venv=True, has_ensurepip=True, has_ssl=True)
    return None


def choose(facts: Facts, config: ProjectConfig, profile: Profile, override: str | None = None) -> tuple[PythonInstall, bool]:
    """The interpreter for the venv, and whether the profile's python packages are needed for it."""
    if override:
        for p in facts.pythons:
            if override in (p.path, p.version, p.minor):
                return p, False
        found = ", ".join(f"{p.path} ({p.version})" for p in facts.pythons) or "none"
        raise ProvisionError(f"--python {override} matches no interpreter found here (found: {found}).",
                             "Pass the path of an installed python3, or leave --python out.")
    for p in facts.pythons:
        if config.python.contains(p.version, prereleases=True):
            return p, False
    planned = planned_from_packages(profile)
    if planned and config.python.contains(planned.version, prereleases=True):
        return planned, True
    found = ", ".join(f"{p.path} ({p.version})" for p in facts.pythons) or "none"
    where = config.source or "the default"
    raise MachineError(
        f"no interpreter satisfies python = \"{config.python}\" ({where}); found: {found}.",
        "Install a Python in that range and put it on PATH (or pass --python PATH), or relax 'python' in the project config.",
    )
