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
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.e2e import chroot as harness  # noqa: E402

KIT = "/opt/provision"
CA = "/usr/local/share/provision-e2e/host-ca.pem"


def fresh() -> harness.Chroot:
    return harness.kit_chroot(REPO, KIT, CA, apt_cache="apt-archives-bench")


def timed(c: harness.Chroot, argv: list[str]) -> float:
    start = time.perf_counter()
    res = c.run(argv, cwd=KIT, timeout=1800)
    took = time.perf_counter() - start
    if res.returncode != 0:
        raise SystemExit(f"{argv} failed ({res.returncode}):\n{res.stdout[-2000:]}{res.stderr[-3000:]}")
    return took


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
    med = statistics.median
    print(f"no-op re-runs ({args.noop_runs} each, alternating)...", flush=True)
    r = reruns(args.noop_runs)
    rows = [
        ("kit no-op re-run", med(r["kit"]), min(r["kit"]), max(r["kit"])),
        ("script re-run", med(r["script"]), min(r["script"]), max(r["script"])),
        ("bare probes", med(r["probes"]), min(r["probes"]), max(r["probes"])),
    ]
    ratios = [
        ("kit no-op / bare probes", med([k / p for k, p in zip(r["kit"], r["probes"])])),
        ("kit no-op / script re-run", med([k / s for k, s in zip(r["kit"], r["script"])])),
    ]
    if args.first_runs:
        print(f"first runs ({args.first_runs} fresh chroots per side, alternating)...", flush=True)
        kit, script = first_runs(args.first_runs)
        rows += [("kit first run", med(kit), min(kit), max(kit)), ("script first run", med(script), min(script), max(script))]
        ratios.append(("kit first run / script first run", med([k / s for k, s in zip(kit, script)])))
    print(f"\n{'measure':<34}{'median':>10}{'min':>10}{'max':>10}")
    for name, m, lo, hi in rows:
        print(f"{name:<34}{m:>9.3f}s{lo:>9.3f}s{hi:>9.3f}s")
    print()
    for name, ratio in ratios:
        print(f"{name:<34}{ratio:>9.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
