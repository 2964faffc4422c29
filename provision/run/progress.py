"""What a person watches during a run: the live line on a terminal, plain lines otherwise, and the failure summary."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from ..command import Command
from ..redact import safe


class Progress:
    """Progress on stderr: a live line with elapsed time on a terminal, plain lines otherwise.

    Commands of steps that run alongside each other are shown together on the live line.
    """

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty() and not quiet
        self._lock = threading.Lock()
        self._active: dict[int, tuple[str, str, float]] = {}
        self._tokens = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, title: str, detail: str) -> int:
        with self._lock:
            self._tokens += 1
            token = self._tokens
            if self.quiet:
                return token
            if not self.live:
                self.stream.write(f"  … {title}: {safe(detail)}\n")
                self.stream.flush()
                return token
            self._active[token] = (title, safe(detail), time.monotonic())
            if self._thread is None:
                self._stop.clear()
                self._thread = threading.Thread(target=self._spin, daemon=True)
                self._thread.start()
        return token

    def _spin(self) -> None:
        i = 0
        while not self._stop.wait(0.2):
            with self._lock:
                items = list(self._active.values())
                if not items:
                    continue
                text = f"{items[0][0]}: {items[0][1]}" if len(items) == 1 else " · ".join(t for t, _, _ in items)
                elapsed = time.monotonic() - min(started for _, _, started in items)
                self.stream.write(f"\r  {self.FRAMES[i % len(self.FRAMES)]} {text}"[:100] + f"  {elapsed:5.0f}s\033[K")
                self.stream.flush()
            i += 1

    def stop(self, token: int) -> None:
        with self._lock:
            if self._active.pop(token, None) is not None and not self._active:
                self.stream.write("\r\033[K")
                self.stream.flush()

    def close(self) -> None:
        """End the live line's thread (a run's last command has finished)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()


def summarize_failure(output: str, command: Command) -> str:
    """The lines that say why a command failed (apt names the package; pip says ERROR)."""
    lines = [ln.rstrip() for ln in output.splitlines() if ln.strip()]
    keys = ("E: ", "ERROR", "error:", "Error", "dpkg: error", "Unable to locate package", "No match for argument",
            "fatal", "Traceback", "verify:")
    picked = [ln for ln in lines if any(k in ln for k in keys)]
    tail = picked[-6:] if picked else lines[-6:]
    return safe("\n".join(tail)) if tail else f"{command.argv[0]} exited with an error and printed nothing"
