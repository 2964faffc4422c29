"""End to end, for real: ./bootstrap on a bare Debian 12 (minbase + python3) in a chroot.

The host's CA bundle goes in through the kit's own --ca-bundle (this machine's network
re-signs TLS, the corporate-proxy case). Tests in this module run in order and share
two chroots: A (the main flow) and B (the failure paths: no sudo, interrupts).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from . import chroot as harness

REPO = Path(__file__).resolve().parents[2]
KIT = "/opt/provision"
CA = "/usr/local/share/provision-e2e/host-ca.pem"
PACKAGES = ("build-essential", "python3-dev", "python3-venv", "pipx", "ca-certificates")

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(harness.skip_reason() is not None, reason=str(harness.skip_reason()))]


def open_chroot() -> harness.Chroot:
    return harness.kit_chroot(REPO, KIT, CA)


def bootstrap(c: harness.Chroot, *args: str, user: str | None = None, cwd: str = KIT, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    return c.run(["./bootstrap", *args], user=user, cwd=cwd, timeout=timeout)


def recap_of(stdout: str) -> dict:
    return json.loads(stdout)


def system_python_state(c: harness.Chroot, *homes: str) -> dict:
    res = c.run(["/usr/bin/python3", "-I", f"{KIT}/tests/e2e/system_python_check.py", *homes], check=True)
    return json.loads(res.stdout)


def dpkg_log_lines(c: harness.Chroot) -> int:
    p = c.path("/var/log/dpkg.log")
    return len(p.read_text().splitlines()) if p.exists() else 0


def installed(c: harness.Chroot, pkg: str) -> bool:
    res = c.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", pkg])
    return res.returncode == 0 and res.stdout.startswith("ii")


def chroot_for_module():
    c = open_chroot()
    try:
        yield c
    finally:
        c.close()


a = pytest.fixture(scope="module", name="a")(chroot_for_module)  # the main flow
b = pytest.fixture(scope="module", name="b")(chroot_for_module)  # the failure paths


@pytest.fixture(scope="module")
def before(a):
    """The system interpreter's state on the bare system, before the kit ran."""
    state = system_python_state(a, "/root")
    assert state["marker"], "bookworm's python3 ships EXTERNALLY-MANAGED"
    return state


# --- chroot A: the main flow -----------------------------------------------------------


def test_first_run_provisions_everything(a, before):
    assert not installed(a, "build-essential")
    res = bootstrap(a, "--ca-bundle", CA, "--yes", "--json")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-5000:]
    data = recap_of(res.stdout)
    assert data["recap"]["failed"] == 0 and data["recap"]["changed"] >= 4
    for pkg in PACKAGES:
        assert installed(a, pkg), pkg
    # one package transaction: a single install command in the package step
    step = next(s for s in data["steps"] if s["name"] == "system-packages")
    installs = [c for c in step["commands"] if "install" in c["argv"] and "apt-get" in c["argv"]]
    assert len(installs) == 1


def test_pipx_tool_works_on_the_configured_path(a):
    res = a.run(["bash", "-lic", "command -v ruff && ruff --version"], cwd="/root")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "/root/.local/bin/ruff" in res.stdout


def test_venv_is_usable(a):
    py = f"{KIT}/.venv/bin/python"
    assert a.run([py, "-c", "import ssl, ctypes, sqlite3, venv"]).returncode == 0
    check = a.run([py, "-m", "pip", "check"])
    assert check.returncode == 0, check.stdout
    verify = a.run([py, f"{KIT}/provision/checks/verify_venv.py"])
    assert verify.returncode == 0 and "C extension built" in verify.stdout, verify.stdout + verify.stderr
    assert not a.path(f"{KIT}/.venv.partial").exists()
    # a later plain pip install works without flags (the venv's pip.conf trusts the CA)
    res = a.run([f"{KIT}/.venv/bin/pip", "install", "--no-input", "six"])
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]


