"""``./bootstrap explain FILE``: pip's (or venv's, or a compiler's) output in, findings out.

Exit codes (``cli_diagnose.explain``): 0 when at least one cause was recognised, 1 when
nothing was (the lines considered are shown), 2 for bad input (unreadable file,
unknown ``--platform``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import PlatformError
from ..machine import facts as facts_mod
from ..platforms import presets, profiles
from . import Finding
from .fixes import Machine, render
from .rules import considered, scan


@dataclass
class Explanation:
    findings: list[Finding]
    considered: list[str] = field(default_factory=list)
    platform: str = ""
    profile: str | None = None
    notice: str | None = None

    @property
    def recognised(self) -> bool:
        return bool(self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "recognised": self.recognised,
            "platform": self.platform,
            "profile": self.profile,
            "notice": self.notice,
            "findings": [f.to_json() for f in self.findings],
            "considered": self.considered,
        }


def machine(platform: str | None = None) -> tuple[Machine, str | None]:
    """This machine (facts + profile), or a preset's with ``--platform``; plus a notice."""
    facts = presets.load(platform) if platform else facts_mod.gather()
    try:
        res = profiles.resolve(facts)
    except PlatformError as e:
        return Machine(facts, None), f"no profile for this platform, so package names cannot be given: {e.problem}"
    return Machine(facts, res.profile), res.notice


def explain(text: str, where: Machine, notice: str | None = None) -> Explanation:
    hits = scan(text)
    findings = [render(h, where, text) for h in hits]
    return Explanation(
        findings=findings,
        considered=[] if findings else considered(text),
        platform=where.facts.platform_key,
        profile=where.profile.name if where.profile else None,
        notice=notice,
    )


def text_report(e: Explanation, source: str = "") -> str:
    lines: list[str] = []
    head = f"explain{f' {source}' if source else ''}: platform {e.platform}" + (f", profile {e.profile}" if e.profile else "")
    lines.append(head)
    if e.notice:
        lines.append(f"  notice: {e.notice}")
    if not e.findings:
        lines.append("Not recognised: none of the known failure patterns matches this output.")
        if e.considered:
            lines.append("Lines considered:")
            lines += [f"  | {ln}" for ln in e.considered]
        else:
            lines.append("The input is empty.")
        lines.append("If this is a pip failure, run with -v (pip install -v ...) and explain that output; "
                     "./bootstrap doctor checks the machine itself.")
        return "\n".join(lines)
    for i, f in enumerate(e.findings, 1):
        title = f.category + (f" ({f.need})" if f.need else "")
        lines.append("")
        lines.append(f"{i}. {title}" + ("   <- root cause" if i == 1 and len(e.findings) > 1 else ""))
        lines.append(f"   {f.explanation}")
        if f.evidence:
            lines.append("   evidence:")
            lines += [f"     | {ln}" for ln in f.evidence]
        table = f.details.get("table")
        if table:
            lines.append("   the conflict:")
            lines += [f"     {row}" for row in table]
        if f.fix:
            lines.append("   fix:")
            lines += [f"     $ {x}" if _is_command(x) else f"     - {x}" for x in f.fix]
    return "\n".join(lines)


def _is_command(text: str) -> bool:
    first = text.split(" ", 1)[0]
    return first in ("sudo", "apt-get", "dnf", "zypper", "pacman", "apk", "brew", "winget", "python3", "python", "./bootstrap",
                     "xcode-select", "pipx", "rm")
