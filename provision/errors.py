"""Errors the user can act on.

Every bad input ends in one paragraph that names where the problem is (file, key,
value), what is wrong, and the way out; tasks turn it into a non-zero exit.
"""

from __future__ import annotations


class ProvisionError(Exception):
    """A problem with the input or the machine that the user can fix."""

    exit_code = 2  # bad input; a machine condition is MachineError (1)

    def __init__(self, problem: str, fix: str = "", *, where: str = "") -> None:
        self.problem = problem
        self.fix = fix
        self.where = where
        super().__init__(str(self))

    def __str__(self) -> str:
        """The paragraph, masked and cleaned: it quotes values and file contents from outside."""
        from .redact import safe

        head = f"{self.where}: " if self.where else ""
        tail = f" {self.fix}" if self.fix else ""
        return safe(f"{head}{self.problem}{tail}")


class ConfigError(ProvisionError):
    """A malformed profile, project config or option."""


class PlatformError(ProvisionError):
    """A platform the kit has no profile or preset for."""


class MachineError(ProvisionError):
    """A condition of the machine, not of the input (no root and no sudo, a lock held too long)."""

    exit_code = 1