def test_system_interpreter_stays_the_os(a, before):
    after = system_python_state(a, "/root")
    assert after["unowned"] == [], "files no OS package owns in the system site directories"
    assert after["usr_local"] == [] and after["user_site"] == []
    assert after["marker"] == before["marker"], "EXTERNALLY-MANAGED untouched"


def test_second_run_changes_nothing(a):
    dpkg_before = dpkg_log_lines(a)
    venv_mtime = a.path(f"{KIT}/.venv").stat().st_mtime
    res = bootstrap(a, "--ca-bundle", CA, "--yes", "--json")
    assert res.returncode == 0, res.stderr[-3000:]
    data = recap_of(res.stdout)
    assert data["recap"]["changed"] == 0 and data["recap"]["failed"] == 0
    assert all(s["commands"] == [] for s in data["steps"]), "no write command ran"
    assert "recap: ok=" in res.stderr and "changed=0" in res.stderr
    assert dpkg_log_lines(a) == dpkg_before
    assert a.path(f"{KIT}/.venv").stat().st_mtime == venv_mtime


def test_non_root_user_with_sudo(a):
    a.add_user("dev", sudo=True)
    a.copy_in(REPO, "/home/dev/provision")
    # the user's copy asks for one more native library, so the run needs sudo for real
    pyproject = a.path("/home/dev/provision/pyproject.toml")
    pyproject.write_text(pyproject.read_text().replace('pipx = ["ruff"]', 'pipx = ["ruff"]\nneeds = ["yaml"]'))
    a.run(["chown", "-R", "dev:dev", "/home/dev/provision"], check=True)
    res = bootstrap(a, "--ca-bundle", CA, "--yes", "--json", user="dev", cwd="/home/dev/provision")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-5000:]
    data = recap_of(res.stdout)
    step = next(s for s in data["steps"] if s["name"] == "system-packages")
    assert step["status"] == "changed" and step["commands"][-1]["argv"][:2] == ["sudo", "-n"]
    assert installed(a, "libyaml-dev")
    assert a.run(["/home/dev/provision/.venv/bin/python", "-c", "import ssl"]).returncode == 0
    again = bootstrap(a, "--ca-bundle", CA, "--yes", "--json", user="dev", cwd="/home/dev/provision")
    assert recap_of(again.stdout)["recap"]["changed"] == 0
    state = system_python_state(a, "/root", "/home/dev")
    assert state["unowned"] == [] and state["user_site"] == []


