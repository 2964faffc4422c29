"""The run's log: the full output of every command, one file per run (0600, path printed at the end)."""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections.abc import Iterator
from typing import TextIO


class RunLog:
    """The full output of every command, in one file per run (path printed at the end).

    Steps running alongside each other each write into a ``section`` of their own, which
    goes into the file in one piece when the step ends, so their outputs never interleave.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._f: TextIO | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        if path:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            self._f = open(path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115 - closed in close()

    def write(self, text: str) -> None:
        section = getattr(self._local, "section", None)
        if section is not None:
            section.write(text)
        elif self._f:
            with self._lock:
                self._f.write(text)
                self._f.flush()

    @property
    def stream(self) -> TextIO | None:
        section = getattr(self._local, "section", None)
        return section if section is not None else self._f

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
            self._local.section = None
            self.write(buf.getvalue())

    def close(self) -> None:
        if self._f:
            self._f.close()
            self._f = None

    def discard(self) -> None:
        """Close and remove the file: the run it began is handed to another process."""
        self.close()
        if self.path:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            self.path = None
