"""#13: what the prediction of native needs costs, and what it saves.

In fresh Debian chroots (the e2e harness; the host's CA goes in with --ca-bundle), for the
fixture project tests/fixtures/native/source-builds (source builds of psycopg2, pycurl,
python-ldap, mysqlclient, pycairo):

1. probe      the prediction alone on a first run (resolver probe, uncached), inside the
              chroot after the kit's first run has made the machine ready;
2. no-op      a second ./bootstrap (the venv stamp skips the prediction entirely);
3. predicted  a first run with the prediction: one run, failed=0;
4. today      the same first run without it (PROVISION_PREDICT=0): the run fails at the
              first source build, the user installs the fix the failure names, runs
              again — until it passes. Wall time of the whole sequence, and how many runs.

Medians over --trials fresh chroots (default 1: each trial builds the five extensions
twice). Run as root on a machine with debootstrap:

    .venv/bin/python benchmarks/bench_predict.py --suite bookworm --trials 3
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shlex
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e import chroot as harness  # noqa: E402

KIT = "/opt/provision"
CA = "/usr/local/share/provision-e2e/host-ca.pem"
PROJECT = f"{KIT}/tests/fixtures/native/source-builds"
MAX_ROUNDS = 8


@contextlib.contextmanager
def fresh(suite: str) -> Iterator[harness.Chroot]:
    """A bare chroot with the kit copied in (kit_chroot opens it already; closed here)."""
    c = harness.kit_chroot(REPO, KIT, CA, suite=suite, apt_cache=f"apt-bench-predict-{suite}")
    try:
        yield c
    finally:
        c.close()


def bootstrap(c: harness.Chroot, *extra: str, env: str = "") -> tuple[dict, float]:
    argv = ["./bootstrap", "--ca-bundle", CA, "--yes", "--json", "--project", PROJECT, *extra]
    if env:
        argv = ["env", env, *argv]
    started = time.monotonic()
    res = c.run(argv, cwd=KIT, timeout=3000)
    took = time.monotonic() - started
    try:
        return json.loads(res.stdout), took
    except ValueError:
        raise SystemExit(f"./bootstrap printed no JSON (exit {res.returncode}):\n{res.stderr[-3000:]}") from None


def probe_seconds(c: harness.Chroot) -> float:
    """The prediction alone, uncached, through the kit's own function, in the chroot."""
    code = ("import time, sys; sys.path.insert(0, '.');"
            "from provision.session import prepare; from provision.project import predict_env, predict_probe;"
            "import shutil; shutil.rmtree(predict_probe.cache_dir(), ignore_errors=True);"
            f"env = prepare(None, project={PROJECT!r}, ca_bundle={CA!r}, predict=False).env;"
            "t = time.monotonic(); p = predict_env.for_env(env, force=True);"
            "print(time.monotonic() - t, len(p.from_source), p.error)")
    res = c.run([f"{KIT}/.tools/bin/python", "-c", code], cwd=KIT, timeout=1200)
    if res.returncode != 0:
        raise SystemExit(res.stderr[-2000:])
    seconds, built, *err = res.stdout.split(maxsplit=2)
    if int(built) == 0:
        raise SystemExit(f"the probe predicted no source build: {' '.join(err)}")
    return float(seconds)


def fix_command(data: dict) -> list[str] | None:
    """The package-manager command the failure block names (what a user would copy)."""
    for step in data["steps"]:
        if step["status"] == "failed":
            m = re.search(r"fix: (?:sudo )?(apt-get install [^\n;]+)", step.get("error") or "")
            if m:
                words = shlex.split(m.group(1))
                return [*words[:2], "-y", "--no-install-recommends", *words[2:]]
    return None


def today(c: harness.Chroot) -> tuple[float, int]:
    total, rounds = 0.0, 0
    for _ in range(MAX_ROUNDS):
        data, took = bootstrap(c, env="PROVISION_PREDICT=0")
        total, rounds = total + took, rounds + 1
        if not data["recap"]["failed"]:
            return total, rounds
        fix = fix_command(data)
        if fix is None:
            raise SystemExit("the failure names no package to install:\n" + json.dumps(data["steps"], indent=1)[-3000:])
        started = time.monotonic()
        c.run(["env", "DEBIAN_FRONTEND=noninteractive", *fix], check=True, timeout=1200)
        total += time.monotonic() - started
    raise SystemExit(f"still failing after {MAX_ROUNDS} rounds")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="bookworm")
    ap.add_argument("--trials", type=int, default=1)
    ap.add_argument("--noop", type=int, default=5, help="no-op re-runs to time")
    args = ap.parse_args()
    if harness.skip_reason():
        raise SystemExit(harness.skip_reason())
    rows: dict[str, list[float]] = {"probe": [], "predicted": [], "noop": [], "today": [], "today_rounds": []}
    for trial in range(args.trials):
        with fresh(args.suite) as c:
            data, took = bootstrap(c)
            assert data["recap"]["failed"] == 0, data["recap"]
            rows["predicted"].append(took)
            rows["probe"].append(probe_seconds(c))
            for _ in range(args.noop):
                data, took = bootstrap(c)
                assert data["recap"]["changed"] == 0
                rows["noop"].append(took)
        with fresh(args.suite) as c:
            took, rounds = today(c)
            rows["today"].append(took)
            rows["today_rounds"].append(rounds)
        print(f"trial {trial + 1}: " + ", ".join(f"{k}={v[-1]:.1f}" for k, v in rows.items()), flush=True)
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"\n{args.suite}, {args.trials} trial(s), medians (seconds):")
    print(f"  prediction probe, first run (uncached)     {med['probe']:8.1f}")
    print(f"  no-op re-run (prediction skipped)          {med['noop']:8.2f}")
    print(f"  first run with prediction (1 run)          {med['predicted']:8.1f}")
    print(f"  today: failed-then-fixed ({med['today_rounds']:.0f} runs)          {med['today']:8.1f}")
    print(f"  probe / first run with prediction          {med['probe'] / med['predicted']:8.2f}")
    print(f"  first run with prediction / today          {med['predicted'] / med['today']:8.2f}")


if __name__ == "__main__":
    main()
