"""Side by side, in Debian 12 chroots: the kit vs a hand-written script, first run and re-run.

Run as root on a machine with debootstrap (the e2e harness builds and caches the root
file system):  python3 benchmarks/bench_bootstrap.py [--noop-runs 9] [--first-runs 3]

Prints medians and ratios measured in this one run: kit no-op / bare probes,
kit no-op / script re-run, kit first run / script first run. Commands alternate
(A B A B ...) so drift of the machine hits both sides alike. Timing is wall-clock
around the chroot'd process (time.perf_counter), the same overhead on every side.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.common import CA, KIT, print_table, ratio, timed  # noqa: E402
from tests.e2e import chroot as harness  # noqa: E402


def fresh() -> harness.Chroot:
    return harness.kit_chroot(REPO, KIT, CA, apt_cache="apt-archives-bench")


KIT_RUN = ["./bootstrap", "--ca-bundle", CA, "--yes"]
SCRIPT_RUN = ["sh", "benchmarks/handwritten.sh", CA]
PROBES = ["sh", "benchmarks/probes.sh"]


def first_runs(n: int) -> tuple[list[float], list[float]]:
    kit, script = [], []
    for i in range(n):
        order = [("kit", KIT_RUN), ("script", SCRIPT_RUN)] if i % 2 == 0 else [("script", SCRIPT_RUN), ("kit", KIT_RUN)]
        for name, argv in order:
            with fresh() as c:
                took = timed(c, argv)
            (kit if name == "kit" else script).append(took)
            print(f"  first run {i + 1}/{n} {name}: {took:.1f} s", flush=True)
    return kit, script


def reruns(n: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"kit": [], "script": [], "probes": []}
    with fresh() as c:
        timed(c, KIT_RUN)
        timed(c, SCRIPT_RUN)  # the script on top finds everything present: its re-run
        for _ in range(2):  # warm-up
            for argv in (KIT_RUN, SCRIPT_RUN, PROBES):
                timed(c, argv)
        for _ in range(n):
            out["kit"].append(timed(c, KIT_RUN))
            out["script"].append(timed(c, SCRIPT_RUN))
            out["probes"].append(timed(c, PROBES))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--noop-runs", type=int, default=9)
    ap.add_argument("--first-runs", type=int, default=3, help="fresh chroots per side (0 to skip)")
    args = ap.parse_args()
    if harness.skip_reason():
        raise SystemExit(f"cannot benchmark here: {harness.skip_reason()}")
    print(f"no-op re-runs ({args.noop_runs} each, alternating)...", flush=True)
    r = reruns(args.noop_runs)
    rows = [("kit no-op re-run", r["kit"]), ("script re-run", r["script"]), ("bare probes", r["probes"])]
    ratios = [("kit no-op / bare probes", ratio(r["kit"], r["probes"])), ("kit no-op / script re-run", ratio(r["kit"], r["script"]))]
    if args.first_runs:
        print(f"first runs ({args.first_runs} fresh chroots per side, alternating)...", flush=True)
        kit, script = first_runs(args.first_runs)
        rows += [("kit first run", kit), ("script first run", script)]
        ratios.append(("kit first run / script first run", ratio(kit, script)))
    print_table(rows, ratios)
    return 0


if __name__ == "__main__":
    sys.exit(main())
