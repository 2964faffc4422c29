"""pip's ResolutionImpossible, made readable: who needs what of which package, and
which versions would agree.

Parses the "The conflict is caused by:" block (pip 20.3 to today print it the same
way: ``The user requested X<1``, ``pkg 1.0 depends on X<3 and >=1.2``). Whether the
specifiers of one package leave any version is decided by ``packaging`` (PEP 440 as pip
applies it, pre-, post- and dev-releases included) on the versions the specifiers name
and their neighbours; the agreed range is shown simplified (one lower and one upper
bound, the exclusions).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version

_REQ = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$")
#: rows kept from one log (a conflict block is a dozen lines; a log can repeat it)
MAX_ROWS = 200


@dataclass(frozen=True)
class Requirement:
    who: str  # "you (requested)", "requests 2.31.0"
    package: str
    spec: str  # ">=1.21.1,<3" ("" = any version)

    def to_json(self) -> dict[str, str]:
        return {"who": self.who, "package": self.package, "spec": self.spec or "any"}


def _specs(spec: str) -> list[Specifier]:
    out = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        try:
            out.append(Specifier(part))
        except InvalidSpecifier:
            continue  # pip printed something that is not PEP 440: leave it out of the calculation
    return out


def _neighbours(v: Version) -> Iterable[Version]:
    """Versions next to ``v`` that a bound may let through or keep out."""
    rel = v.release
    yield v
    texts = [f"{v.base_version}.post1", f"{v.base_version}.dev0", f"{v.base_version}a0"]
    for i in range(len(rel)):
        bumped = (*rel[:i], rel[i] + 1)
        texts.append(".".join(map(str, bumped)))
        if rel[i] > 0:
            lower = (*rel[:i], rel[i] - 1, 9999)
            texts.append(".".join(map(str, lower)))
    texts.append(".".join(map(str, (*rel, 1))))
    for t in texts:
        try:
            yield Version(t)
        except InvalidVersion:
            continue


def satisfiable(specs: Iterable[Specifier]) -> Version | None:
    """A version every specifier allows (pre-releases only when one of them names one), or None."""
    specs = list(specs)
    if not specs:
        return Version("0")
    combined = SpecifierSet(",".join(str(s) for s in specs))
    versions = []
    for s in specs:
        try:
            versions.append(Version(s.version.removesuffix(".*")))
        except InvalidVersion:
            continue
    pre = any(v.is_prerelease for v in versions)
    candidates = sorted({c for v in versions for c in _neighbours(v)} | {Version("0"), Version("99999")})
    return next((c for c in candidates if combined.contains(c, prereleases=pre)), None)


def _bounds(specs: list[Specifier]) -> str:
    """The specifiers as one range: the highest lower bound, the lowest upper bound, exclusions."""
    lo: tuple[Version, bool, str] | None = None  # (version, inclusive, text)
    hi: tuple[Version, bool, str] | None = None
    exact: list[str] = []
    excluded: list[str] = []

    def lower(v: str, inclusive: bool) -> None:
        nonlocal lo
        ver = Version(v)
        if lo is None or ver > lo[0] or (ver == lo[0] and not inclusive):
            lo = (ver, inclusive, v)

    def upper(v: str, inclusive: bool) -> None:
        nonlocal hi
        ver = Version(v)
        if hi is None or ver < hi[0] or (ver == hi[0] and not inclusive):
            hi = (ver, inclusive, v)

    for s in specs:
        op, v = s.operator, s.version
        try:
            if op in ("==", "===") and v.endswith(".*"):
                base = Version(v[:-2]).release
                lower(v[:-2], True)
                upper(".".join(map(str, (*base[:-1], base[-1] + 1))), False)
            elif op in ("==", "==="):
                exact.append(v)
            elif op == "!=":
                excluded.append(v)
            elif op in (">=", ">"):
                lower(v, op == ">=")
            elif op in ("<=", "<"):
                upper(v, op == "<=")
            elif op == "~=":
                rel = Version(v).release
                lower(v, True)
                upper(".".join(map(str, (*rel[:-2], rel[-2] + 1))) if len(rel) > 1 else str(rel[0] + 1), False)
        except InvalidVersion:
            continue
    if exact:
        return "==" + exact[0]
    if lo and hi and lo[0] == hi[0]:
        return "==" + lo[2]
    parts = []
    if lo:
        parts.append((">=" if lo[1] else ">") + lo[2])
    if hi:
        parts.append(("<=" if hi[1] else "<") + hi[2])
    parts += ["!=" + x for x in excluded]
    return ", ".join(parts) or "any version"


def agreed(spec_strings: Iterable[str]) -> str | None:
    """What every specifier string allows together, as text; None when no version does."""
    specs = [s for text in spec_strings for s in _specs(text)]
    if satisfiable(specs) is None:
        return None
    return _bounds(specs)


def parse_requirement(who: str, text: str) -> Requirement | None:
    text = text.split(";")[0].strip().rstrip(".")
    m = _REQ.match(text)
    if not m:
        return None
    spec = re.sub(r"\s+and\s+", ",", m.group(3).strip())
    spec = ",".join(s.strip() for s in spec.split(",") if s.strip())
    return Requirement(who, m.group(1), spec)


class Parser:
    """Reads lines one at a time and keeps the rows of every conflict block (bounded)."""

    def __init__(self) -> None:
        self.rows: list[Requirement] = []
        self.inside = False

    def feed(self, raw: str) -> None:
        line = raw.strip()
        if line.startswith("The conflict is caused by"):
            self.inside = True
            return
        if not self.inside:
            return
        if not line or line.startswith(("To fix this", "Additionally", "ERROR")):
            self.inside = False
            return
        m = re.match(r"^The user requested (\(constraint\) )?(.+)$", line)
        if m:
            who = "you (constraint)" if m.group(1) else "you (requested)"
            req = parse_requirement(who, m.group(2))
        else:
            m = re.match(r"^(\S+) (\S+) depends on (.+)$", line)
            req = parse_requirement(f"{m.group(1)} {m.group(2)}", m.group(3)) if m else None
        if req and req not in self.rows and len(self.rows) < MAX_ROWS:
            self.rows.append(req)


def parse(text: str) -> list[Requirement]:
    """The rows of every "The conflict is caused by:" block in pip's output."""
    p = Parser()
    for line in text.splitlines():
        p.feed(line)
    return p.rows


