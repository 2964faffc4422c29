"""Which venv the kit may build, replace or delete: only what it can prove it built, inside the project.

Three fences, each enough alone: the project's ``venv`` key is validated here when the
config is read (inside the project, no symlink on the way, an existing directory must be
a venv); the venv step asks ``existing`` what is there before it plans (its own build is
replaced, another tool's venv is moved to a kept backup, anything else is an error); and
``provision.atomic`` refuses, whatever it is given, to delete a directory without the
kit's stamp or build marker.
"""

from __future__ import annotations

import ntpath
import os
import posixpath
import time
from pathlib import Path
from typing import NamedTuple, Protocol

from .atomic import BUILDING, STAMP
from .errors import ConfigError, ProvisionError


class Files(Protocol):
    """The part of a probe this module asks (file existence and contents only: no process)."""

    def exists(self, path: str) -> bool: ...
    def read_text(self, path: str) -> str | None: ...
    def mtime(self, path: str) -> float | None: ...
    def now(self) -> float: ...


def _inside(path: str, root: str) -> bool:
    return path != root and path.startswith(root.rstrip(os.sep) + os.sep)


def validate_venv_path(project: Path, text: object, where: str) -> Path:
    """The venv's absolute path, proven to lie inside the project without leaving it through a symlink."""
    expected = 'a sub-directory of the project such as ".venv"'
    if not isinstance(text, str) or not text.strip() or "\0" in text:
        raise ConfigError(f"key 'venv' must be a non-empty path, not {text!r}.", f"Expected {expected}.", where=where)
    root = str(project)  # already resolved
    lexical = os.path.normpath(os.path.join(root, os.path.expanduser(text)))
    if not _inside(lexical, root):
        raise ConfigError(f"key 'venv' = {text!r} is not inside the project ({lexical}).",
                          f"The kit only builds (and replaces) a venv inside the project it provisions. Expected {expected}.",
                          where=where)
    real = os.path.realpath(lexical)
    if real != lexical:
        raise ConfigError(f"key 'venv' = {text!r}: {lexical} goes through a symlink (to {real}).",
                          "The kit never replaces a directory it reaches through a symlink: point 'venv' at a real "
                          "directory inside the project, or remove the link.", where=where)
    if os.path.lexists(lexical):
        if not os.path.isdir(lexical):
            raise ConfigError(f"key 'venv' = {text!r}: {lexical} exists and is not a directory.",
                              f"Move it away or choose another path. Expected {expected}.", where=where)
        if not any(os.path.isfile(os.path.join(lexical, m)) for m in ("pyvenv.cfg", STAMP)):
            raise ConfigError(f"key 'venv' = {text!r}: {lexical} exists and is not a venv (no pyvenv.cfg).",
                              "The kit never touches a directory that is not a venv: choose another path such as \".venv\".",
                              where=where)
    return Path(lexical)


class Existing(NamedTuple):
    """What is at the venv's path before the step plans."""

    kind: str  # absent | kit | foreign
    backup: str | None = None  # foreign: where promote keeps it


def existing(files: Files, venv: str) -> Existing:
    """absent, the kit's own (stamp), or another tool's venv (pyvenv.cfg only: moved to a backup, kept).

    A directory with neither is refused here too (ProvisionError): nothing is planned for it.
    """
    if not files.exists(venv):
        return Existing("absent")
    if files.exists(os.path.join(venv, STAMP)):
        return Existing("kit")
    cfg = os.path.join(venv, "pyvenv.cfg")
    if files.exists(cfg):
        # named after when that venv was made, not after now: the dry run shows the very name a run uses
        made = files.mtime(cfg)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(made if made is not None else files.now()))
        return Existing("foreign", f"{venv}.backup-{stamp}")
    raise ProvisionError(f"{venv} exists and is not a venv (no pyvenv.cfg, no provision stamp); it was left as it is.",
                         "Choose another 'venv' path in the project config, or move the directory away yourself.")


def leftovers(files: Files, venv: str) -> list[str]:
    """The kit's leftovers of an interrupted build; a same-named directory it did not mark is an error."""
    out = []
    for path in (venv + ".partial", venv + ".old"):
        if not files.exists(path):
            continue
        if not (files.exists(os.path.join(path, BUILDING)) or files.exists(os.path.join(path, STAMP))):
            raise ProvisionError(f"{path} exists but was not made by provision (no marker in it); it was left as it is.",
                                 "Move it away or remove it yourself, then run again.")
        out.append(path)
    return out


def _cfg(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, eq, value = line.partition("=")
        if eq:
            out[key.strip().lower()] = value.strip()
    return out


def broken(files: Files, venv: str, stamp: dict[str, object], *, windows: bool) -> str | None:
    """Why a venv the kit built no longer works (None: healthy). File probes only: the no-op stays cheap."""
    join = ntpath.join if windows else posixpath.join
    inputs = stamp.get("inputs") if isinstance(stamp.get("inputs"), dict) else {}
    assert isinstance(inputs, dict)
    text = files.read_text(join(venv, "pyvenv.cfg"))
    if text is None:
        return f"{venv} is broken: its pyvenv.cfg is gone (its python would run as the base interpreter)"
    cfg = _cfg(text)
    minor = str(inputs.get("python_version") or "")
    version = cfg.get("version_info") or cfg.get("version") or ""
    if minor and version and not (version == minor or version.startswith(minor + ".")):
        return f"{venv} is broken: its pyvenv.cfg names Python {version}, its stamp {minor}"
    base = str(inputs.get("python") or "")
    if base and not files.exists(base):
        return f"{venv} is broken: its interpreter {base} is gone"
    sites = [join(venv, "Lib", "site-packages")] if windows else [join(venv, "lib", f"{impl}{minor}", "site-packages")
                                                                  for impl in ("python", "pypy")]
    site = sites[0]
    if minor and not any(files.exists(s) for s in sites):
        return f"{venv} is broken: {site} is gone"
    return None