def test_two_runs_at_once_do_not_both_write(a):
    a.run(["rm", "-rf", f"{KIT}/.venv"], check=True)
    procs = [a.popen(["./bootstrap", "--ca-bundle", CA, "--yes", "--json"], cwd=KIT, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=900) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    venv_status = sorted(next(s["status"] for s in json.loads(o[0])["steps"] if s["name"] == "project-venv") for o in outs)
    assert venv_status == ["changed", "ok"], "the venv was built once; the second run found it done"
    assert any("another run" in o[1] and "waiting" in o[1] for o in outs)


# --- chroot B: failure paths -----------------------------------------------------------


def test_stage0_needs_no_root_and_the_run_refuses_clearly_without_it(b):
    """Stage 0 takes pip's wheel from the downloaded python3-pip-whl, installing nothing; the run itself
    needs root or sudo for the package transaction and says so before changing anything."""
    b.add_user("nosudo")
    b.copy_in(REPO, "/home/nosudo/provision")
    b.run(["chown", "-R", "nosudo:nosudo", "/home/nosudo/provision"], check=True)
    dpkg_before = dpkg_log_lines(b)
    assert not installed(b, "python3-pip-whl")
    res = bootstrap(b, "--ca-bundle", CA, "--yes", user="nosudo", cwd="/home/nosudo/provision")
    assert res.returncode != 0
    assert b.path("/home/nosudo/provision/.tools/bin/invoke").exists(), res.stderr[-2000:]
    assert "needs root" in res.stderr and "no sudo" in res.stderr and "Nothing was changed" in res.stderr, res.stderr[-2000:]
    assert dpkg_log_lines(b) == dpkg_before and not installed(b, "python3-pip-whl")
    assert not list(b.path("/tmp").glob("provision-pip-whl.*")), "the downloaded wheel's directory is removed"


def test_untrusted_interception_fails_early_naming_the_fix(b):
    """Without the host CA, pip in the chroot meets the re-signed certificate (issue: certificates)."""
    res = bootstrap(b, "--yes")
    assert res.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in res.stderr and "./bootstrap --ca-bundle" in res.stderr, res.stderr[-3000:]
    assert not b.path(f"{KIT}/.tools").exists() and not b.path(f"{KIT}/.tools.partial").exists()
    assert not b.path(f"{KIT}/.venv").exists()


def test_malformed_ca_bundle_is_refused(b):
    b.write("/tmp/not-a-ca.pem", "hello\n")
    res = bootstrap(b, "--ca-bundle", "/tmp/not-a-ca.pem", "--yes")
    assert res.returncode != 0
    # stage 0 has no PEM parser: pip itself refuses the bundle, or the kit does
    assert "not-a-ca.pem" in res.stderr, res.stderr[-2000:]
    assert not b.path(f"{KIT}/.venv").exists()


def test_kit_without_root_or_sudo_refuses_before_changing_anything(b):
    # an administrator made venv possible; the rest still needs root
    assert b.run(["apt-get", "install", "-y", "-q", "python3-venv"]).returncode == 0
    dpkg_before = dpkg_log_lines(b)
    res = bootstrap(b, "--ca-bundle", CA, "--yes", user="nosudo", cwd="/home/nosudo/provision")
    assert res.returncode != 0
    assert "needs root" in res.stderr and "no sudo" in res.stderr and "Nothing was changed" in res.stderr, res.stderr
    assert dpkg_log_lines(b) == dpkg_before
    assert not b.path("/home/nosudo/provision/.venv").exists()


def interrupt_when(c: harness.Chroot, marker: str, *, grace: float = 20.0) -> str:
    """Start a run, SIGINT it when `marker` shows in its progress, SIGKILL if it lingers."""
    p = c.popen(["./bootstrap", "--ca-bundle", CA, "--yes"], cwd=KIT)
    seen: list[str] = []
    hit = threading.Event()

    def read() -> None:
        assert p.stdout is not None
        for line in p.stdout:
            seen.append(line)
            if marker in line:
                hit.set()

    t = threading.Thread(target=read, daemon=True)
    t.start()
    assert hit.wait(900), "".join(seen[-40:])
    time.sleep(2.0)  # into the middle of it
    os.killpg(p.pid, signal.SIGINT)
    try:
        p.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(30)
    # whatever was still running in the chroot under that session is gone too
    with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, signal.SIGKILL)
    t.join(5)
    return "".join(seen)


def test_interrupted_package_step_converges(b):
    out = interrupt_when(b, "… System packages: install system packages")
    assert "recap: ok=0 changed=0" not in out
    res = bootstrap(b, "--ca-bundle", CA, "--yes", "--json")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    for pkg in PACKAGES:
        assert installed(b, pkg), pkg


def test_interrupted_venv_build_leaves_no_half_venv(b):
    b.run(["rm", "-rf", f"{KIT}/.venv"], check=True)
    interrupt_when(b, "… Project venv: the project's requirements")
    assert not b.path(f"{KIT}/.venv").exists(), "an interrupted build is never moved into place"
    res = bootstrap(b, "--ca-bundle", CA, "--yes", "--json")
    assert res.returncode == 0, res.stderr[-4000:]
    assert not b.path(f"{KIT}/.venv.partial").exists()
    assert b.run([f"{KIT}/.venv/bin/python", "-c", "import pytest, ssl"]).returncode == 0
    again = bootstrap(b, "--ca-bundle", CA, "--yes", "--json")
    assert recap_of(again.stdout)["recap"]["changed"] == 0
    assert re.search(r"recap: ok=\d+ changed=0 failed=0", again.stderr)
