"""Answers kept between runs, for questions whose answer depends only on the question.

A no-op run asks the same things every time: the parsed contents of the same TOML files,
the same version-range questions. Each answer here is keyed by everything it depends on
(a file's bytes by their SHA-256, packaging's version), so a kept answer is never stale;
a missing or damaged file only means computing the answer again. The files live in the
kit's per-user cache directory and hold no secrets (project metadata, version ranges).

New answers are only written by ``flush``, which a run calls once it got past its input:
a run refused for bad input leaves nothing behind, not even a cache entry.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any


def directory() -> str:
    import platformdirs

    return os.path.join(platformdirs.user_cache_dir("provision"), "memo")


def read(name: str) -> Any:
    """The JSON kept under ``name``, or None."""
    try:
        with open(os.path.join(directory(), name), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError, RecursionError):
        return None


_pending: dict[str, Any] = {}


def keep(name: str, data: Any) -> None:
    """Write ``data`` under ``name`` at the next ``flush`` (the object as it is then)."""
    _pending[name] = data


def flush() -> None:
    while _pending:
        write(*_pending.popitem())


def write(name: str, data: Any, *, keep: int = 64) -> None:
    """Keep ``data`` under ``name`` (atomically: a concurrent run reads the old file or the new).

    At most ``keep`` files of the same kind (the name up to its first "-") stay, the oldest
    going first: an edited pyproject leaves its old parse behind."""
    where = directory()
    path = os.path.join(where, name)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(where, mode=0o700, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, separators=(",", ":"), allow_nan=False)
        os.replace(tmp, path)
        kind = name.split("-", 1)[0] + "-"
        names = [e for e in os.scandir(where) if e.name.startswith(kind) and not e.name.endswith(".tmp")]
        if len(names) > keep:
            for e in sorted(names, key=lambda e: e.stat().st_mtime)[: len(names) - keep]:
                with contextlib.suppress(OSError):
                    os.unlink(e.path)
    except (OSError, ValueError, TypeError):  # read-only cache, or data JSON cannot hold: only slower
        with contextlib.suppress(OSError):
            os.unlink(tmp)
