"""End to end, issue 14: nothing lost, nothing leaked, nothing crashes — on a bare Debian 12 in a chroot.

In order, on one chroot: stage 0 refuses a CA file holding a private key before anything
runs; two stage 0 runs at once on the bare machine take turns (one waits for the other's
lock, apt waits for dpkg's); a damaged .tools is rebuilt; venv settings that once made the
kit delete directories it did not build are refused with nothing touched; a venv made by
hand is kept as a named backup; a kit venv with its pyvenv.cfg gone is rebuilt; a second
CA with the same file name joins the trust store beside the first; logs are private.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from . import chroot as harness

REPO = Path(__file__).resolve().parents[2]
KIT = "/opt/provision"
CA = "/usr/local/share/provision-e2e/host-ca.pem"
ANCHORS = "/usr/local/share/ca-certificates"
KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(harness.skip_reason() is not None, reason=str(harness.skip_reason()))]


@pytest.fixture(scope="module")
def h():
    c = harness.kit_chroot(REPO, KIT, CA, apt_cache="apt-harden-bookworm")
    try:
        yield c
    finally:
        c.close()


def bootstrap(c: harness.Chroot, *args: str, timeout: float = 1500) -> subprocess.CompletedProcess[str]:
    return c.run(["./bootstrap", *args], cwd=KIT, timeout=timeout)


def dpkg_lines(c: harness.Chroot) -> int:
    p = c.path("/var/log/dpkg.log")
    return len(p.read_text().splitlines()) if p.exists() else 0


def tree(c: harness.Chroot, *dirs: str) -> list[tuple[str, str]]:
    out = []
    for d in dirs:
        root = c.path(d)
        for p in sorted([root, *root.rglob("*")]):
            kind = "link:" + str(p.readlink()) if p.is_symlink() else ("dir" if p.is_dir() else p.read_text(errors="replace"))
            out.append((str(p.relative_to(c.root)), kind))
    return out


def provision_anchors(c: harness.Chroot) -> list[str]:
    d = c.path(ANCHORS)
    return sorted(p.name for p in d.iterdir() if p.name.startswith("provision-")) if d.exists() else []


def test_stage0_refuses_a_ca_file_with_a_private_key(h):
    h.write("/tmp/keyca.pem", h.read(CA) + KEY)
    dpkg = dpkg_lines(h)
    res = bootstrap(h, "--ca-bundle", "/tmp/keyca.pem", "--yes")
    assert res.returncode == 2, res.stderr
    assert "other than certificates" in res.stderr and "MIIEvQ" not in res.stdout + res.stderr
    assert not h.path(f"{KIT}/.tools").exists() and dpkg_lines(h) == dpkg and provision_anchors(h) == []


def test_two_stage0_runs_at_once_on_a_bare_machine_take_turns(h):
    env = {"PIP_CERT": CA}
    procs = [h.popen(["./bootstrap", "facts"], cwd=KIT, env=env, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=1200) for p in procs]
    errs = [e for _, e in outs]
    assert [p.returncode for p in procs] == [0, 0], errs
    assert sum(e.count("creating the kit's tool environment") for e in errs) == 1, errs
    assert any("another run" in e and "waiting" in e for e in errs), errs
    assert not any("Could not get lock" in e for e in errs)


def test_damaged_tools_are_rebuilt(h):
    [site] = list(h.path(f"{KIT}/.tools/lib").glob("python3*/site-packages"))
    subprocess.run(["rm", "-rf", str(site / "invoke")], check=True)
    res = h.run(["./bootstrap", "facts"], cwd=KIT, env={"PIP_CERT": CA}, timeout=600)
    assert res.returncode == 0 and "creating the kit's tool environment" in res.stderr, res.stderr[-2000:]
    again = h.run(["./bootstrap", "facts"], cwd=KIT, timeout=600)
    assert again.returncode == 0 and "creating" not in again.stderr


def make_project(h: harness.Chroot, toml: str) -> None:
    h.run(["rm", "-rf", "/proj", "/data"], check=True)
    h.write("/proj/src/main.py", "print('mine')\n")
    h.write("/data/precious", "keep me\n")
    h.write("/proj/provision.toml", toml)


@pytest.mark.parametrize(
    ("toml", "link", "fragment"),
    [
        ('venv = "src"\n', False, "is not a venv"),
        ('venv = "../data"\n', False, "is not inside the project"),
        ('venv = "/data"\n', False, "is not inside the project"),
        ('venv = "/usr"\n', False, "is not inside the project"),
        ("", True, "goes through a symlink"),
    ],
)
def test_venv_settings_that_would_lose_data_are_refused(h, toml, link, fragment):
    make_project(h, toml)
    if link:
        h.run(["ln", "-s", "/data", "/proj/.venv"], check=True)
    before, dpkg = tree(h, "/proj", "/data"), dpkg_lines(h)
    res = bootstrap(h, "--project", "/proj", "--ca-bundle", CA, "--yes")
    assert res.returncode == 2, res.stdout[-2000:] + res.stderr[-2000:]
    assert fragment in res.stderr and "Traceback" not in res.stderr
    assert tree(h, "/proj", "/data") == before and dpkg_lines(h) == dpkg


def test_a_venv_made_by_hand_is_kept_as_a_named_backup(h):
    make_project(h, "")
    h.run(["python3", "-m", "venv", "--without-pip", "/proj/.venv"], check=True)
    h.write("/proj/.venv/handmade", "mine\n")
    dry = bootstrap(h, "--project", "/proj", "--ca-bundle", CA, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr[-2000:]
    planned = next(s for s in json.loads(dry.stdout)["steps"] if s["name"] == "project-venv")["commands"][-1]["argv"]
    res = bootstrap(h, "--project", "/proj", "--ca-bundle", CA, "--yes", "--json")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-4000:]
    step = next(s for s in json.loads(res.stdout)["steps"] if s["name"] == "project-venv")
    backups = sorted(h.path("/").glob("proj/.venv.backup-*"))
    assert len(backups) == 1 and (backups[0] / "handmade").read_text() == "mine\n"
    assert planned[-2:] == ["--backup", f"/proj/{backups[0].name}"], "the dry run showed the very name the run used"
    assert step["status"] == "changed" and backups[0].name in step["reason"] and "kept" in step["reason"]
    assert h.path("/proj/.venv/.provision-stamp.json").is_file() and not h.path("/proj/.venv/handmade").exists()
    assert h.path("/data/precious").read_text() == "keep me\n"


def test_a_broken_kit_venv_is_rebuilt_not_reported_up_to_date(h):
    h.path("/proj/.venv/pyvenv.cfg").unlink()
    res = bootstrap(h, "--project", "/proj", "--ca-bundle", CA, "--yes", "--json")
    assert res.returncode == 0, res.stderr[-3000:]
    step = next(s for s in json.loads(res.stdout)["steps"] if s["name"] == "project-venv")
    assert step["status"] == "changed" and "pyvenv.cfg is gone" in step["reason"]
    prefix = h.run(["/proj/.venv/bin/python", "-c", "import sys; print(sys.prefix)"], check=True).stdout.strip()
    assert prefix == "/proj/.venv"
    assert len(list(h.path("/").glob("proj/.venv.backup-*"))) == 1, "the kit's own venv is replaced, not backed up"
    again = bootstrap(h, "--project", "/proj", "--ca-bundle", CA, "--yes", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["recap"]["changed"] == 0


def test_a_second_ca_with_the_same_file_name_joins_the_first(h):
    first = provision_anchors(h)
    assert len(first) == 1 and first[0].startswith("provision-host-ca-")
    h.run(["mkdir", "-p", "/tmp/other"], check=True)
    h.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "/tmp/other.key", "-out",
           "/tmp/other/host-ca.pem", "-days", "2", "-subj", "/CN=provision e2e other CA"], check=True)
    res = bootstrap(h, "--project", "/proj", "--ca-bundle", "/tmp/other/host-ca.pem", "--yes", "--json")
    # the venv is rebuilt (its CA input changed) through the network: the first CA must still be trusted
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-4000:]
    assert "CERTIFICATE_VERIFY_FAILED" not in res.stdout + res.stderr
    now = provision_anchors(h)
    assert len(now) == 2 and first[0] in now, now
    bundle = h.read("/etc/ssl/certs/ca-certificates.crt")
    for name in now:
        body = h.read(f"{ANCHORS}/{name}").strip().splitlines()[1]
        assert body in bundle, f"{name} is in the system bundle"


def test_logs_are_private(h):
    d = h.path("/root/.local/state/provision/log")
    assert d.stat().st_mode & 0o777 == 0o700
    logs = list(d.glob("*.log"))
    assert logs and all(p.stat().st_mode & 0o777 == 0o600 for p in logs)
