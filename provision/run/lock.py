"""One writer at a time: two runs started at once must not both change the machine.

The second run waits (bounded) with a message naming the holder, then re-checks
everything, so it finds the first run's work done and reports it as ok. The lock is
``filelock``'s (``flock`` on POSIX, ``msvcrt`` on Windows); stage 0 (``./bootstrap``)
takes the same file with flock(1), so the two never overlap either. A run that may only
confirm (``provision.fastpath``, POSIX only) tries it once with the same flock(2) call
itself: importing filelock, with logging, was 4 ms of that 0.08 s run.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TextIO

from ..errors import MachineError


class Busy(Exception):
    """Another run holds the lock and this one chose not to wait."""


def _holder(path: str) -> str:
    with contextlib.suppress(OSError), open(path + ".owner", encoding="utf-8", errors="replace") as f:
        return f.read(64).strip() or "unknown"
    return "unknown"


@contextlib.contextmanager
def exclusive(path: str, *, wait: float = 1800.0, notice: TextIO | None = None, blocking: bool = True) -> Iterator[bool]:
    """Hold the lock; yields whether it had to wait for another run (``Busy`` if not ``blocking``)."""
    if not blocking and os.name == "posix":
        with _attempt(path):
            yield False
        return
    from filelock import FileLock, Timeout

    lock = FileLock(path, mode=0o600)
    waited = False
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        lock.acquire(timeout=0)
    except Timeout:
        if not blocking:
            raise Busy(path) from None
        out = notice or sys.stderr
        out.write(f"provision: another run (pid {_holder(path)}) is changing this machine; waiting for it to finish "
                  f"(up to {wait / 60:.0f} min; lock {path})\n")
        out.flush()
        waited = True
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise MachineError(
                f"another provision run still holds {path} after {wait / 60:.0f} minutes.",
                "Wait for it to finish, or stop it; nothing was changed by this run.",
            ) from None
    except OSError as e:
        raise _unwritable(path, e) from e
    try:
        _own(path)
        yield waited
    finally:
        lock.release()


def _unwritable(path: str, e: OSError) -> MachineError:
    return MachineError(
        f"cannot write the kit's lock file {path} ({e.strerror or e}).",
        "Make the directory writable, or point XDG_STATE_HOME (the kit's state and logs) at a writable directory.",
    )


def _own(path: str) -> None:
    with contextlib.suppress(OSError), open(path + ".owner", "w", encoding="utf-8") as f:
        f.write(str(os.getpid()))


@contextlib.contextmanager
def _attempt(path: str) -> Iterator[None]:
    """POSIX: the lock now or ``Busy``, by the flock(2) call filelock's UnixFileLock makes on the same file."""
    import fcntl

    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise _unwritable(path, e) from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise Busy(path) from None
        _own(path)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock
