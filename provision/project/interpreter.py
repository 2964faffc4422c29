"""Which interpreter the project's venv is built with, and how a missing one is installed.

The project's own statements decide (issue #12, item 4, in this order): ``[tool.provision]
python``, ``.python-version``, the lock's / Pipfile's / Poetry's constraint,
``requires-python``. The venv's interpreter satisfies all of them — never a version the
project excludes — and among those on the machine the newest wins (``--python``
overrides). When none is there, the profile's data says how this platform packages other
Pythons (``[python] install``/``available``, an explicit repository such as deadsnakes);
with downloads allowed, uv installs one. Otherwise a clear error naming what the project
asks, what the machine has, and this platform's ways out.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ..errors import MachineError, ProvisionError
from ..machine.facts import Facts, PythonInstall
from ..platforms.profiles import Profile
from .config import ProjectConfig
from .detect import ProjectSpec, PythonConstraint

# stable CPython minors uv can download (python-build-standalone); pre-releases are never chosen
DOWNLOADABLE = tuple(f"3.{n}" for n in range(8, 15))


@dataclass(frozen=True)
class Choice:
    """The interpreter decision: which one, and what (if anything) installs it first."""

    python: PythonInstall
    from_packages: bool = False  # the profile's packages bring it (one transaction with the rest)
    packages: tuple[str, ...] = ()
    repository: str | None = None  # an explicit repository step first (deadsnakes)
    download: str | None = None  # "3.13": uv python install
    constraints: tuple[PythonConstraint, ...] = field(default=(), compare=False)
    reason: str = ""


def _fill(template: str, minor: str, home: str = "~") -> str:
    return template.replace("{version}", minor).replace("{version_nodot}", minor.replace(".", "")).replace("{home}", home)


def constraints_of(config: ProjectConfig, spec: ProjectSpec | None) -> tuple[PythonConstraint, ...]:
    if spec is not None and spec.python:
        return spec.python
    return (PythonConstraint(config.python, f"{config.source} python" if config.python_given else "the kit's default",
                             (config.python,)),)


def satisfies(version: str, constraints: tuple[PythonConstraint, ...], *, remember: bool = True) -> bool:
    return all(c.contains(version, remember=remember) for c in constraints)


def describe(constraints: tuple[PythonConstraint, ...]) -> str:
    return "; ".join(f"{c.text!r} ({c.source})" for c in constraints)


def planned_from_packages(profile: Profile) -> PythonInstall | None:
    """The interpreter the profile's ``python.packages`` will install (python3.11, python311)."""
    for pkg in profile.python_packages:
        m = re.match(r"^python(\d)\.?(\d{1,2})$", pkg)
        if m:
            minor = f"{m.group(1)}.{m.group(2)}"
            return _planned(f"/usr/bin/python{minor}", minor, os_managed=True)
    return None


def _planned(path: str, minor: str, *, os_managed: bool) -> PythonInstall:
    return PythonInstall(path=path, version=f"{minor}.0", os_managed=os_managed, has_venv=True, has_ensurepip=True, has_ssl=True)


def _candidates_minors(constraints: tuple[PythonConstraint, ...], minors: tuple[str, ...]) -> list[str]:
    """The platform's minors that can satisfy the constraints, newest first (every patch x.y.0 to x.y.99 tried)."""
    from packaging.version import Version  # only when the machine has no fitting interpreter

    ok = []
    for m in minors:
        if any(satisfies(f"{m}.{patch}", constraints, remember=False) for patch in range(100)):
            ok.append(m)
    return sorted(ok, key=Version, reverse=True)


def download_dir(facts: Facts) -> str:
    """Where ``uv python install`` puts the ``python3.X`` link (uv's default bin directory)."""
    return facts.env.get("PIPX_BIN_DIR") or os.path.join(facts.home or "~", ".local", "bin")


