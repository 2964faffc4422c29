"""The plan: which steps, in which order, for this machine and project.

Order is fixed by dependency: OS-level prerequisites (Command Line Tools, one package
transaction that also carries the project's native needs), then certificates, then pipx
and its tools, then the project's venv (which needs the compiler and headers).
"""

from __future__ import annotations

from dataclasses import dataclass

from .steps import Step, StepEnv
from .steps.ca import TrustedCA
from .steps.packages import SystemPackages
from .steps.pipx import PipxInstalled, PipxOnPath, PipxTools
from .steps.platform import EXTRA
from .steps.venv import ProjectVenv

BEFORE_PACKAGES = ("xcode-command-line-tools", "py-launcher", "msvc-build-tools")


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.steps]


def build(env: StepEnv) -> Plan:
    extra = env.profile.extra_steps
    steps: list[Step] = [EXTRA[n] for n in BEFORE_PACKAGES if n in extra]
    steps.append(SystemPackages())
    steps.append(TrustedCA())
    steps += [EXTRA[n] for n in extra if n not in BEFORE_PACKAGES]
    steps += [PipxInstalled(), PipxOnPath(), PipxTools(), ProjectVenv()]
    return Plan(tuple(steps))
