"""doctor / explain: pip failures named in one vocabulary, with this machine's fix.

- ``rules``: the patterns (data) that turn pip/venv/compiler output into categories
  and needs, and the order in which a root cause outranks its consequences.
- ``conflicts``: pip's "The conflict is caused by:" block as a table, and which
  versions would agree.
- ``fixes``: explanation and exact commands per category, from the data in
  ``profiles/diagnose/fixes.toml``, rendered for the target platform's profile.
- ``text``: outside text made safe: bounded streaming of a log, escape sequences removed
  before matching, control characters neutralised before printing.
- ``explain``: output text in, findings out (``./bootstrap explain``).
- ``index_lookup``: when the log cannot tell why nothing matched, the package index's
  answer (PEP 691/503 project page, pip's CA bundle, a short timeout), judged for the
  log's Python and platform.
- ``doctor``: this machine's checks without running pip (``./bootstrap doctor``).
- ``tls``: the TLS-interception probe (verify against the default trust; on failure
  read the presented issuer's name) and a minimal DER reader for that name.
- ``install``: ``./bootstrap install PKG [--fix]``: pip in the project venv, explained
  when it fails, the missing system packages installed through the same runner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The categories, in the order a root cause outranks what follows from it.
CATEGORIES = (
    "pip-not-found",
    "wrong-interpreter",
    "externally-managed",
    "venv-unavailable",
    "permission-denied",
    "ssl-module-missing",
    "ssl-certificate",
    "network-unreachable",
    "missing-compiler",
    "missing-python-headers",
    "missing-rust",
    "missing-native-library",
    "python-version-mismatch",
    "resolution-impossible",
    "no-matching-distribution",
)

SEVERITIES = ("error", "warning", "info", "ok")


# categories whose fix is one need of the profile
CATEGORY_NEEDS = {"missing-compiler": "build-tools", "missing-python-headers": "python-headers", "missing-rust": "rust"}


@dataclass
class Finding:
    """One diagnosed cause: what failed, the lines that prove it, and the fix here."""

    category: str
    need: str | None = None
    evidence: list[str] = field(default_factory=list)
    explanation: str = ""
    fix: list[str] = field(default_factory=list)
    severity: str = "error"  # doctor: error | warning | info | ok ("ok" = a passed check)
    details: dict[str, Any] = field(default_factory=dict)  # e.g. the conflict table
    commands: dict[str, tuple[str, ...]] = field(default_factory=dict)  # fix lines that are commands -> argv

    @property
    def installable_needs(self) -> tuple[str, ...]:
        """The needs a package manager can satisfy for this finding (install --fix installs them together):
        a native library's (several when pkg-config hides one), the compiler, the headers, rust."""
        if self.category == "missing-native-library":
            return tuple(self.details.get("needs") or ((self.need,) if self.need else ()))
        need = CATEGORY_NEEDS.get(self.category)
        return (need,) if need else ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "category": self.category,
            "need": self.need,
            "evidence": list(self.evidence),
            "explanation": self.explanation,
            "fix": list(self.fix),
            "severity": self.severity,
        }
        if self.commands:
            out["fix_commands"] = [{"text": t, "argv": list(a)} for t, a in self.commands.items() if t in self.fix]
        if self.details:
            out["details"] = self.details
        return out

    @property
    def rank(self) -> int:
        return CATEGORIES.index(self.category) if self.category in CATEGORIES else len(CATEGORIES)
