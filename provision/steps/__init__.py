"""Steps: each looks at the machine and yields only the commands for what is missing.

A step is "changed" exactly when its check yielded a command; otherwise its reason
says why nothing is needed. Steps never run anything themselves: the runner does.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from ..command import Command
from ..machine.facts import Facts, PythonInstall
from ..machine.probe import Probe
from ..paths import PACKAGE
from ..platforms.profiles import Profile
from ..project.config import ProjectConfig
from ..project.detect import ProjectSpec, detect

if TYPE_CHECKING:  # the prediction's module (packaging.tags) is imported only when a prediction runs
    from ..project.prediction import Prediction

# the kit's file operations, run as a script by the kit's own interpreter (works from any cwd)
ATOMIC = str(PACKAGE / "atomic.py")


class Options(NamedTuple):
    """Run options that change what steps plan (not how the runner reports)."""

    dry_run: bool = False
    refresh_after: float = 24 * 3600.0  # seconds: an older package index is refreshed
    kit_python: str = sys.executable  # runs the kit's own helpers (provision.atomic, checks)
    preset: bool = False  # facts come from --platform, not this machine


@dataclass(frozen=True)
class StepEnv:
    """Everything a step may look at."""

    facts: Facts
    profile: Profile
    config: ProjectConfig
    probe: Probe
    python: PythonInstall
    options: Options = Options()
    python_from_packages: bool = False  # the interpreter comes with the profile's python packages
    prediction: Prediction | None = None  # which distributions build from source here (None: not predicted)
    spec: ProjectSpec | None = None  # what the project's files declare (detected when not given)
    python_packages: tuple[str, ...] | None = None  # the packages that bring the interpreter (None: the profile's)
    python_repository: str | None = None  # an explicit repository they come from (deadsnakes)
    python_download: str | None = None  # a minor version uv downloads
    # (package, what for): packages the distro's file index named for a file no table knows
    # (install --fix), installed in the same transaction as the profile's needs
    packages: tuple[tuple[str, str], ...] = ()

    def with_facts(self, facts: Facts, python: PythonInstall, from_packages: bool) -> StepEnv:
        return replace(self, facts=facts, python=python, python_from_packages=from_packages)

    @property
    def project(self) -> ProjectSpec:
        return self.spec if self.spec is not None else detect(self.config)

    @property
    def home(self) -> str:
        return self.facts.home or "~"

    @property
    def pip_cert(self) -> str | None:
        """The bundle pip should use: the completed system bundle where the CA went into the
        store (public CAs and the corporate one), else the given file."""
        if not self.config.ca_bundle:
            return None
        store = self.profile.trust_store
        return store.bundle if store else str(self.config.ca_bundle)

    @property
    def windows(self) -> bool:
        return self.facts.system == "Windows"


class Change(NamedTuple):
    """A step's verdict: the commands for the gap (empty: nothing to do) and why."""

    reason: str
    commands: tuple[Command, ...] = ()


class Step:
    """Base class: ``name`` for machines, ``title`` for people."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""

    def skip_reason(self, env: StepEnv) -> str | None:
        """Why this step does not apply here (None: it applies)."""
        return None

    def check(self, env: StepEnv) -> Change:
        raise NotImplementedError
