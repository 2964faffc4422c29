"""pip's ResolutionImpossible, made readable: who needs what of which package, and
which versions would agree.

Parses the "The conflict is caused by:" block (pip 20.3 to today print it the same
way: ``The user requested X<1``, ``pkg 1.0 depends on X<3 and >=1.2``) and intersects
the specifiers per package with a small interval calculation (the kit has no
``packaging`` at run time). Pre-release and local segments are ignored: the question
is only "is there any version at all that every requirement allows?".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CLAUSE = re.compile(r"(~=|===|==|!=|<=|>=|<|>)\s*([0-9][0-9A-Za-z.*+!-]*)")
_REQ = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$")

Version = tuple[int, ...]
Bound = tuple[Version, bool]  # (version, inclusive)


@dataclass(frozen=True)
class Requirement:
    who: str  # "you (requested)", "requests 2.31.0"
    package: str
    spec: str  # ">=1.21.1,<3" ("" = any version)

    def to_json(self) -> dict[str, str]:
        return {"who": self.who, "package": self.package, "spec": self.spec or "any"}


def _version(text: str) -> Version:
    parts = []
    for p in text.split("."):
        m = re.match(r"\d+", p)
        if not m:
            break
        parts.append(int(m.group()))
    return tuple(parts) or (0,)


def _cmp(a: Version, b: Version) -> int:
    n = max(len(a), len(b))
    a2, b2 = a + (0,) * (n - len(a)), b + (0,) * (n - len(b))
    return (a2 > b2) - (a2 < b2)


def _bump(v: Version) -> Version:
    return v[:-1] + (v[-1] + 1,)


@dataclass(frozen=True)
class Interval:
    lo: Bound | None = None
    hi: Bound | None = None
    excluded: tuple[Version, ...] = ()

    def empty(self) -> bool:
        if self.lo and self.hi:
            c = _cmp(self.lo[0], self.hi[0])
            if c > 0 or (c == 0 and not (self.lo[1] and self.hi[1])):
                return True
            if c == 0 and any(_cmp(self.lo[0], x) == 0 for x in self.excluded):
                return True
        return False

    def __and__(self, other: Interval) -> Interval:
        lo, hi = self.lo, self.hi
        if other.lo and (lo is None or _cmp(other.lo[0], lo[0]) > 0 or (_cmp(other.lo[0], lo[0]) == 0 and not other.lo[1])):
            lo = other.lo
        if other.hi and (hi is None or _cmp(other.hi[0], hi[0]) < 0 or (_cmp(other.hi[0], hi[0]) == 0 and not other.hi[1])):
            hi = other.hi
        return Interval(lo, hi, self.excluded + other.excluded)

    def text(self) -> str:
        if self.lo and self.hi and _cmp(self.lo[0], self.hi[0]) == 0:
            return "==" + ".".join(map(str, self.lo[0]))
        parts = []
        if self.lo:
            parts.append((">=" if self.lo[1] else ">") + ".".join(map(str, self.lo[0])))
        if self.hi:
            parts.append(("<=" if self.hi[1] else "<") + ".".join(map(str, self.hi[0])))
        parts += ["!=" + ".".join(map(str, x)) for x in self.excluded]
        return ", ".join(parts) or "any version"


def interval(spec: str) -> Interval:
    """The versions a specifier string allows, as one interval (plus exclusions)."""
    out = Interval()
    for op, raw in _CLAUSE.findall(spec):
        star = raw.endswith(".*")
        v = _version(raw[:-2] if star else raw)
        if op in ("==", "===") and star:
            part = Interval((v, True), (_bump(v), False))
        elif op in ("==", "==="):
            part = Interval((v, True), (v, True))
        elif op == "!=":
            part = Interval(excluded=(v,)) if not star else Interval()
        elif op == ">=":
            part = Interval(lo=(v, True))
        elif op == ">":
            part = Interval(lo=(v, False))
        elif op == "<=":
            part = Interval(hi=(v, True))
        elif op == "<":
            part = Interval(hi=(v, False))
        else:  # ~=
            part = Interval((v, True), (_bump(v[:-1]) if len(v) > 1 else _bump(v), False))
        out = out & part
    return out


def parse_requirement(who: str, text: str) -> Requirement | None:
    text = text.split(";")[0].strip().rstrip(".")
    m = _REQ.match(text)
    if not m:
        return None
    spec = re.sub(r"\s+and\s+", ",", m.group(3).strip())
    spec = ",".join(s.strip() for s in spec.split(",") if s.strip())
    return Requirement(who, m.group(1), spec)


def parse(text: str) -> list[Requirement]:
    """The rows of every "The conflict is caused by:" block in pip's output."""
    rows: list[Requirement] = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("The conflict is caused by"):
            inside = True
            continue
        if not inside:
            continue
        if not line or line.startswith(("To fix this", "Additionally", "ERROR")):
            inside = False
            continue
        m = re.match(r"^The user requested (\(constraint\) )?(.+)$", line)
        if m:
            who = "you (constraint)" if m.group(1) else "you (requested)"
            req = parse_requirement(who, m.group(2))
        else:
            m = re.match(r"^(\S+) (\S+) depends on (.+)$", line)
            req = parse_requirement(f"{m.group(1)} {m.group(2)}", m.group(3)) if m else None
        if req and req not in rows:
            rows.append(req)
    return rows


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
        total = Interval()
        for r in reqs:
            total = total & interval(r.spec)
        agreed = None if total.empty() else total.text()
        relax = []
        if agreed is None:
            # users' own pins first: they are the ones a user can change directly
            for r in sorted(reqs, key=lambda r: not r.who.startswith("you")):
                rest = Interval()
                for o in reqs:
                    if o is not r:
                        rest = rest & interval(o.spec)
                if not rest.empty():
                    relax.append((r, rest.text()))
        out.append(Analysis(reqs[0].package, tuple(reqs), agreed, tuple(relax)))
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