def decide(facts: Facts, config: ProjectConfig, profile: Profile, spec: ProjectSpec | None = None,
           override: str | None = None) -> Choice:
    """The interpreter for the venv, or how to install one; a clear error when neither."""
    constraints = constraints_of(config, spec)
    if override:
        for p in facts.pythons:
            if override in (p.path, p.version, p.minor):
                if not satisfies(p.version, constraints):
                    raise ProvisionError(f"--python {override} is Python {p.version}, which the project excludes: {describe(constraints)}.",
                                         "Pass an interpreter in that range, or leave --python out.")
                return Choice(p, constraints=constraints, reason=f"--python {override}")
        found = ", ".join(f"{p.path} ({p.version})" for p in facts.pythons) or "none"
        raise ProvisionError(f"--python {override} matches no interpreter found here (found: {found}).",
                             "Pass the path of an installed python3, or leave --python out.")
    fitting = [p for p in facts.pythons if satisfies(p.version, constraints)]
    if fitting:
        best = max(fitting, key=lambda p: p.version_tuple)  # max keeps the first of equals: PATH order
        return Choice(best, constraints=constraints, reason=f"newest interpreter here that satisfies {describe(constraints)}")
    # the release's own extra Pythons (EL8, Leap 15: the default is too old for the kit)
    planned = planned_from_packages(profile)
    if planned and satisfies(planned.version, constraints):
        return Choice(planned, True, profile.python_packages, constraints=constraints,
                      reason=f"{' '.join(profile.python_packages)} from the {profile.name} repositories")
    py = profile.python
    for minor in _candidates_minors(constraints, py.available):
        pkg = _fill(py.install, minor, facts.home)
        path = _fill(py.path or "/usr/bin/python{version}", minor, facts.home)
        return Choice(_planned(path, minor, os_managed=profile.package_manager not in ("brew", "winget")), True, (pkg,),
                      constraints=constraints, reason=f"Python {minor} from {profile.package_manager} ({pkg})")
    for minor in _candidates_minors(constraints, py.repository_available):
        pkg = _fill(py.install, minor, facts.home)
        return Choice(_planned(f"/usr/bin/python{minor}", minor, os_managed=True), True, (pkg,), repository=py.repository,
                      constraints=constraints, reason=f"Python {minor} from the {py.repository} repository ({pkg})")
    wanted = _candidates_minors(constraints, DOWNLOADABLE)
    if config.python_downloads and wanted:
        minor = wanted[0]
        path = os.path.join(download_dir(facts), f"python{minor}")
        return Choice(_planned(path, minor, os_managed=False), download=minor, constraints=constraints,
                      reason=f"Python {minor} downloaded by uv (python-downloads allowed)")
    raise no_interpreter(facts, profile, constraints, wanted)


def no_interpreter(facts: Facts, profile: Profile, constraints: tuple[PythonConstraint, ...], wanted: list[str]) -> ProvisionError:
    found = ", ".join(f"{p.path} ({p.version})" for p in facts.pythons) or "none"
    minor = wanted[0] if wanted else None
    where = facts.distro_name or facts.system
    if facts.distro_version:
        where += f" {facts.distro_version}"
    ways = []
    if minor:
        ways.append(f"run with --python-downloads (or set python-downloads = true in [tool.provision]): uv installs "
                    f"CPython {minor} for your user, no root needed")
    if profile.python.fix:
        ways.append(profile.python.fix)
    ways.append("install a matching Python yourself (e.g. pyenv install " + (minor or "3.X") + ") and pass --python PATH")
    ways.append("or change the project's constraint if it is stricter than it must be")
    from packaging.version import Version

    offered = sorted(set(profile.python.available) | set(profile.python.repository_available), key=Version)
    offer = f"; its repositories offer {', '.join(offered)}" if offered else "; the kit knows no package of another Python for it"
    return MachineError(
        f"the project needs Python {describe(constraints)}, but this machine ({where}) has {found}{offer}.",
        "Ways out: " + "; ".join(ways) + ". Nothing was changed.",
    )


def choose(facts: Facts, config: ProjectConfig, profile: Profile, override: str | None = None,
           spec: ProjectSpec | None = None) -> tuple[PythonInstall, bool]:
    """The interpreter for the venv, and whether the profile's python packages are needed for it."""
    c = decide(facts, config, profile, spec, override)
    return c.python, c.from_packages

