"""What each host reports: its recap, read from the JSON the remote ``./bootstrap --json``
prints, or why it failed; then the total over all hosts (the recap lines and ``--json``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..run.recap import RECAP_KEYS, counts_text


@dataclass
class HostResult:
    """One host's outcome, as the recap line and the ``--json`` document show it."""

    host: str
    status: str  # ok | changed | failed
    recap: dict[str, int] | None = None
    error: str | None = None
    duration: float = 0.0
    log: str | None = None
    remote_log: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The host's entry under ``hosts`` in ``--json`` (its label is the key)."""
        return {"status": self.status, "recap": self.recap, "error": self.error, "duration": round(self.duration, 3),
                "log": self.log, "remote_log": self.remote_log}

    def recap_line(self) -> str:
        """One line per host after the run: its counts, or why it failed."""
        if self.recap is None:
            return f"{self.host}: FAILED: {self.error}"
        counts = counts_text(self.recap)
        tail = f"  ({self.error})" if self.error else ""
        return f"{self.host}: recap: {counts}{tail}"


def status_of(recap: dict[str, int] | None, error: str | None) -> str:
    """ok / changed / failed: a host with no recap, an error or a failed step failed."""
    if error or recap is None or recap.get("failed", 0):
        return "failed"
    return "changed" if recap.get("changed", 0) else "ok"


def parse_bootstrap_json(stdout: str) -> dict[str, Any] | None:
    """The JSON document ``./bootstrap --json`` printed (the whole stdout, or its last object)."""
    text = stdout.strip()
    if not text:
        return None
    candidates = [text]
    starts = [m.start() for m in re.finditer(r"^\{", text, re.M)]
    candidates += [text[s:] for s in reversed(starts)]
    for c in candidates:
        try:
            data = json.loads(c)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None


def result_from_bootstrap(host: str, exited: int, stdout: str, stderr: str, duration: float) -> HostResult:
    """A host's result from its remote bootstrap: the recap from JSON, else why it failed."""
    data = parse_bootstrap_json(stdout)
    recap = None
    error = None
    remote_log = None
    if data is not None and isinstance(data.get("recap"), dict):
        recap = {k: int(data["recap"].get(k, 0)) for k in RECAP_KEYS}
        remote_log = data.get("log")
        if recap["failed"]:
            failed = [s for s in data.get("steps", []) if isinstance(s, dict) and s.get("status") == "failed"]
            if failed:
                first = failed[0]
                why = (first.get("error") or first.get("reason") or "").strip().splitlines()
                error = f"step {first.get('title') or first.get('name')} failed" + (f": {why[-1]}" if why else "")
            else:
                error = "a step failed"
        elif exited:
            error = f"bootstrap exited {exited}"
    else:
        error = f"bootstrap exited {exited} without a recap: {last_words(stderr or stdout)}"
    return HostResult(host, status_of(recap, error), recap, error, duration, remote_log=remote_log)


def last_words(output: str, limit: int = 300) -> str:
    """The last meaningful line of some output, for a one-line error."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    picked = [ln for ln in lines if ln.startswith(("bootstrap:", "provision:", "ERROR", "E: ")) or "rror" in ln]
    line = (picked or lines or ["(no output)"])[-1]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def aggregate(results: Sequence[HostResult], wall: float) -> dict[str, Any]:
    """The ``--json`` document: every host's result and the total."""
    summed = {k: sum((r.recap or {}).get(k, 0) for r in results) for k in RECAP_KEYS}
    failed = [r.host for r in results if r.status == "failed"]
    return {
        "hosts": {r.host: r.to_json() for r in results},
        "total": {
            "hosts": len(results),
            "succeeded": len(results) - len(failed),
            "failed": len(failed),
            "failed_hosts": failed,
            "recap": summed,
            "duration": round(wall, 3),
        },
    }


def total_line(results: Sequence[HostResult], wall: float) -> str:
    """The last line for people: the same numbers as the ``total`` of ``--json``."""
    doc = aggregate(results, wall)["total"]
    counts = counts_text(doc["recap"])
    failed = f" ({', '.join(doc['failed_hosts'])})" if doc["failed_hosts"] else ""
    return (f"total: {doc['hosts']} host{'s' if doc['hosts'] != 1 else ''}, {doc['succeeded']} succeeded, "
            f"{doc['failed']} failed{failed} in {wall:.0f}s; {counts}")


def failed_hosts(results: Iterable[HostResult]) -> list[str]:
    """The labels of the hosts that failed, in order: the task's exit message names them."""
    return [r.host for r in results if r.status == "failed"]
