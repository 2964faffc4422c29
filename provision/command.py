"""Commands as data: an argv tuple plus whether it needs root.

Nothing here builds a shell string from data. The one place a string exists is
``display``/``shell``, made with ``shlex.join`` from a validated argv, because invoke's
and Fabric's ``run`` take a string. What is shown (``shown``: ``shell``, ``to_json``, the
run log) is masked argument by argument, before any quoting: a URL's credentials and the
value of a credential variable (``POETRY_HTTP_BASIC_X_PASSWORD=...``) never reach a screen,
a log or a JSON recap.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from .redact import clean, mask_arg, secret_variable

PACKAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+._@/:-]*$")


def valid_package_name(name: object) -> bool:
    """True for names a package manager can take: no options, spaces or shell syntax."""
    return isinstance(name, str) and bool(PACKAGE_NAME.match(name)) and len(name) <= 200


@dataclass(frozen=True)
class Command:
    """One command a step wants to run. ``sudo`` asks for root when not already root."""

    argv: tuple[str, ...]
    sudo: bool = False
    env: tuple[tuple[str, str], ...] = ()
    # names of variables sudo must pass through (proxies): by name, so no value (and no
    # proxy password) ever appears in the argv that is printed and logged
    keep_env: tuple[str, ...] = ()
    timeout: float | None = None
    # what the command is for, shown next to it in the plan
    purpose: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.argv or not all(isinstance(a, str) and "\0" not in a for a in self.argv):
            raise ValueError(f"invalid argv: {self.argv!r}")

    def env_inline(self, *, is_root: bool) -> bool:
        """Whether the environment goes on the command line (``env K=V``, the exact command
        shown). An environment holding a secret (an index token, a proxy password) is handed
        to the process by the runner instead, so it is not in the process list either; only
        through sudo, which would drop it, does it stay on the line."""
        if self.sudo and not is_root:
            return True
        return not any(secret_variable(k) or mask_arg(f"{k}={v}") != f"{k}={v}" for k, v in self.env)

    def argv_for(self, *, is_root: bool, sudo_flags: tuple[str, ...] = ("-n",), shown: bool = False) -> tuple[str, ...]:
        """The exact argv that runs: ``sudo`` and ``env`` prefixes made explicit.

        ``shown``: the same argv for people, every argument masked (see ``shown``), with the
        environment written as ``env K=V`` even where the runner passes it directly."""
        argv = self.argv
        if self.env and (shown or self.env_inline(is_root=is_root)):
            pairs = ((k, "***" if shown and secret_variable(k) else v) for k, v in self.env)
            argv = ("env", *(f"{k}={v}" for k, v in pairs), *argv)
        if self.sudo and not is_root:
            keep = (f"--preserve-env={','.join(self.keep_env)}",) if self.keep_env else ()
            argv = ("sudo", *sudo_flags, *keep, *argv)
        return tuple(clean(mask_arg(a)) for a in argv) if shown else argv

    def shown(self, *, is_root: bool, sudo_flags: tuple[str, ...] = ("-n",)) -> tuple[str, ...]:
        """The argv as people see it: credentials masked per argument, controls neutralised."""
        return self.argv_for(is_root=is_root, sudo_flags=sudo_flags, shown=True)

    def shell(self, *, is_root: bool, sudo_flags: tuple[str, ...] = ("-n",)) -> str:
        """The command for people to read or copy: credentials masked, controls neutralised."""
        return shlex.join(self.shown(is_root=is_root, sudo_flags=sudo_flags))

    def to_json(self, *, is_root: bool) -> dict[str, object]:
        return {
            "argv": list(self.shown(is_root=is_root)),
            "sudo": self.sudo,
            "purpose": self.purpose,
        }
