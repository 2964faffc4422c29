"""``./bootstrap explain FILE``: pip's (or venv's, or a compiler's) output in, findings out.

The log is streamed (``text.lines``): memory stays bounded and time linear whatever its
size. ``--platform auto`` (the default) renders the fix for the platform the log shows
(Windows paths, ``/opt/homebrew``, ``musl``, ``.fc40`` …) through that platform's preset
and profile, and says so; a log that shows none gets this machine's. ``--platform
ID:VERSION`` forces one.

Exit codes (``provision.cli.diagnose.explain``): 0 when at least one cause was recognised, 1 when
nothing was (the lines considered are shown), 2 for bad input (unreadable file, closed
stdin, unknown ``--platform``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import PlatformError, ProvisionError
from ..machine import facts as facts_mod
from ..platforms import presets, profiles
from . import Finding
from .fixes import Machine, render
from .rules import LogFacts, Scanner
from .text import lines as stream_lines
from .text import safe, text_lines

AUTO = "auto"


@dataclass
class Explanation:
    findings: list[Finding]
    considered: list[str] = field(default_factory=list)
    platform: str = ""
    profile: str | None = None
    notice: str | None = None
    lines: int = 0

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
            "lines": self.lines,
        }


def machine(platform: str | None = None) -> tuple[Machine, str | None]:
    """This machine (facts + profile), or a preset's with ``--platform``; plus a notice."""
    facts = presets.load(platform) if platform and platform != AUTO else facts_mod.gather()
    try:
        res = profiles.resolve(facts)
    except PlatformError as e:
        return Machine(facts, None), f"no profile for this platform, so package names cannot be given: {e.problem}"
    return Machine(facts, res.profile), res.notice


def scan(lines: Iterable[str], build_needs_file: Path | None = None) -> Scanner:
    """Stream lines through a scanner; its hits are in ``scanner.result``."""
    scanner = Scanner()
    for line in lines:
        scanner.feed(line)
    scanner.result = scanner.finish(build_needs_file)
    return scanner


def _explanation(scanner: Scanner, where: Machine, notice: str | None) -> Explanation:
    hits = scanner.result
    findings = [render(h, where, scanner.facts) for h in hits]
    return Explanation(
        findings=findings,
        considered=[] if findings else scanner.considered(),
        platform=where.facts.platform_key,
        profile=where.profile.name if where.profile else None,
        notice=notice,
        lines=scanner.facts.lines,
    )


def explain(text: str | Iterable[str], where: Machine, notice: str | None = None, build_needs_file: Path | None = None) -> Explanation:
    """Findings for a log already read (a string, or lines), rendered for ``where``."""
    return _explanation(scan(text_lines(text), build_needs_file), where, notice)


def log_platform(log: LogFacts) -> tuple[str, str] | None:
    """(preset key, the line that shows it) for the platform a log comes from, if it shows one."""
    found = log.platform
    if not found:
        return None
    platform, line = found
    try:
        d = presets.find(platform)
    except PlatformError:
        return None
    from .. import toml

    return toml.load(d / "preset.toml")["key"], line


def explain_stream(stream: IO[str], platform: str | None = AUTO, build_needs_file: Path | None = None) -> Explanation:
    """Findings for a log read as a stream; the target platform from ``platform`` (auto:
    the log's own, else this machine)."""
    forced = machine(platform) if platform and platform != AUTO else None  # a bad --platform fails before the read
    scanner = scan(stream_lines(stream), build_needs_file)
    notice = None
    if forced:
        where, notice = forced
    else:
        shown = log_platform(scanner.facts)
        if shown:
            key, line = shown
            where, extra = machine(key)
            notice = f"the log comes from {key.split(':')[0]} ({line[:120]}): fixes are for {key}; --platform ID:VERSION picks another"
            notice += f"; {extra}" if extra else ""
        else:
            where, notice = machine(None)
    return _explanation(scanner, where, notice)


def explain_file(path: str, platform: str | None = AUTO, build_needs_file: Path | None = None) -> Explanation:
    """``explain`` on a file, or on standard input for '-'; unreadable input is a user error."""
    if path == "-":
        stdin = sys.stdin
        if stdin is None or stdin.closed:
            raise ProvisionError("standard input is closed: there is no log to read.",
                                 "Pipe pip's output in (pip install ... 2>&1 | ./bootstrap explain -) or give a file.")
        if hasattr(stdin, "reconfigure"):
            stdin.reconfigure(errors="replace")  # a log is not always valid UTF-8
        try:
            return explain_stream(stdin, platform, build_needs_file)
        except (OSError, ValueError) as e:
            raise ProvisionError(f"cannot read standard input: {e}.",
                                 "Pipe pip's output in (pip install ... 2>&1 | ./bootstrap explain -) or give a file.") from e
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            return explain_stream(f, platform, build_needs_file)
    except OSError as e:
        raise ProvisionError(f"cannot read {path}: {e.strerror}.",
                             "Give the file pip's output was saved to (pip install ... 2>&1 | tee pip.log), or '-' for stdin.") from e


def text_report(e: Explanation, source: str = "") -> str:
    """The human report; everything from the log is neutralised (``text.safe``)."""
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
        return safe("\n".join(lines))
    for i, f in enumerate(e.findings, 1):
        needs = f.details.get("needs") or ([f.need] if f.need else [])
        title = f.category + (f" ({', '.join(needs)})" if needs else "") + (" — likely" if f.details.get("likely") else "")
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
            lines += [f"     $ {x}" if x in f.commands else f"     - {x}" for x in f.fix]
    return safe("\n".join(lines))
