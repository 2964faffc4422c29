"""The kit as a package: `pip wheel .`, then `pipx install` of that wheel in a fresh Debian 12 root.

The wheel must carry the profiles and presets (they live in the repository's top-level
`profiles/` and are mapped into the package), so the installed `provision` command
plans for another platform with no checkout anywhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import chroot as harness

REPO = Path(__file__).resolve().parents[2]
KIT = "/opt/provision"
CA = "/usr/local/share/provision-e2e/host-ca.pem"

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(harness.skip_reason() is not None, reason=str(harness.skip_reason()))]


def test_wheel_installed_with_pipx_plans_for_fedora():
    c = harness.kit_chroot(REPO, KIT, CA, apt_cache="apt-archives-wheel")
    try:
        env = {"PIP_CERT": CA, "DEBIAN_FRONTEND": "noninteractive"}
        c.run(["apt-get", "update", "-q"], env=env, check=True, timeout=600)
        c.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "pipx", "python3-venv"], env=env, check=True, timeout=900)
        c.run(["python3", "-m", "venv", "/tmp/build"], check=True)
        c.run(["/tmp/build/bin/pip", "wheel", "--no-deps", "-q", "-w", "/tmp/wheels", KIT], env=env, check=True, timeout=600)
        wheels = sorted(p.name for p in c.path("/tmp/wheels").iterdir())
        assert len(wheels) == 1 and wheels[0].startswith("provision-") and wheels[0].endswith(".whl"), wheels
        c.run(["pipx", "install", f"/tmp/wheels/{wheels[0]}"], env=env, check=True, timeout=600, cwd="/root")
        provision = "/root/.local/bin/provision"
        # from a directory with no checkout in sight: everything comes from the wheel
        plan = c.run([provision, "bootstrap", "--dry-run", "--platform", "fedora:40"], cwd="/tmp", timeout=120)
        assert plan.returncode == 0, plan.stdout[-2000:] + plan.stderr[-2000:]
        assert "profile fedora" in plan.stdout
        assert "dnf install -y" in plan.stdout and "python3-devel" in plan.stdout
        assert "recap:" in plan.stdout and "failed=0" in plan.stdout
        listed = c.run([provision, "--list"], cwd="/tmp", check=True).stdout
        for task in ("bootstrap", "doctor", "explain", "install", "facts"):
            assert f"  {task}" in listed, listed
        version = c.run([provision, "--version"], cwd="/tmp", check=True).stdout
        assert version.startswith("provision ")
    finally:
        c.close()
