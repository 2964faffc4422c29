"""Stage 0 (./bootstrap, POSIX sh): bad CA input is refused before anything runs, exit 2."""

from __future__ import annotations

import base64
import os
import subprocess

import pytest

from tests.conftest import REPO

DER = b"\x30\x82\x01\x0a" + b"\x00" * 10
PEM = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(DER) + b"-----END CERTIFICATE-----\n"
KEY = b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"


def _case(tmp_path, kind: str) -> str:
    f = tmp_path / "ca.pem"
    if kind == "directory":
        return str(tmp_path)
    if kind == "missing":
        return str(tmp_path / "none.pem")
    f.write_bytes({"cert+key": PEM + KEY, "key": KEY, "rsa key": PEM + KEY.replace(b"PRIVATE", b"RSA PRIVATE"),
                   "no pem": b"hello\n", "unreadable": PEM}[kind])
    if kind == "unreadable":
        f.chmod(0)
    return str(f)


@pytest.mark.parametrize(
    ("kind", "how", "fragment"),
    [
        ("cert+key", "arg", "other than certificates"),
        ("key", "arg", "other than certificates"),
        ("rsa key", "eq", "other than certificates"),
        ("cert+key", "PIP_CERT", "other than certificates"),
        ("cert+key", "SSL_CERT_FILE", "other than certificates"),
        ("directory", "arg", "is a directory"),
        ("missing", "arg", "not a readable file"),
        ("no pem", "arg", "holds no PEM certificate"),
        ("unreadable", "arg", "not a readable file"),
    ],
)
def test_stage0_refuses_a_bad_ca_bundle(tmp_path, kind, how, fragment):
    if kind == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads every file")
    path = _case(tmp_path, kind)
    env = {k: v for k, v in os.environ.items() if k not in ("PIP_CERT", "SSL_CERT_FILE")}
    env["HOME"] = str(tmp_path)
    args = ["sh", str(REPO / "bootstrap"), "--dry-run"]
    if how == "arg":
        args += ["--ca-bundle", path]
    elif how == "eq":
        args += [f"--ca-bundle={path}"]
    else:
        env[how] = path
    res = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert res.returncode == 2, res.stderr
    assert fragment in res.stderr and "MIIEvQ" not in res.stderr + res.stdout
    assert not (tmp_path / ".local").exists(), "nothing written"


def test_stage0_needs_a_file_after_ca_bundle():
    res = subprocess.run(["sh", str(REPO / "bootstrap"), "--ca-bundle"], capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 2 and "needs a file" in res.stderr
