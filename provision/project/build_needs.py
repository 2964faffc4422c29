"""The build-needs table (``build-needs.toml``): distribution name -> the native needs it has.

Pure data beside the profiles; the needs are resolved into packages by the machine's
profile. Build needs matter only when pip builds the distribution from source; runtime
needs (a library loaded with ctypes/cffi) matter even when a wheel is installed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from .. import toml
from ..errors import ConfigError
from ..paths import data_dir

FILE = "build-needs.toml"
NEED_KINDS = ("build", "runtime", "optional")
ENTRY_KEYS = (*NEED_KINDS, "manual", "note")
NEED_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def data_path(name: str) -> Path:
    """A data file shipped with the kit (the profiles' directory, in a checkout or in the wheel)."""
    return data_dir() / name


@dataclass(frozen=True)
class Entry:
    name: str
    build: tuple[str, ...] = ()
    runtime: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    manual: str = ""
    note: str = ""

    def needs(self, *, built_from_source: bool, include_optional: bool = False) -> tuple[str, ...]:
        kinds = (self.build, self.runtime, self.optional if include_optional else ()) if built_from_source else (self.runtime,)
        return tuple(dict.fromkeys(n for kind in kinds for n in kind))


def _entry(key: str, table: Any, where: str) -> Entry:
    dotted = f"packages.{key}"
    if key != canonicalize_name(key):
        raise ConfigError(f"'{dotted}' is not a normalised distribution name.", f"Write it as '{canonicalize_name(key)}' (PEP 503).", where=where)
    if not isinstance(table, dict):
        raise ConfigError(f"'{dotted}' must be a table.", 'For example: [packages.psycopg2] build = ["postgres-client"].', where=where)
    fields: dict[str, Any] = {}
    for k, v in table.items():
        if k not in ENTRY_KEYS:
            raise ConfigError(f"unknown key '{dotted}.{k}'.", f"Allowed: {', '.join(ENTRY_KEYS)}. See profiles/README.md.", where=where)
        if k in NEED_KINDS:
            if not isinstance(v, list) or not all(isinstance(n, str) and NEED_NAME.match(n) for n in v):
                raise ConfigError(f"'{dotted}.{k}' must be a list of need names.", 'For example: ["ssl", "pkg-config"].', where=where)
            if len(set(v)) != len(v):
                raise ConfigError(f"'{dotted}.{k}' names a need twice.", "Name each need once.", where=where)
            fields[k] = tuple(v)
        elif not isinstance(v, str) or not v.strip():
            raise ConfigError(f"'{dotted}.{k}' must be a non-empty string.", "See profiles/README.md.", where=where)
        else:
            fields[k] = v
    return Entry(name=key, **fields)


def parse(data: Mapping[str, Any], where: str) -> dict[str, Entry]:
    """Validate the table's contents strictly; every error names the file and the key."""
    for key in data:
        if key != "packages":
            raise ConfigError(f"unknown key '{key}'.", "The file has one table, [packages.NAME]. See profiles/README.md.", where=where)
    packages = data.get("packages", {})
    if not isinstance(packages, dict):
        raise ConfigError("'packages' must be a table.", "See profiles/README.md.", where=where)
    return {key: _entry(key, table, where) for key, table in packages.items()}


@cache
def load(path: Path | None = None) -> Mapping[str, Entry]:
    path = path or data_path(FILE)
    return parse(toml.load(path), str(path))


def entries(path: Path | None = None) -> tuple[Entry, ...]:
    """Every entry, sorted by name."""
    table = load(path)
    return tuple(table[k] for k in sorted(table))


def lookup(dist_name: str, path: Path | None = None) -> Entry | None:
    return load(path).get(canonicalize_name(dist_name))


def needs_for(dist_name: str, *, built_from_source: bool, include_optional: bool = False, path: Path | None = None) -> tuple[str, ...]:
    """The needs of a distribution: build + runtime when built from source, runtime only for a wheel.

    Unknown distributions need nothing known; ``include_optional`` adds the needs that
    only some versions or configurations use (libyaml for PyYAML, ...).
    """
    entry = lookup(dist_name, path)
    return entry.needs(built_from_source=built_from_source, include_optional=include_optional) if entry else ()
