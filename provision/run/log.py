"""The run's log: the full output of every command, one file per run (0600, path printed at the end)."""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Iterator
from typing import TextIO

from ..errors import MachineError
from ..redact import safe


def private_file(path: str) -> TextIO:
    """A new file only this user can read (0600), in a directory only this user can enter (0700).

    Opened exclusively: two runs started in the same second never share a log.
    """
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        if hasattr(os, "getuid") and os.stat(directory).st_uid == os.getuid():
            os.chmod(directory, 0o700)  # made by an older kit with the umask's mode
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as e:
        raise MachineError(
            f"cannot write the log file {path} ({e.strerror or e}).",
            "Make the directory writable, or point XDG_STATE_HOME (the kit's state and logs) at a writable directory.",
        ) from e
    return open(fd, "w", encoding="utf-8", errors="replace")  # noqa: SIM115 - the caller closes it


class _Stream:
    """The log as a stream for a command's output: whole lines go through ``RunLog.write`` (masked)."""

    def __init__(self, log: RunLog) -> None:
        self._log = log
        self._rest = ""

    def write(self, text: str) -> int:
        lines, sep, self._rest = (self._rest + text).rpartition("\n")
        if sep:
            self._log.write(lines + sep)
        return len(text)

    def flush(self) -> None:
        """Whole lines are written at once; a partial line waits for its end (a URL split in two would escape the mask)."""

    def close(self) -> None:
        if self._rest:
            self._log.write(self._rest)
            self._rest = ""


class RunLog:
    """The full output of every command, in one file per run (path printed at the end).

    Everything written is masked (credentials in URLs) and cleaned (terminal controls).

    Steps running alongside each other each write into a ``section`` of their own, which
    goes into the file in one piece when the step ends, so their outputs never interleave.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._f: TextIO | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        if path:
            self._f = private_file(path)

    def write(self, text: str) -> None:
        text = safe(text)
        section = getattr(self._local, "section", None)
        if section is not None:
            section.write(text)
        elif self._f:
            with self._lock:
                self._f.write(text)
                self._f.flush()

    @property
    def stream(self) -> TextIO | None:
        """Where a command's output goes (None without a file): masked, line by line."""
        if not self._f:
            return None
        stream = getattr(self._local, "stream", None)
        if stream is None:
            stream = self._local.stream = _Stream(self)
        return stream  # type: ignore[return-value]

    def end_output(self) -> None:
        """A command has ended: its last, unterminated line goes in now."""
        stream = getattr(self._local, "stream", None)
        if stream is not None:
            stream.close()

    @contextlib.contextmanager
    def section(self) -> Iterator[None]:
        """This thread's writes (and its commands' output) are kept together until the end."""
        if not self._f:
            yield
            return
        buf = io.StringIO()
        self._local.section = buf
        try:
            yield
        finally:
            self.end_output()
            self._local.section = None
            self.write(buf.getvalue())

    def close(self) -> None:
        if self._f:
            self.end_output()
            self._f.close()
            self._f = None

    def discard(self) -> None:
        """Close and remove the file: the run it began is handed to another process."""
        self.close()
        if self.path:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            self.path = None


def log_path(kind: str, suffix: str = ".log") -> str:
    """A new log's path under the platformdirs log directory: ``KIND-DATE-TIME-PID-TOKEN.log``.

    The token keeps two runs started in one second (a container's pid 1 twice) apart."""
    import time

    import platformdirs

    stamp = time.strftime("%Y%m%d-%H%M%S")
    return os.path.join(platformdirs.user_log_dir("provision"), f"{kind}-{stamp}-{os.getpid()}-{os.urandom(3).hex()}{suffix}")
