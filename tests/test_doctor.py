"""doctor: each cause from fixture facts (tables), the network checks injected; plus one
real TLS check against a local HTTPS server with a CA made by the test."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from dataclasses import replace

import pytest

from provision.diagnose import doctor, tls
from provision.diagnose.fixes import Machine
from provision.machine.facts import PythonInstall, Tool
from provision.platforms import presets, profiles

PY = PythonInstall(path="/usr/bin/python3", version="3.11.2", os_managed=True, has_venv=True, has_ensurepip=True, has_pip=True, has_ssl=True,
                   openssl="OpenSSL 3.0.11", cafile="/usr/lib/ssl/cert.pem", cafile_exists=True, headers="/usr/include/python3.11/Python.h",
                   purelib=None, is_default=True)
BASE = replace(presets.load("debian:12"), pythons=(PY,), pip=Tool("pip", "/usr/bin/pip", "/usr/bin/python3"), compiler="/usr/bin/cc")
PROFILE = profiles.resolve(BASE).profile


def inputs(**facts_changes) -> doctor.Inputs:
    return doctor.Inputs(Machine(replace(BASE, **facts_changes), PROFILE), index="https://index.invalid/simple/")


def problems(findings):
    return [(f.category, f.severity) for f in findings if f.severity != "ok"]


def test_healthy_machine_has_only_ok_lines():
    found = doctor.run(inputs(), network=False)
    assert problems(found) == []
    assert not doctor.failed(found)
    assert "doctor: healthy" in doctor.text_report(found, "doctor")


OTHER = PythonInstall(path="/usr/local/bin/python3.12", version="3.12.4", has_venv=True, has_ensurepip=True, has_ssl=True, headers="x")

CASES = [
    # (what, facts changes, expected category, severity, a fix line that must be there)
    ("no pip on PATH", {"pip": Tool("pip", None)}, "pip-not-found", "info", "python3 -m venv .venv"),
    ("pip of another Python", {"pip": Tool("pip", "/usr/local/bin/pip", "/usr/local/bin/python3.12"), "pythons": (PY, OTHER)},
     "wrong-interpreter", "error", "python3 -m pip install PACKAGE"),
    ("several Pythons", {"pythons": (PY, OTHER)}, "wrong-interpreter", "info", "never a bare pip"),
    ("EXTERNALLY-MANAGED", {"pythons": (replace(PY, externally_managed="/usr/lib/python3.11/EXTERNALLY-MANAGED"),)},
     "externally-managed", "info", "pipx install TOOL"),
    ("no ensurepip", {"pythons": (replace(PY, has_ensurepip=False),)}, "venv-unavailable", "error", "sudo apt-get install python3-venv"),
    ("no compiler", {"compiler": None}, "missing-compiler", "warning", "sudo apt-get install build-essential"),
    ("no Python.h", {"pythons": (replace(PY, headers=None),)}, "missing-python-headers", "warning", "sudo apt-get install python3-dev"),
    ("no ssl module", {"pythons": (replace(PY, has_ssl=False),)}, "ssl-module-missing", "error", "apt-get install --fix-broken"),
    ("CA bundle missing", {"pythons": (replace(PY, cafile_exists=False),)}, "ssl-certificate", "error", "sudo apt-get install ca-certificates"),
]


@pytest.mark.parametrize(("what", "changes", "category", "severity", "fix"), CASES, ids=[c[0] for c in CASES])
def test_machine_checks(what, changes, category, severity, fix):
    found = doctor.run(inputs(**changes), network=False)
    hit = [f for f in found if f.category == category and f.severity == severity]
    assert hit, (what, problems(found))
    assert any(fix in line for line in hit[0].fix), hit[0].fix
    assert hit[0].evidence and hit[0].explanation
    assert doctor.failed(found) == (severity in ("error", "warning"))


def test_old_certifi_bundle_in_the_venv(tmp_path):
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "pip" / "_vendor" / "certifi"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text('__version__ = "2019.11.28"\n')
    i = inputs()
    i.venvs = [str(tmp_path / "venv")]
    found = [f for f in doctor.run(i, network=False) if f.severity == "warning"]
    assert [f.category for f in found] == ["ssl-certificate"]
    assert "2019.11.28" in found[0].evidence[0]


def net(resolve=None, connect=None, tls_result=None, trusted_with=None):
    calls = []

    def fake_tls(host, port, cafile, proxy):
        calls.append((host, port, cafile, proxy))
        if trusted_with and cafile == trusted_with:
            return tls.TLSResult(True, issuer="CN=Corp Inspection CA")
        return tls_result or tls.TLSResult(True, issuer="CN=Some Public CA")

    n = doctor.Network(resolve=lambda h, t: resolve, connect=lambda h, p, t: connect(h, p) if callable(connect) else connect, tls=fake_tls)
    return n, calls


INTERCEPTED = tls.TLSResult(False, "self-signed certificate in certificate chain", cert_error=True, issuer="CN=Corp Inspection CA, O=Corp")

NET_CASES = [
    # (what, facts changes, network answers, category, severity, evidence, a fix line that must be there)
    ("DNS fails", {}, dict(resolve="[Errno -3] Temporary failure in name resolution"), "network-unreachable", "error", "resolve index.invalid",
     "getent hosts index.invalid"),
    ("no direct route", {}, dict(connect="[Errno 111] Connection refused"), "network-unreachable", "error", "no proxy is configured",
     "export HTTPS_PROXY"),
    ("proxy unreachable", {"proxies": {"HTTPS_PROXY": "http://127.0.0.1:9"}}, dict(connect=lambda h, p: "refused" if p == 9 else None),
     "network-unreachable", "error", "HTTPS_PROXY=http://127.0.0.1:9", "unset HTTPS_PROXY"),
    ("TLS intercepted", {}, dict(tls_result=INTERCEPTED), "ssl-certificate", "error", "issued by: CN=Corp Inspection CA, O=Corp",
     "./bootstrap --ca-bundle"),
]


@pytest.mark.parametrize(("what", "changes", "netargs", "category", "severity", "evidence", "fix"), NET_CASES, ids=[c[0] for c in NET_CASES])
def test_network_checks(what, changes, netargs, category, severity, evidence, fix):
    n, _ = net(**netargs)
    found = doctor.run(inputs(**changes), n)
    hit = [f for f in found if f.category == category and f.severity == severity]
    assert hit, (what, problems(found))
    assert any(evidence in e for e in hit[0].evidence), hit[0].evidence
    assert any(fix in line for line in hit[0].fix), hit[0].fix
    assert doctor.failed(found)


def test_report_neutralises_what_comes_from_outside():
    evil = tls.TLSResult(False, "self-signed", cert_error=True, issuer="CN=\x1b]0;owned\x07Corp\x1b[2J, O=\x1b]52;c;ZWNobw==\x07")
    n, _ = net(tls_result=evil)
    out = doctor.text_report(doctor.run(inputs(proxies={}), n), "doctor \x1b[31mhead")
    assert "\x1b" not in out and "\x07" not in out and "Corp" in out


def test_intercepted_but_pip_has_the_ca_is_a_warning():
    n, calls = net(tls_result=INTERCEPTED, trusted_with="/etc/corp.pem")
    i = inputs()
    i.pip_cert = "/etc/corp.pem"
    found = [f for f in doctor.run(i, n) if f.category == "ssl-certificate" and f.severity != "ok"]
    assert [f.severity for f in found] == ["warning"]
    assert found[0].fix[0].startswith("./bootstrap --ca-bundle")
    assert [c[2] for c in calls] == [None, "/etc/corp.pem"]


def test_network_healthy():
    n, _ = net()
    found = doctor.run(inputs(), n)
    assert problems(found) == []
    assert any("verified" in f.evidence[0] for f in found if f.category == "ssl-certificate")


def test_index_url_comes_from_pip_at_run_time():
    url = doctor.index_url({}, env={})
    assert url.startswith(("https://", "file://", "http://"))
    assert doctor.index_url({"pip:index-url": "https://mirror.invalid/simple"}, env={}) == "https://mirror.invalid/simple"
    assert doctor.index_url({}, env={"PIP_INDEX_URL": "https://x.invalid/simple"}) == "https://x.invalid/simple"


def test_index_url_from_pip_run_from_ensurepips_wheel(monkeypatch):
    """The kit's tool venv has no pip: pip's default is read from ensurepip's wheel."""
    from provision.machine import interp_probe, pyprobe

    wheel = interp_probe.pip_wheel()
    if not wheel:
        pytest.skip("this interpreter has no ensurepip wheel")
    monkeypatch.setattr(pyprobe, "pip_command", lambda: [sys.executable, os.path.join(wheel, "pip")])
    ran = []
    real_run = subprocess.run

    def run(argv, **kw):
        ran.append(argv)
        return real_run(argv, **kw)

    monkeypatch.setattr(doctor.subprocess, "run", run)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # no configured index: pip's own default
    url = doctor.index_url({}, env={})
    assert url.startswith(("https://", "http://"))
    assert ran[-1][-1] == wheel, "pip's default came from the wheel's code"


