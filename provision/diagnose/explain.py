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
from ..redact import mask
from . import CATEGORIES, Finding
from . import index_lookup as idx
from .fixes import Machine, render
from .rules import Hit, LogFacts, Scanner
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
    index: str | None = None  # whether and what the package index was asked (credentials masked)

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
            "index": self.index,
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


def _explanation(scanner: Scanner, where: Machine, notice: str | None, index: idx.Index | None = None) -> Explanation:
    asked = consult(scanner, where, index)
    hits = scanner.result
    findings = [render(h, where, scanner.facts) for h in hits]
    return Explanation(
        findings=findings,
        considered=[] if findings else scanner.considered(),
        platform=where.facts.platform_key,
        profile=where.profile.name if where.profile else None,
        notice=notice,
        lines=scanner.facts.lines,
        index=asked,
    )


def explain(text: str | Iterable[str], where: Machine, notice: str | None = None, build_needs_file: Path | None = None,
            index: idx.Index | None = None) -> Explanation:
    """Findings for a log already read (a string, or lines), rendered for ``where``; ``index``:
    the package index to ask when the log cannot tell (None: the log alone)."""
    return _explanation(scan(text_lines(text), build_needs_file), where, notice, index)


# -------------------------------------------------------------------------- asking the index


def log_python(log: LogFacts) -> str | None:
    """The Python the log shows pip running under: pip's skip line or version line, else the one minor the log names."""
    if log.python_running or log.pip_python:
        return log.python_running or log.pip_python
    minors = set(log.explicit_minors) | ({log.header_minor} if log.header_minor else set())
    return next(iter(minors)) if len(minors) == 1 else None


def _target(log: LogFacts, where: Machine) -> tuple[str | None, str, frozenset[Any] | None, str]:
    """(Python version, whose it is, the wheel tags it takes or None, the tag label) the index's files are judged for."""
    from ..project import predict

    default = where.facts.default_python
    python, whose = log_python(log), "the log's"
    if python is None and default is not None:
        python = default.version
        whose = f"{where.facts.platform_key}'s default" if where.facts.preset else "this machine's python3"
    if python is None or default is None or default.tags is None:
        return python, whose, None, ""
    nodot = "".join(python.split(".")[:2])
    t = default.tags if default.tags.nodot == nodot else default.tags._replace(nodot=nodot, abi=f"cp{nodot}")
    return python, whose, frozenset(predict.supported_tags(t)), predict.label(t)


def consult(scanner: Scanner, where: Machine, index: idx.Index | None) -> str | None:
    """Ask ``index`` about the requirement nothing matched, and refine that finding with the
    answer; the line the report shows about the lookup, or None when nothing was asked."""
    nomatch = next((h for h in scanner.result if h.category == "no-matching-distribution"), None)
    requirement = (nomatch.subject or scanner.facts.requested) if nomatch else None
    if index is None or nomatch is None or not requirement:
        return None
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        name = Requirement(requirement).name
    except InvalidRequirement:
        return None
    log = scanner.facts
    python, whose, tags, label = _target(log, where)
    try:
        project = idx.ask(index, name)
    except idx.Unavailable as e:
        return f"the package index could not be asked about {name} ({e}); the finding is what the log alone says"
    verdict = idx.judge(requirement, project, python, tags, label)
    if verdict is None:
        return None
    nomatch.index = {"index": index.shown, "kind": verdict.kind, "says": verdict.says, "python": python or "", "python_from": whose,
                     "platform": label, "version": verdict.version, "requires_python": verdict.requires_python,
                     "nearest": list(verdict.nearest), "newest_for_python": verdict.newest_for_python}
    if verdict.kind == "requires-python":
        log.requires_python = log.requires_python or f"{verdict.version} Requires-Python {verdict.requires_python} (the index says)"
        moved = Hit("python-version-mismatch", None, "index-requires-python", list(nomatch.lines), subject=requirement, index=nomatch.index)
        hits = [moved if h is nomatch else h for h in scanner.result]
        order = {c: i for i, c in enumerate(CATEGORIES)}
        hits.sort(key=lambda h: (order.get(h.category, 99), h.lines[0][0] if h.lines else 0))
        scanner.result = hits
    return f"asked the package index {index.shown} about {name} (Python {python or 'unknown'}, {whose}); --offline skips this"


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


def explain_stream(stream: IO[str], platform: str | None = AUTO, build_needs_file: Path | None = None,
                   index: idx.Index | None = None) -> Explanation:
    """Findings for a log read as a stream; the target platform from ``platform`` (auto:
    the log's own, else this machine); ``index`` is asked when the log cannot tell."""
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
    return _explanation(scanner, where, notice, index)


def explain_file(path: str, platform: str | None = AUTO, build_needs_file: Path | None = None,
                 index: idx.Index | None = None) -> Explanation:
    """``explain`` on a file, or on standard input for '-'; unreadable input is a user error."""
    if path == "-":
        stdin = sys.stdin
        if stdin is None or stdin.closed:
            raise ProvisionError("standard input is closed: there is no log to read.",
                                 "Pipe pip's output in (pip install ... 2>&1 | ./bootstrap explain -) or give a file.")
        if hasattr(stdin, "reconfigure"):
            stdin.reconfigure(errors="replace")  # a log is not always valid UTF-8
        try:
            return explain_stream(stdin, platform, build_needs_file, index)
        except (OSError, ValueError) as e:
            raise ProvisionError(f"cannot read standard input: {e}.",
                                 "Pipe pip's output in (pip install ... 2>&1 | ./bootstrap explain -) or give a file.") from e
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            return explain_stream(f, platform, build_needs_file, index)
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
    if e.index:
        lines.append(f"  index: {mask(e.index)}")
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
