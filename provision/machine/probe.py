"""Read-only questions a step asks the machine: run a query, look at a file.

Three answers to the same questions: ``LocalProbe`` asks this machine (through an invoke
``Context``, always really running, never under invoke's ``--dry``); ``FreshProbe`` answers
for a ``--platform`` preset, a freshly installed machine on which nothing is present yet;
tests use ``tests/fakes.py``'s ``FakeProbe`` with canned answers.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol

TOOL_TIMEOUT = 120.0  # a package database query (rpm, brew) can be slow, but not unbounded


class ProbeResult(NamedTuple):
    code: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 0


class Probe(Protocol):
    """What steps may ask. Nothing here changes the machine."""

    def run(self, argv: Sequence[str]) -> ProbeResult: ...
    def exists(self, path: str) -> bool: ...
    def mtime(self, path: str) -> float | None: ...
    def read_text(self, path: str) -> str | None: ...
    def glob(self, pattern: str) -> list[str]: ...
    def listdir(self, path: str) -> list[str] | None: ...
    def which(self, name: str) -> str | None: ...
    def now(self) -> float: ...


class _Files:
    """File questions answered from the local file system."""

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def mtime(self, path: str) -> float | None:
        try:
            return os.stat(path).st_mtime
        except OSError:
            return None

    def read_text(self, path: str) -> str | None:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return None

    def glob(self, pattern: str) -> list[str]:
        import glob

        return sorted(glob.glob(pattern))

    def listdir(self, path: str) -> list[str] | None:
        """The names in a directory (one system call; None when it cannot be read)."""
        try:
            return os.listdir(path)
        except OSError:
            return None

    def now(self) -> float:
        return time.time()


class LocalProbe(_Files):
    """This machine: read-only queries, run even in a dry run (never through invoke's ``dry``)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.path = (env or os.environ).get("PATH", os.defpath)

    def run(self, argv: Sequence[str]) -> ProbeResult:
        """Run a query, bounded in time: a hung tool is ended with its whole process group.

        Straight through subprocess, with or without a Context: a probe is local and
        read-only, and invoke's timeout would wait for a pipe an orphaned child keeps open.
        """
        from .pyprobe import run_bounded

        if not shutil.which(argv[0], path=self.path) and not os.path.isabs(argv[0]):
            return ProbeResult(127, "", f"{argv[0]}: command not found")
        try:
            code, out, err = run_bounded(list(argv), TOOL_TIMEOUT)
        except OSError as e:
            return ProbeResult(127, "", str(e))
        return ProbeResult(code, out, err)

    def which(self, name: str) -> str | None:
        return shutil.which(name, path=self.path)


class FreshProbe:
    """A freshly installed machine of a preset platform: nothing asked about is present."""

    def run(self, argv: Sequence[str]) -> ProbeResult:
        return ProbeResult(1, "", "preset platform: nothing is installed")

    def exists(self, path: str) -> bool:
        return False

    def mtime(self, path: str) -> float | None:
        return None

    def read_text(self, path: str) -> str | None:
        return None

    def glob(self, pattern: str) -> list[str]:
        return []

    def listdir(self, path: str) -> list[str] | None:
        return None

    def which(self, name: str) -> str | None:
        return None

    def now(self) -> float:
        return time.time()
