"""End to end: doctor sees TLS interception, then install --fix repairs a psycopg2 build.

One Debian 12 chroot (minbase + python3), shared by the tests in order:

1. Doctor, before anything trusts the host's CA. Stage 0 needs pip to reach the index,
   which only works with the interception CA, so it gets ``PIP_CERT`` for that one call
   (stage 0 hands it to its own pip only; it installs nothing into the trust store and
   writes no pip configuration). Then ``./bootstrap doctor --json`` runs with a clean
   environment (no PIP_CERT): the chroot's default trust does not know the CA, so the
   interception check must report ``ssl-certificate`` naming the issuer, the same
   issuer the host sees when it verifies with its own bundle.
2. ``./bootstrap --ca-bundle CA --yes`` provisions (the CA goes into the system store).
3. ``./bootstrap install psycopg2 --fix --yes``: libpq-dev is absent, pip fails on
   pg_config, the fix installs libpq-dev through the runner, pip is retried, and
   psycopg2 imports in the venv.
4. ``./bootstrap install fixture_gmp-0.1.tar.gz --fix --yes``: a local sdist whose C
   extension includes ``<gmp.h>``, which no table of the kit knows. The fix installs
   apt-file, fills its index (the mirror's Contents files), finds libgmp-dev with
   ``apt-file search``, installs it in one transaction, and the retry builds and imports.
   Run alone, it provisions the chroot first.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path

import pytest

from provision.diagnose import doctor, tls

from . import chroot as harness

REPO = Path(__file__).resolve().parents[2]
KIT = "/opt/provision"
CA = "/usr/local/share/provision-e2e/host-ca.pem"
GMP_FIXTURE = REPO / "tests" / "fixtures" / "native" / "gmp-extension"
# its own .deb cache: apt locks the archives directory, and other e2e modules may run at the same time

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(harness.skip_reason() is not None, reason=str(harness.skip_reason()))]


def open_chroot() -> harness.Chroot:
    return harness.kit_chroot(REPO, KIT, CA, apt_cache="apt-archives-install-fix")


@pytest.fixture(scope="module")
def c():
    root = open_chroot()
    try:
        yield root
    finally:
        root.close()


def installed(c: harness.Chroot, pkg: str) -> bool:
    res = c.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", pkg])
    return res.returncode == 0 and res.stdout.startswith("ii")


def host_view_of_the_issuer() -> str | None:
    """The issuer the host sees on the index, verifying with the bundle it trusts."""
    from urllib.parse import urlparse

    host = urlparse(doctor.index_url()).hostname
    res = tls.probe(host or "", cafile=str(harness.host_ca_bundle()))
    return res.issuer


def test_doctor_reports_the_interception_before_the_ca_is_trusted(c):
    stage0 = c.run(["./bootstrap", "facts"], cwd=KIT, env={"PIP_CERT": CA}, timeout=900)
    assert stage0.returncode == 0, stage0.stdout[-2000:] + stage0.stderr[-3000:]
    # stage 0 installed nothing (pip's wheel came downloaded): the public CAs a Debian install has, so that
    # the doctor can tell a re-signed certificate from a missing bundle
    assert c.run(["apt-get", "install", "-y", "-q", "ca-certificates"], env={"DEBIAN_FRONTEND": "noninteractive"}).returncode == 0
    res = c.run(["./bootstrap", "doctor", "--json"], cwd=KIT, timeout=300)
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-3000:]
    data = json.loads(res.stdout)
    certs = [f for f in data["findings"] if f["category"] == "ssl-certificate" and f["severity"] in ("error", "warning")]
    intercepted = [f for f in certs if f.get("details", {}).get("issuer")]
    assert intercepted, json.dumps(data["findings"], indent=1)[-4000:]
    issuer = intercepted[0]["details"]["issuer"]
    assert any(issuer in e for e in intercepted[0]["evidence"])
    expected = host_view_of_the_issuer()
    if expected:
        assert issuer == expected


def test_bootstrap_with_the_ca(c):
    res = c.run(["./bootstrap", "--ca-bundle", CA, "--yes"], cwd=KIT, timeout=1800)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-5000:]
    assert not installed(c, "libpq-dev")


def test_install_fix_builds_psycopg2(c):
    res = c.run(["./bootstrap", "install", "psycopg2", "--fix", "--yes"], cwd=KIT, timeout=1800)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-6000:]
    assert "libpq-dev" in out
    assert "missing-native-library (postgres-client)" in out
    assert installed(c, "libpq-dev")
    imp = c.run([f"{KIT}/.venv/bin/python", "-c", "import psycopg2; print(psycopg2.__version__)"])
    assert imp.returncode == 0, imp.stdout + imp.stderr


def sdist(src: Path, name: str, version: str) -> bytes:
    """A minimal sdist of a source tree: ``NAME-VERSION/`` with the files and a PKG-INFO."""
    top = f"{name}-{version}"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        files = {p.name: p.read_bytes() for p in sorted(src.iterdir()) if p.is_file()}
        files["PKG-INFO"] = f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\n".encode()
        for fname, data in files.items():
            info = tarfile.TarInfo(f"{top}/{fname}")
            info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_install_fix_finds_an_unknown_header_with_apt_file(c):
    if not c.path(f"{KIT}/.venv/bin/python").exists():  # run alone: provision first
        test_bootstrap_with_the_ca(c)
    assert not installed(c, "libgmp-dev") and not installed(c, "apt-file")
    c.path("/opt/fixture_gmp-0.1.tar.gz").write_bytes(sdist(GMP_FIXTURE, "fixture_gmp", "0.1"))
    started = time.monotonic()
    res = c.run(["./bootstrap", "install", "/opt/fixture_gmp-0.1.tar.gz", "--fix", "--yes"], cwd=KIT, timeout=1800)
    took = time.monotonic() - started
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-8000:]
    assert "fatal error: gmp.h" in out  # the first build failed on the header no table knows
    assert "no table knows the header gmp.h" in out
    assert "$ apt-file search --regexp" in out
    assert "the header gmp.h is in libgmp-dev (/usr/include/x86_64-linux-gnu/gmp.h)" in out
    assert "./bootstrap install" not in out  # never the failing command as its own fix
    assert installed(c, "apt-file") and installed(c, "libgmp-dev")
    imp = c.run([f"{KIT}/.venv/bin/python", "-c", "import gmpprobe; print(gmpprobe.pow2(100))"])
    assert imp.returncode == 0 and imp.stdout.strip() == str(2**100), imp.stdout + imp.stderr
    print(f"install --fix through apt-file: {took:.0f}s")
