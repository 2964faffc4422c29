"""One writer at a time: two runs started at once must not both change the machine.

The second run waits (bounded) with a message naming the holder, then re-checks
everything, so it finds the first run's work done and reports it as ok.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import time
from collections.abc import Iterator
from typing import TextIO

from ..errors import ProvisionError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class Busy(Exception):
    """Another run holds the lock and this one chose not to wait."""


@contextlib.contextmanager
def exclusive(path: str, *, wait: float = 1800.0, notice: TextIO | None = None, blocking: bool = True) -> Iterator[bool]:
    """Hold the lock; yields whether it had to wait for another run (``Busy`` if not ``blocking``)."""
    if fcntl is None:  # pragma: no cover
        yield False
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if not blocking:
                    raise Busy(path) from None
                if not told:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                    (notice or sys.stderr).write(
                        f"provision: another run (pid {holder}) is changing this machine; waiting for it to finish "
                        f"(up to {wait / 60:.0f} min; lock {path})\n"
                    )
                    (notice or sys.stderr).flush()
                    told = True
                if time.monotonic() > deadline:
                    raise ProvisionError(
                        f"another provision run still holds {path} after {wait / 60:.0f} minutes.",
                        "Wait for it to finish, or stop it; nothing was changed by this run.",
                    ) from None
                time.sleep(0.5)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield told
    finally:
        os.close(fd)
