"""TOML reading on every supported Python (tomllib from 3.11, its backport tomli before)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10
    import tomli as tomllib

from .errors import ConfigError

TOMLDecodeError = tomllib.TOMLDecodeError


def loads(text: str) -> dict[str, Any]:
    return tomllib.loads(text)


def load(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning syntax errors into a ConfigError that names the file."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"is not valid TOML ({e}).", "Fix the syntax and run again.", where=str(path)) from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"is not UTF-8 text (byte {e.start}: {e.reason}); TOML files are UTF-8.",
                          "Save the file as UTF-8 and run again.", where=str(path)) from e
    except RecursionError as e:
        raise ConfigError("nests tables or arrays too deeply to be read.", "Flatten the file and run again.", where=str(path)) from e
    except OSError as e:
        raise ConfigError(f"cannot be read ({e.strerror}).", "Check the path and its permissions.", where=str(path)) from e
