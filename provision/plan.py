"""The plan: which steps, in which order, for this machine and project.

Order is fixed by dependency: OS-level prerequisites (Command Line Tools, one package
transaction that also carries the project's native needs), then certificates, then pipx
and its tools, then the project's venv (which needs the compiler and headers).

pipx with its tools and the project's venv need each other for nothing: they are two
lanes, which the runner may run at the same time once everything before them is done
(each lane in its own order). Together they are half of a first run's time.
"""

from __future__ import annotations

from typing import NamedTuple

from .steps import Step, StepEnv
from .steps.ca import TrustAnchor, TrustedCA
from .steps.locktool import LockTool, PythonDownload, PythonRepository
from .steps.packages import SystemPackages
from .steps.pipx import PipxInstalled, PipxOnPath, PipxTools
from .steps.platform import EXTRA
from .steps.venv import ProjectVenv

BEFORE_PACKAGES = ("xcode-command-line-tools", "py-launcher", "msvc-build-tools")


class Plan(NamedTuple):
    steps: tuple[Step, ...]
    # chains of step names that may run alongside each other; together they are the last
    # steps of the plan, each chain in plan order (empty: strictly one step after another)
    lanes: tuple[tuple[str, ...], ...] = ()

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.steps]

    def lane_indexes(self) -> list[list[int]]:
        """The lanes as indexes into ``steps`` (checked: the plan's tail, in order, each step once)."""
        index = {s.name: i for i, s in enumerate(self.steps)}
        lanes = [[index[n] for n in lane] for lane in self.lanes]
        flat = sorted(i for lane in lanes for i in lane)
        if lanes and (flat != list(range(len(self.steps) - len(flat), len(self.steps))) or any(lane != sorted(lane) for lane in lanes)):
            raise ValueError(f"lanes {self.lanes} must be the plan's last steps, each in plan order")
        return lanes


def build(env: StepEnv) -> Plan:
    """The steps for this machine and project. A locked project's tool (and a downloaded
    interpreter) come through pipx, so then pipx and the venv are one chain, not two lanes."""
    extra = env.profile.extra_steps
    steps: list[Step] = [EXTRA[n] for n in BEFORE_PACKAGES if n in extra]
    steps.append(TrustAnchor())  # before anything fetches over https: the repository step, the transaction
    if env.python_repository:
        steps.append(PythonRepository())
    steps.append(SystemPackages())
    steps.append(TrustedCA())
    steps += [EXTRA[n] for n in extra if n not in BEFORE_PACKAGES]
    pipx: list[Step] = [PipxInstalled(), PipxOnPath(), PipxTools()]
    venv = ProjectVenv()
    needs_pipx: list[Step] = [LockTool()] if env.project.tool else []
    if env.python_download:
        needs_pipx.append(PythonDownload())
    if needs_pipx:
        return Plan((*steps, *pipx, *needs_pipx, venv))
    return Plan((*steps, *pipx, venv), lanes=(tuple(s.name for s in pipx), (venv.name,)))
