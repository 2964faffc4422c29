"""Side by side, in Debian 12 chroots: the kit on a project vs the hand-written equivalent.

Two projects from ``tests/fixtures/projects`` (issue #12), neither with a ``[tool.provision]``:
``uv`` (a uv.lock: the kit installs uv with pipx and runs ``uv sync --frozen``; the script
does the same by hand, ``benchmarks/handwritten_uv.sh``) and ``requirements`` (a
requirements file: a venv and one pip install, ``benchmarks/handwritten_requirements.sh``).
Both sides install the same apt packages.

Run as root on a machine with debootstrap (the e2e harness builds and caches the root
file system):  python3 benchmarks/bench_projects.py [--noop-runs 7] [--first-runs 2]

Prints medians and ratios: kit first run / script first run, kit no-op / script re-run,
kit no-op / bare probes (``benchmarks/probes_project.sh``). Commands alternate
(A B A B ...) so drift of the machine hits both sides alike; timing is wall-clock around the
chroot'd process, the same overhead on every side.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.common import CA, KIT, print_table, ratio, timed  # noqa: E402
from tests.e2e import chroot as harness  # noqa: E402
from tests.fixtures.projects import materialize  # noqa: E402

SCENARIOS = {
    "uv": ("uv", "benchmarks/handwritten_uv.sh", "uv"),
    "requirements": ("requirements", "benchmarks/handwritten_requirements.sh", ""),
}


def fresh(fixture: str) -> harness.Chroot:
    c = harness.kit_chroot(REPO, KIT, CA, apt_cache="apt-archives-bench-projects")
    dest = c.path(f"/srv/{fixture}")
    materialize(fixture, dest)
    lock = dest / "uv.lock"
    if lock.exists():  # the date the lock was made with belongs in the project (see tests/e2e/test_projects_debian.py)
        m = re.search(r'^exclude-newer = "([^"]+)"', lock.read_text(), re.M)
        py = dest / "pyproject.toml"
        if m:
            py.write_text(py.read_text().replace("[tool.uv]\n", f'[tool.uv]\nexclude-newer = "{m.group(1)}"\n'))
    return c


def commands(name: str) -> tuple[list[str], list[str], list[str], str]:
    fixture, script, tool = SCENARIOS[name]
    project = f"/srv/{fixture}"
    kit = ["./bootstrap", "--ca-bundle", CA, "--yes", "--project", project]
    hand = ["sh", f"{KIT}/{script}", CA, project]
    probes = ["sh", f"{KIT}/benchmarks/probes_project.sh", tool]
    return kit, hand, probes, project


def first_runs(name: str, n: int) -> tuple[list[float], list[float]]:
    kit_argv, hand_argv, _, _ = commands(name)
    fixture = SCENARIOS[name][0]
    kit, script = [], []
    for i in range(n):
        order = [("kit", kit_argv), ("script", hand_argv)] if i % 2 == 0 else [("script", hand_argv), ("kit", kit_argv)]
        for side, argv in order:
            with fresh(fixture) as c:
                took = timed(c, argv)
            (kit if side == "kit" else script).append(took)
            print(f"  {name} first run {i + 1}/{n} {side}: {took:.1f} s", flush=True)
    return kit, script


def reruns(name: str, n: int) -> dict[str, list[float]]:
    kit_argv, hand_argv, probes, project = commands(name)
    out: dict[str, list[float]] = {"kit": [], "script": [], "probes": []}
    with fresh(SCENARIOS[name][0]) as c:
        timed(c, kit_argv)
        timed(c, hand_argv)  # on top of the kit's run: the script's re-run
        for _ in range(2):  # warm-up
            timed(c, kit_argv), timed(c, hand_argv), timed(c, probes, cwd=project)
        for _ in range(n):
            out["kit"].append(timed(c, kit_argv))
            out["script"].append(timed(c, hand_argv))
            out["probes"].append(timed(c, probes, cwd=project))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--noop-runs", type=int, default=7)
    ap.add_argument("--first-runs", type=int, default=2, help="fresh chroots per side and project (0 to skip)")
    ap.add_argument("--only", choices=sorted(SCENARIOS), help="one project only")
    args = ap.parse_args()
    if harness.skip_reason():
        raise SystemExit(f"cannot benchmark here: {harness.skip_reason()}")
    rows, ratios = [], []
    for name in [args.only] if args.only else list(SCENARIOS):
        print(f"{name}: no-op re-runs ({args.noop_runs} each, alternating)...", flush=True)
        r = reruns(name, args.noop_runs)
        rows += [(f"{name}: kit no-op re-run", r["kit"]), (f"{name}: script re-run", r["script"]),
                 (f"{name}: bare probes", r["probes"])]
        ratios += [(f"{name}: kit no-op / bare probes", ratio(r["kit"], r["probes"])),
                   (f"{name}: kit no-op / script re-run", ratio(r["kit"], r["script"]))]
        if args.first_runs:
            print(f"{name}: first runs ({args.first_runs} fresh chroots per side, alternating)...", flush=True)
            kit, script = first_runs(name, args.first_runs)
            rows += [(f"{name}: kit first run", kit), (f"{name}: script first run", script)]
            ratios.append((f"{name}: kit first run / script first run", ratio(kit, script)))
    print_table(rows, ratios, width=44)
    return 0


if __name__ == "__main__":
    sys.exit(main())
