"""TOML reading on every supported Python (tomllib from 3.11, its backport tomli before).

A file's parse is kept (``provision.memo``) under the SHA-256 of its bytes: a no-op run
reads the same profile and pyproject every time, and the pure-Python parser with its
import is about 4 ms of it. A file holding dates or times (which JSON cannot keep) is
simply parsed every time.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

from . import memo
from .errors import ConfigError


def _tomllib() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.9/3.10
        import tomli as tomllib
    return tomllib


def _name(data: bytes) -> str:
    return f"toml-{hashlib.sha256(data).hexdigest()}-{sys.version_info[0]}.{sys.version_info[1]}.json"


def loads(text: str) -> dict[str, Any]:
    """Parse TOML text (kept by its bytes, as ``load``; tomllib's own errors)."""
    name = _name(text.encode("utf-8", errors="surrogatepass"))
    kept = memo.read(name)
    if isinstance(kept, dict):
        return kept
    parsed: dict[str, Any] = _tomllib().loads(text)
    memo.keep(name, parsed)
    return parsed


def load(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning syntax errors into a ConfigError that names the file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ConfigError(f"cannot be read ({e.strerror}).", "Check the path and its permissions.", where=str(path)) from e
    name = _name(data)
    kept = memo.read(name)
    if isinstance(kept, dict):
        return kept
    tomllib = _tomllib()
    try:
        parsed: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"is not valid TOML ({e}).", "Fix the syntax and run again.", where=str(path)) from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"is not UTF-8 text (byte {e.start}: {e.reason}); TOML files are UTF-8.",
                          "Save the file as UTF-8 and run again.", where=str(path)) from e
    except RecursionError as e:
        raise ConfigError("nests tables or arrays too deeply to be read.", "Flatten the file and run again.", where=str(path)) from e
    memo.keep(name, parsed)
    return parsed
