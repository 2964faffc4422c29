"""What the chroot benchmarks share: timing one command in a chroot, and the results table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

from tests.e2e import chroot as harness

KIT = "/opt/provision"
CA = "/usr/local/share/provision-e2e/host-ca.pem"


def timed(c: harness.Chroot, argv: list[str], cwd: str = KIT) -> float:
    """Wall-clock seconds of one command inside the chroot; a failure stops the benchmark."""
    start = time.perf_counter()
    res = c.run(argv, cwd=cwd, timeout=1800)
    took = time.perf_counter() - start
    if res.returncode != 0:
        raise SystemExit(f"{argv} failed ({res.returncode}):\n{res.stdout[-2000:]}{res.stderr[-3000:]}")
    return took


def ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """The median of the pairwise ratios (runs alternate, so pairs share the machine's state)."""
    return statistics.median([x / y for x, y in zip(a, b)])


def print_table(rows: Sequence[tuple[str, Sequence[float]]], ratios: Sequence[tuple[str, float]], width: int = 34) -> None:
    print(f"\n{'measure':<{width}}{'median':>10}{'min':>10}{'max':>10}")
    for label, xs in rows:
        print(f"{label:<{width}}{statistics.median(xs):>9.3f}s{min(xs):>9.3f}s{max(xs):>9.3f}s")
    print()
    for label, r in ratios:
        print(f"{label:<{width}}{r:>9.2f}x")
