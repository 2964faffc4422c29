"""The recap's words, in one place: ``recap: ok=N changed=N failed=N skipped=N``.

Written by the runner; read back by what drives ``./bootstrap`` elsewhere (Vagrant
boxes, many hosts over SSH), so it imports nothing of the kit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

RECAP_KEYS = ("ok", "changed", "failed", "skipped")
_LINE = r"(?m)^recap: " + " ".join(rf"{k}=(\d+)" for k in RECAP_KEYS) + r"\s*$"  # compiled on first use


def counts_text(counts: Mapping[str, int]) -> str:
    """``ok=N changed=N failed=N skipped=N`` (a missing key counts 0)."""
    return " ".join(f"{k}={counts.get(k, 0)}" for k in RECAP_KEYS)


def recap_line(counts: Mapping[str, int]) -> str:
    return f"recap: {counts_text(counts)}"


def parse_recap(output: str) -> dict[str, int] | None:
    """The counts of the last recap line in a run's output; None when there is none."""
    found = re.findall(_LINE, output.replace("\r", ""))
    return dict(zip(RECAP_KEYS, map(int, found[-1]))) if found else None
