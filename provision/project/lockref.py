"""A project's lockfile by path and tool, and its Python constraint, without parsing it.

Kept apart from ``locks`` (the full readers): a no-op run needs only this, and a large
lock takes tens of milliseconds to parse, its readers a few to import.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .. import toml
from ..errors import ConfigError

if TYPE_CHECKING:
    from .locks import Lock, LockedDistribution

LOCK_FILES = {"uv": "uv.lock", "poetry": "poetry.lock", "pdm": "pdm.lock", "pipenv": "Pipfile.lock", "pylock": "pylock.toml"}


# the line that carries each lock's Python constraint: read without parsing the whole lock
# (a large lock takes tens of milliseconds to parse; the no-op re-run must not pay that)
PYTHON_LINE = {"uv": ("", "requires-python"), "poetry": ("metadata", "python-versions"), "pdm": ("metadata", "requires_python"),
               "pylock": ("", "requires-python")}


class LockRef(NamedTuple):
    """A project's lockfile, known by path and tool; its contents parsed only when asked."""

    path: Path
    tool: str
    requires_python: str | None = None

    def read(self) -> Lock:
        from .locks import read

        return read(self.tool, self.path)

    @property
    def distributions(self) -> tuple[LockedDistribution, ...]:
        return self.read().distributions


def reference(tool: str, path: Path) -> LockRef:
    """The lock's path, tool and Python constraint (a line scan; Pipfile.lock is small JSON)."""
    if tool == "pipenv":
        from .locks import read_pipfile_lock

        return LockRef(path, tool, read_pipfile_lock(path).requires_python)
    table, key = PYTHON_LINE[tool]
    current = ""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot be read ({e.strerror}).", "Check the path and its permissions.", where=str(path)) from e
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            current = stripped.strip("[]").strip()
        elif stripped.startswith("[["):
            current = "\0"  # inside an array of tables: a package's own key, not the lock's
        elif current == table and stripped.startswith(key):
            name, eq, value = stripped.partition("=")
            if eq and name.strip() == key:
                try:
                    parsed = toml.loads(f"v = {value.strip()}")["v"]
                except ValueError:  # TOMLDecodeError
                    raise ConfigError(f"has an unreadable {key} line: {stripped!r}.", "Regenerate the lock with its tool.",
                                      where=str(path)) from None
                return LockRef(path, tool, parsed if isinstance(parsed, str) else None)
    return LockRef(path, tool, None)


def pipfile_python(requires: dict[str, Any]) -> str | None:
    """Pipfile's ``[requires]`` as a specifier: python_full_version exact, python_version the series."""
    full, series = requires.get("python_full_version"), requires.get("python_version")
    if isinstance(full, str) and full.strip():
        return f"=={full.strip()}"
    if isinstance(series, str) and series.strip():
        return f"=={series.strip()}.*"
    return None
