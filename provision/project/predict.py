"""Which distributions will pip build from source here, and so which native needs they add.

Pure functions on two small input shapes, so that any source of candidates can feed them:

- a pip resolver report (``pip install --dry-run --ignore-installed --report``, pip >= 22.2):
  ``install[].metadata.name/version`` and ``download_info.url`` (the file pip chose);
- records of a lockfile: ``name``, ``version``, ``wheels`` (file names) and ``sdist``.

Wheel compatibility is judged against the TARGET interpreter's tags (computed with
``packaging.tags`` from what ``interp_probe`` reports, or from a platform preset), never
the kit's own. The probe that produces the report lives in ``predict_probe``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from packaging import tags as ptags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from ..machine.facts import TagFacts
from . import build_needs
from .prediction import SOURCE, UNKNOWN, WHEEL, Prediction  # noqa: F401 - re-exported: a no-op run imports only .prediction

SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar")
# the oldest glibc minor with manylinux wheels per architecture (PEP 600's legacy aliases below)
MANYLINUX_FLOOR = {"x86_64": 5, "i686": 5}
LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}


# ------------------------------------------------------------------------------ tags


def _arch(t: TagFacts) -> str:
    """The machine part of sysconfig's platform, as wheel tags spell it."""
    arch = t.platform.split("-", 1)[1] if "-" in t.platform else t.platform
    arch = arch.replace("-", "_").replace(".", "_")
    if not t.bits64:  # a 32-bit interpreter on a 64-bit kernel
        arch = {"x86_64": "i686", "aarch64": "armv8l"}.get(arch, arch)
    return arch


def platform_tags(t: TagFacts) -> list[str]:
    """Platform tags this interpreter accepts, most specific first."""
    plat = t.platform
    if plat.startswith("linux"):
        arch = _arch(t)
        out: list[str] = []
        major, _, minor = t.libc_version.partition(".")
        if t.libc == "glibc" and major.isdigit() and minor.isdigit():
            for m in range(int(minor), MANYLINUX_FLOOR.get(arch, 17) - 1, -1):
                out.append(f"manylinux_{major}_{m}_{arch}")
                legacy = LEGACY_MANYLINUX.get((int(major), m))
                if legacy and arch in ("x86_64", "i686", "aarch64", "ppc64le", "s390x", "armv7l", "ppc64"):
                    out.append(f"{legacy}_{arch}")
        elif t.libc == "musl" and major.isdigit() and minor.isdigit():
            out += [f"musllinux_{major}_{m}_{arch}" for m in range(int(minor), -1, -1)]
        return [*out, f"linux_{arch}"]
    if plat.startswith("macosx"):
        parts = plat.split("-")
        arch = parts[-1]
        if arch == "universal2":
            arch = "arm64" if t.mac_version and int(t.mac_version.split(".")[0]) >= 11 and "arm64" in plat else "x86_64"
        ver = t.mac_version or parts[1]
        nums = tuple(int(x) for x in ver.split(".")[:2] if x.isdigit())
        version = (nums[0], nums[1] if len(nums) > 1 else 0)
        return list(ptags.mac_platforms(version, arch))
    return [plat.replace("-", "_").replace(".", "_")]


def supported_tags(t: TagFacts) -> list[ptags.Tag]:
    """Every wheel tag the target interpreter accepts, in pip's order of preference."""
    version = (int(t.nodot[0]), int(t.nodot[1:]))
    platforms = platform_tags(t)
    if t.implementation == "cpython":
        out = list(ptags.cpython_tags(version, [t.abi], platforms))
        out += list(ptags.compatible_tags(version, f"cp{t.nodot}", platforms))
    else:
        interp = f"{ptags.INTERPRETER_SHORT_NAMES.get(t.implementation, t.implementation)}{t.nodot}"
        out = list(ptags.generic_tags(interp, [t.abi] if t.abi else [], platforms))
        out += list(ptags.compatible_tags(version, interp, platforms))
    return out


def label(t: TagFacts) -> str:
    """The tag a wheel for this interpreter would carry, for people: ``cp311 manylinux_2_36_x86_64``."""
    return f"{t.abi or 'cp' + t.nodot} {platform_tags(t)[0]}"


def wheel_fits(filename: str, tags: Iterable[ptags.Tag]) -> bool:
    try:
        _, _, _, wheel_tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return False
    return not wheel_tags.isdisjoint(tags if isinstance(tags, (set, frozenset)) else set(tags))


# ------------------------------------------------------------------------------ candidates


@dataclass(frozen=True)
class Candidate:
    """One distribution that would be installed, with what is known about its files."""

    name: str
    version: str
    chosen: str = ""  # the file pip chose (report); "" for a lock record
    wheels: tuple[str, ...] = ()  # every wheel file name known (lock)
    sdist: bool = False
    local: str = ""  # a directory, VCS checkout or editable project: always built here
    source_why: str = ""  # known to build from source for a reason of its own (--no-binary, a failed metadata step)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", (), False)} | {"name": self.name, "version": self.version}