@dataclass(frozen=True)
class Analysis:
    package: str
    rows: tuple[Requirement, ...]
    agreed: str | None  # the intersection, or None when it is empty
    relax: tuple[tuple[Requirement, str], ...]  # (requirement to loosen, what the others agree on)

    def to_json(self) -> dict[str, object]:
        return {
            "package": self.package,
            "requirements": [r.to_json() for r in self.rows],
            "intersection": self.agreed,
            "relax": [{"who": r.who, "spec": r.spec, "others_allow": allow} for r, allow in self.relax],
        }


def analyse(rows: list[Requirement]) -> list[Analysis]:
    """Per package: do the specifiers intersect? If not, which single pin to loosen."""
    by_pkg: dict[str, list[Requirement]] = {}
    for r in rows:
        by_pkg.setdefault(re.sub(r"[-_.]+", "-", r.package).lower(), []).append(r)
    out = []
    for reqs in by_pkg.values():
        together = agreed(r.spec for r in reqs)
        relax = []
        if together is None:
            # users' own pins first: they are the ones a user can change directly
            for r in sorted(reqs, key=lambda r: not r.who.startswith("you")):
                rest = agreed(o.spec for o in reqs if o is not r)
                if rest is not None:
                    relax.append((r, rest))
        out.append(Analysis(reqs[0].package, tuple(reqs), together, tuple(relax)))
    return out


def table(rows: list[Requirement]) -> list[str]:
    """The conflict as aligned text rows: who | needs | package."""
    if not rows:
        return []
    head = ("who", "needs", "of package")
    data = [(r.who, r.spec or "any version", r.package) for r in rows]
    widths = [max(len(x[i]) for x in [head, *data]) for i in range(3)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*head).rstrip(), fmt.format(*("-" * w for w in widths)), *(fmt.format(*d).rstrip() for d in data)]