# --- a real TLS server with a CA nobody trusts ---------------------------------------------


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("ca")

    def sh(*argv):
        subprocess.run(argv, cwd=d, check=True, capture_output=True)

    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", "ca.key", "-out", "ca.pem",
       "-subj", "/CN=Provision Test Interception CA/O=provision tests", "-addext", "basicConstraints=critical,CA:TRUE",
       "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    sh("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
       "-out", "server.pem", "-extfile", "ext.cnf")
    return d


@pytest.fixture(scope="module")
def https_server(test_ca):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(test_ca / "server.pem", test_ca / "server.key")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            try:
                conn.settimeout(2)
                with ctx.wrap_socket(conn, server_side=True) as s:
                    s.recv(1)  # wait for the client to close (the probe sends nothing)
            except (OSError, ssl.SSLError):
                conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(2)
    srv.close()


def test_der_issuer_parser_agrees_with_cpython(test_ca):
    import base64
    import re

    pem = (test_ca / "server.pem").read_text()
    der = base64.b64decode("".join(re.findall(r"^[A-Za-z0-9+/=]+$", pem, re.M)))
    issuer, subject = tls.der_names(der)
    assert issuer == [("CN", "Provision Test Interception CA"), ("O", "provision tests")]
    assert subject == [("CN", "127.0.0.1")]
    assert tls._decode_with_ssl(der)[0] == "CN=Provision Test Interception CA, O=provision tests"


def test_real_interception_is_reported_with_the_issuer(https_server):
    i = inputs()
    i.index = f"https://127.0.0.1:{https_server}/simple/"
    real = doctor.Network(resolve=lambda h, t: None)  # real connect and TLS
    found = [f for f in doctor.check_network(i, real) if f.severity != "ok"]
    assert [f.category for f in found] == ["ssl-certificate"]
    assert any("CN=Provision Test Interception CA" in e for e in found[0].evidence), found[0].evidence
    assert found[0].details["issuer"] == "CN=Provision Test Interception CA, O=provision tests"


def test_real_tls_with_the_ca_trusted_has_no_finding(https_server, test_ca):
    i = inputs()
    i.index = f"https://127.0.0.1:{https_server}/simple/"
    i.cafile = str(test_ca / "ca.pem")
    found = doctor.check_network(i, doctor.Network(resolve=lambda h, t: None))
    assert [f.severity for f in found] == ["ok", "ok"]
    assert "Provision Test Interception CA" in found[-1].evidence[0]