class LockedRecord(Protocol):
    name: str
    version: str
    wheels: tuple[str, ...]
    sdist: bool


def _filename(url: str) -> str:
    return unquote(posixpath.basename(urlparse(url).path))


def from_report(report: Mapping[str, Any], *, forced_source: Mapping[str, str] | None = None) -> list[Candidate]:
    """The candidates of a pip ``--report`` (version 1). ``forced_source``: name -> why it builds from source."""
    forced = {canonicalize_name(k): v for k, v in (forced_source or {}).items()}
    out = []
    for item in report.get("install", []):
        meta = item.get("metadata", {})
        name, version = str(meta.get("name", "")), str(meta.get("version", "")).split("+provision.standin")[0]
        info = item.get("download_info", {})
        url = str(info.get("url", ""))
        why = forced.get(canonicalize_name(name), "")
        if "dir_info" in info or "vcs_info" in info:
            kind = "editable project" if info.get("dir_info", {}).get("editable") else ("VCS checkout" if "vcs_info" in info else "local directory")
            out.append(Candidate(name, version, local=f"{kind} {url}", source_why=why))
        else:
            out.append(Candidate(name, version, chosen=_filename(url), source_why=why))
    return out


def from_locked(records: Iterable[LockedRecord]) -> list[Candidate]:
    """The candidates of a lockfile's records (name, version, wheel file names, sdist present)."""
    return [Candidate(r.name, r.version, wheels=tuple(r.wheels), sdist=bool(r.sdist)) for r in records]


# ------------------------------------------------------------------------------ verdicts


@dataclass(frozen=True)
class Verdict:
    """What happens to one distribution here, and the needs that follow."""

    name: str
    version: str
    kind: str  # wheel | source | unknown
    why: str  # for people: "builds from source here (no cp311 manylinux_2_36_x86_64 wheel)"
    needs: tuple[str, ...] = ()  # to install: build+runtime for a source build, runtime for a wheel
    optional: tuple[str, ...] = ()  # reported, not installed
    manual: str = ""  # reported, never installed

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def verdict(c: Candidate, tags: Sequence[ptags.Tag] | frozenset[ptags.Tag], where: str, table: Any = None) -> Verdict:
    """One candidate against the target's tags and the knowledge table."""
    tagset = tags if isinstance(tags, frozenset) else frozenset(tags)
    if c.source_why:
        kind, why = SOURCE, f"builds from source here ({c.source_why})"
    elif c.local:
        kind, why = SOURCE, f"builds from source here ({c.local})"
    elif c.chosen:
        if c.chosen.endswith(".whl"):
            if wheel_fits(c.chosen, tagset):
                kind, why = WHEEL, f"wheel {c.chosen}"
            else:
                kind, why = UNKNOWN, f"the resolver chose {c.chosen}, which does not fit {where}; whether another wheel does is not known"
        else:
            kind, why = SOURCE, f"builds from source here (no {where} wheel)"
    else:
        fit = next((w for w in c.wheels if wheel_fits(w, tagset)), None)
        if fit:
            kind, why = WHEEL, f"wheel {fit}"
        elif c.sdist:
            kind, why = SOURCE, f"builds from source here (no {where} wheel in the lock)"
        else:
            kind, why = UNKNOWN, f"the lock records no wheel for {where} and no sdist"
    entry = build_needs.lookup(c.name, table) if table is not None else build_needs.lookup(c.name)
    if entry is None:
        return Verdict(c.name, c.version, kind, why)
    source = kind == SOURCE
    optional = tuple(n for n in entry.optional if source)
    return Verdict(c.name, c.version, kind, why, entry.needs(built_from_source=source), optional, entry.manual if source else "")


def classify(candidates: Iterable[Candidate], t: TagFacts, table: Any = None) -> tuple[Verdict, ...]:
    tags = frozenset(supported_tags(t))
    where = label(t)
    return tuple(verdict(c, tags, where, table) for c in candidates)


def reason_line(v: Verdict, packages: Mapping[str, str]) -> str:
    """``psycopg2 2.9.9 builds from source here (no cp311 ... wheel) → postgres-client: libpq-dev``."""
    needs = ", ".join(f"{n}: {packages.get(n, '?')}" for n in v.needs)
    text = f"{v.name} {v.version} {v.why if v.kind != WHEEL else 'installs as a wheel (' + v.why + ') but loads at run time'}"
    if needs:
        text += f" → {needs}"
    if v.manual:
        text += f"; by hand: {v.manual}"
    if v.optional:
        text += f" (optional, not installed: {', '.join(v.optional)})"
    return text
