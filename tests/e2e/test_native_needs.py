"""End to end (#13): native build needs predicted before pip runs, on bare Debian 12 and 11.

The fixture projects under tests/fixtures/native/ name only their requirement files (no
``needs``): one pins psycopg2-binary (a wheel: libpq-dev must NOT be installed), the other
source builds of psycopg2, pycurl, python-ldap, mysqlclient and pycairo (``--no-binary``),
which must provision in one run with ``failed=0`` and then import. A second run is a no-op.
"""

from __future__ import annotations

import json
import time

import pytest

from . import chroot as harness
from .test_bootstrap_debian import CA, KIT, REPO

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(harness.skip_reason() is not None, reason=str(harness.skip_reason()))]

SOURCE = f"{KIT}/tests/fixtures/native/source-builds"
BINARY = f"{KIT}/tests/fixtures/native/binary-wheel"
MODULES = "import psycopg2, pycurl, ldap, MySQLdb, cairo; print(psycopg2.__version__, pycurl.version, ldap.__version__, cairo.version)"
NATIVE_DEV = ("libpq-dev", "libcurl4-openssl-dev", "libldap2-dev", "libsasl2-dev", "default-libmysqlclient-dev", "libcairo2-dev")


@pytest.fixture(scope="module", params=["bookworm", "bullseye"])
def c(request):
    ch = harness.kit_chroot(REPO, KIT, CA, suite=request.param, apt_cache=f"apt-native-{request.param}")
    try:
        yield ch
    finally:
        ch.close()


def run(c: harness.Chroot, project: str, timeout: float = 1500) -> tuple[dict, float, str]:
    started = time.monotonic()
    res = c.run(["./bootstrap", "--ca-bundle", CA, "--yes", "--json", "--project", project], cwd=KIT, timeout=timeout)
    took = time.monotonic() - started
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-6000:]
    return json.loads(res.stdout), took, res.stderr


def step(data: dict, name: str) -> dict:
    return next(s for s in data["steps"] if s["name"] == name)


def installed(c: harness.Chroot, pkg: str) -> bool:
    res = c.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", pkg])
    return res.returncode == 0 and res.stdout.startswith("ii")


def test_binary_wheel_adds_no_libpq(c):
    data, took, _ = run(c, BINARY)
    print(f"{c.suite}: binary-wheel first run {took:.1f}s")
    assert data["recap"]["failed"] == 0
    pkgs = step(data, "system-packages")
    argv = " ".join(" ".join(cmd["argv"]) for cmd in pkgs["commands"])
    assert "libpq-dev" not in argv and "libpq-dev" not in pkgs["reason"], pkgs
    assert not installed(c, "libpq-dev")
    res = c.run([f"{BINARY}/.venv/bin/python", "-c", "import psycopg2; print(psycopg2.__version__)"])
    assert res.returncode == 0, res.stderr


def test_source_builds_provision_in_one_run(c):
    data, took, _ = run(c, SOURCE)
    print(f"{c.suite}: source-builds first run {took:.1f}s")
    assert data["recap"]["failed"] == 0, json.dumps(data["steps"], indent=1)[-4000:]
    pkgs = step(data, "system-packages")
    assert "psycopg2 2.9.9 builds from source here" in pkgs["reason"], pkgs["reason"]
    installs = [cmd for cmd in pkgs["commands"] if "install" in cmd["argv"] and "apt-get" in cmd["argv"]]
    assert len(installs) == 1, "one package transaction"
    for pkg in NATIVE_DEV:
        assert pkg in installs[0]["argv"], pkg
        assert installed(c, pkg), pkg
    res = c.run([f"{SOURCE}/.venv/bin/python", "-c", MODULES])
    assert res.returncode == 0, res.stdout + res.stderr


def test_second_run_changes_nothing(c):
    data, took, _ = run(c, SOURCE)
    print(f"{c.suite}: source-builds second run {took:.1f}s")
    assert data["recap"]["changed"] == 0 and data["recap"]["failed"] == 0, data["recap"]
