"""Lockfiles read as data: which distributions at which versions, and what files they have.

Every format the kit installs (uv.lock, poetry.lock in Poetry 1 and 2 layouts, pdm.lock,
Pipfile.lock, pylock.toml) becomes the same small record. The kit itself installs a lock
with the project's own tool; these records are for what the kit must know beforehand: the
lock's Python constraint, whether it carries hashes, and — for later work — which
distributions have no wheel for this machine and so build from source here.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .. import toml
from ..errors import ConfigError
from .lockref import LOCK_FILES, LockRef, pipfile_python, reference  # noqa: F401 - one import place for callers


@dataclass(frozen=True)
class LockedDistribution:
    """One locked distribution. ``wheels``: file names the lock records (may be empty when the
    lock does not record files, as in Pipfile.lock); ``sdist``: the lock records an sdist."""

    name: str  # canonical
    version: str
    wheels: tuple[str, ...] = ()
    sdist: bool = False
    hashed: bool = False
    source: str = "registry"  # registry | editable | directory | git | url | virtual
    marker: str | None = None
    files_known: bool = True  # False when the lock format does not list files at all


@dataclass(frozen=True)
class Lock:
    path: Path
    tool: str
    distributions: tuple[LockedDistribution, ...]
    requires_python: str | None = None  # the lock's own constraint, as written
    meta: tuple[tuple[str, str], ...] = ()  # format facts: lock-version, content-hash, ...

    @property
    def hashed(self) -> bool:
        return any(d.hashed for d in self.distributions)

    def versions(self) -> dict[str, str]:
        return {d.name: d.version for d in self.distributions if d.source == "registry" or d.version}


def _file_name(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    for key in ("file", "name", "filename"):
        if isinstance(entry.get(key), str):
            return str(entry[key])
    url = entry.get("url")
    if isinstance(url, str):
        from urllib.parse import urlparse  # only when a lock is read in full (not on a no-op run)

        return posixpath.basename(urlparse(url).path) or None
    return None


def _split_files(entries: Any) -> tuple[tuple[str, ...], bool, bool]:
    """(wheel names, has sdist, any hash) from a list of file entries."""
    wheels, sdist, hashed = [], False, False
    for e in entries if isinstance(entries, list) else ():
        name = _file_name(e)
        if isinstance(e, dict) and (e.get("hash") or e.get("hashes")):
            hashed = True
        if not name:
            continue
        if name.endswith(".whl"):
            wheels.append(name)
        elif name.endswith((".tar.gz", ".zip", ".tar.bz2", ".tgz")):
            sdist = True
    return tuple(wheels), sdist, hashed


def _version(value: Any, where: str, name: str) -> str:
    text = str(value or "").lstrip("=")
    try:
        return str(Version(text)) if text else ""
    except InvalidVersion as e:
        raise ConfigError(f"locks {name} at an invalid version {value!r}.", "Regenerate the lock with its tool.", where=where) from e


def _packages(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    pkgs = data.get(key, [])
    if not isinstance(pkgs, list) or not all(isinstance(p, dict) and isinstance(p.get("name"), str) for p in pkgs):
        raise ConfigError(f"has a malformed [[{key}]] list.", "Regenerate the lock with its tool.", where=where)
    return pkgs


def read_uv(path: Path) -> Lock:
    data, where = toml.load(path), str(path)
    out = []
    for p in _packages(data, "package", where):
        source = p.get("source", {}) if isinstance(p.get("source"), dict) else {}
        kind = next((k for k in ("registry", "editable", "virtual", "directory", "git", "url", "path") if k in source), "registry")
        wheels, _, wh = _split_files(p.get("wheels", []))
        sdist = isinstance(p.get("sdist"), dict)
        hashed = wh or bool(sdist and p["sdist"].get("hash"))
        out.append(LockedDistribution(canonicalize_name(p["name"]), _version(p.get("version"), where, p["name"]),
                                      wheels, sdist, hashed, kind))
    return Lock(path, "uv", tuple(out), data.get("requires-python"), (("version", str(data.get("version", ""))),))


def read_poetry(path: Path) -> Lock:
    """Poetry 1.x (lock-version 1.x: files under [metadata.files]) and 1.2+/2.x (files per package)."""
    data, where = toml.load(path), str(path)
    meta = data.get("metadata", {}) if isinstance(data.get("metadata"), dict) else {}
    legacy_files = meta.get("files", {}) if isinstance(meta.get("files"), dict) else {}
    legacy = {canonicalize_name(k): v for k, v in legacy_files.items()}
    out = []
    for p in _packages(data, "package", where):
        name = canonicalize_name(p["name"])
        files = p.get("files", legacy.get(name, []))
        wheels, sdist, hashed = _split_files(files)
        src = p.get("source", {}) if isinstance(p.get("source"), dict) else {}
        kind = {"git": "git", "directory": "directory", "file": "url", "url": "url"}.get(str(src.get("type", "")), "registry")
        out.append(LockedDistribution(name, _version(p.get("version"), where, p["name"]), wheels, sdist, hashed, kind,
                                      p.get("markers") if isinstance(p.get("markers"), str) else None))
    facts = (("lock-version", str(meta.get("lock-version", ""))), ("content-hash", str(meta.get("content-hash", ""))))
    return Lock(path, "poetry", tuple(out), meta.get("python-versions"), facts)


def read_pdm(path: Path) -> Lock:
    data, where = toml.load(path), str(path)
    meta = data.get("metadata", {}) if isinstance(data.get("metadata"), dict) else {}
    out = []
    for p in _packages(data, "package", where):
        wheels, sdist, hashed = _split_files(p.get("files", []))
        kind = "editable" if p.get("editable") else ("directory" if p.get("path") else ("git" if p.get("git") else "registry"))
        out.append(LockedDistribution(canonicalize_name(p["name"]), _version(p.get("version"), where, p["name"]), wheels, sdist,
                                      hashed, kind, p.get("marker") if isinstance(p.get("marker"), str) else None))
    groups = meta.get("groups", [])
    facts = (("lock_version", str(meta.get("lock_version", ""))), ("content_hash", str(meta.get("content_hash", ""))),
             ("groups", ",".join(groups) if isinstance(groups, list) else ""))
    return Lock(path, "pdm", tuple(out), meta.get("requires_python"), facts)


def read_pipfile_lock(path: Path) -> Lock:
    where = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"is not valid JSON ({e}).", "Regenerate it with 'pipenv lock'.", where=where) from e
    if not isinstance(data, dict):
        raise ConfigError("is not a Pipfile.lock (no JSON object).", "Regenerate it with 'pipenv lock'.", where=where)
    meta = data.get("_meta", {}) if isinstance(data.get("_meta"), dict) else {}
    out: dict[str, LockedDistribution] = {}
    for section in ("default", "develop"):
        entries = data.get(section, {})
        for name, info in (entries.items() if isinstance(entries, dict) else ()):
            if not isinstance(info, dict):
                continue
            kind = "editable" if info.get("editable") else ("git" if "git" in info else ("directory" if "path" in info else "registry"))
            out.setdefault(canonicalize_name(name), LockedDistribution(
                canonicalize_name(name), _version(info.get("version"), where, name), (), False, bool(info.get("hashes")),
                kind, info.get("markers") if isinstance(info.get("markers"), str) else None, files_known=False))
    requires = meta.get("requires", {}) if isinstance(meta.get("requires"), dict) else {}
    digest = meta.get("hash", {}).get("sha256", "") if isinstance(meta.get("hash"), dict) else ""
    return Lock(path, "pipenv", tuple(out.values()), pipfile_python(requires), (("pipfile-sha256", str(digest)),))


def read_pylock(path: Path) -> Lock:
    data, where = toml.load(path), str(path)
    version = str(data.get("lock-version", ""))
    if not version.startswith("1"):
        raise ConfigError(f"has lock-version {version!r}; the kit reads PEP 751 lock-version 1.x.",
                          "Regenerate it with a tool that writes PEP 751 (pip lock, uv export --format pylock.toml).", where=where)
    out = []
    for p in _packages(data, "packages", where):
        wheels, _, wh = _split_files(p.get("wheels", []))
        sdist = isinstance(p.get("sdist"), dict)
        hashed = wh or bool(sdist and p["sdist"].get("hashes"))
        kind = "directory" if "directory" in p else ("git" if "vcs" in p else ("url" if "archive" in p else "registry"))
        out.append(LockedDistribution(canonicalize_name(p["name"]), _version(p.get("version"), where, p["name"]), wheels, sdist,
                                      hashed, kind, p.get("marker") if isinstance(p.get("marker"), str) else None))
    return Lock(path, "pylock", tuple(out), data.get("requires-python"), (("lock-version", version),))


READERS = {"uv": read_uv, "poetry": read_poetry, "pdm": read_pdm, "pipenv": read_pipfile_lock, "pylock": read_pylock}


def read(tool: str, path: Path) -> Lock:
    return READERS[tool](path)


def locked_distributions(spec: Any) -> list[LockedDistribution]:
    """The distributions a project's lock pins (empty for a project without a lock).

    ``spec`` is a ``detect.ProjectSpec``; the project itself (editable/virtual) is left out.
    """
    ref = getattr(spec, "lock", None)
    if ref is None:
        return []
    project = getattr(spec, "name", None)
    return [d for d in ref.read().distributions if d.source in ("registry", "git", "url") and d.name != project]
