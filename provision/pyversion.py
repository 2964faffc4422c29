"""Just enough of PEP 440 specifiers to choose an interpreter (``>=3.9``, ``==3.11.*``).

The kit's runtime has no ``packaging``; interpreter versions are plain X.Y.Z, so the
subset needed here is small and exact.
"""

from __future__ import annotations

import re

_CLAUSE = re.compile(r"^\s*(===|==|!=|~=|>=|<=|>|<)\s*(\d+(?:\.\d+)*)(\.\*)?\s*$")


def _parse(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def _pad(v: tuple[int, ...], n: int) -> tuple[int, ...]:
    return v + (0,) * (n - len(v))


class SpecifierSet:
    """A comma-separated set of version clauses; all must hold."""

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        self.clauses: list[tuple[str, tuple[int, ...], bool]] = []
        if not self.text:
            return
        for part in self.text.split(","):
            m = _CLAUSE.match(part)
            if not m:
                raise ValueError(f"'{part.strip()}' is not a version clause")
            op, ver, star = m.group(1), _parse(m.group(2)), bool(m.group(3))
            if star and op not in ("==", "!="):
                raise ValueError(f"'{part.strip()}': '.*' only goes with == or !=")
            if op == "~=" and len(ver) < 2:
                raise ValueError(f"'{part.strip()}': ~= needs at least X.Y")
            self.clauses.append((op, ver, star))

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"SpecifierSet({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SpecifierSet) and self.clauses == other.clauses

    def __hash__(self) -> int:
        return hash(tuple(self.clauses))

    def contains(self, version: str) -> bool:
        v = _parse(".".join(re.findall(r"\d+", version)[:3]))
        return all(self._holds(op, ref, star, v) for op, ref, star in self.clauses)

    @staticmethod
    def _holds(op: str, ref: tuple[int, ...], star: bool, v: tuple[int, ...]) -> bool:
        n = max(len(ref), len(v))
        if star:
            same = v[: len(ref)] == ref
            return same if op == "==" else not same
        a, b = _pad(v, n), _pad(ref, n)
        if op in ("==", "==="):
            return a == b
        if op == "!=":
            return a != b
        if op == ">=":
            return a >= b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        if op == "<":
            return a < b
        # ~=X.Y(.Z): >= X.Y(.Z) and == X.* (one component dropped)
        return a >= b and v[: len(ref) - 1] == ref[:-1]
