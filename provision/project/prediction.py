"""The prediction's record and its verdict kinds, apart from the judging in ``predict``.

A run whose venv is up to date makes only a skipped ``Prediction``: it imports this
module, never ``predict`` (packaging.tags, the build-needs table) or the resolver probe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from .predict import Verdict

WHEEL, SOURCE, UNKNOWN = "wheel", "source", "unknown"


class Prediction(NamedTuple):
    """The verdicts, or why there are none (``error``: could not run; ``skipped``: not needed)."""

    verdicts: tuple[Verdict, ...] = ()
    source: str = ""  # "pip resolver report", "uv.lock", ...
    error: str = ""
    skipped: str = ""
    notes: tuple[str, ...] = ()

    @property
    def from_source(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.kind == SOURCE)

    def needs(self) -> dict[str, list[Verdict]]:
        """need -> the verdicts that bring it, in first-seen order."""
        out: dict[str, list[Verdict]] = {}
        for v in self.verdicts:
            for n in v.needs:
                out.setdefault(n, []).append(v)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "error": self.error, "skipped": self.skipped, "notes": list(self.notes),
                "verdicts": [v.to_json() for v in self.verdicts]}
