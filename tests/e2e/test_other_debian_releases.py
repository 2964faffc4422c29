"""The same first run and no-op re-run on Debian 11 (Python 3.9, no pipx package) and 13.

Debian 12 has the full treatment in test_bootstrap_debian.py; these prove the runtime on
the oldest supported Python for real and the pipx-from-its-own-venv route of the profile's
``[release."11"]`` override.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from . import chroot as harness

REPO = Path(__file__).resolve().parents[2]
KIT = "/opt/provision"
CA = "/usr/local/share/provision-e2e/host-ca.pem"

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(harness.skip_reason() is not None, reason=str(harness.skip_reason()))]

RELEASES = [
    # suite, python minor, packages that must be installed afterwards
    ("bullseye", "3.9", ("build-essential", "python3-dev", "python3-venv")),
    ("trixie", "3.13", ("build-essential", "python3-dev", "python3-venv", "pipx")),
]


@pytest.mark.parametrize(("suite", "minor", "packages"), RELEASES, ids=[r[0] for r in RELEASES])
def test_first_run_then_no_op(suite, minor, packages):
    c = harness.kit_chroot(REPO, KIT, CA, suite=suite, apt_cache=f"apt-archives-{suite}")
    try:
        first = c.run(["./bootstrap", "--ca-bundle", CA, "--yes", "--json"], cwd=KIT, timeout=1500)
        assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-4000:]
        for pkg in packages:
            status = c.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", pkg]).stdout
            assert status.startswith("ii"), f"{pkg}: {status!r}"
        version = c.run([f"{KIT}/.venv/bin/python", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).stdout.strip()
        assert version == minor
        ruff = c.run(["bash", "-lic", "ruff --version"], cwd="/root")
        assert ruff.returncode == 0, ruff.stdout + ruff.stderr
        again = c.run(["./bootstrap", "--ca-bundle", CA, "--yes", "--json"], cwd=KIT, timeout=600)
        data = json.loads(again.stdout)
        assert data["recap"]["changed"] == 0 and data["recap"]["failed"] == 0, again.stderr[-3000:]
        state = json.loads(c.run(["/usr/bin/python3", "-I", f"{KIT}/tests/e2e/system_python_check.py", "/root"], check=True).stdout)
        assert state["unowned"] == [] and state["usr_local"] == [] and state["user_site"] == []
    finally:
        c.close()
