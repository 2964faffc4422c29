import base64

import pytest

from provision.certs import fingerprint, pem_certificates
from provision.errors import ConfigError

DER = b"\x30\x82\x01\x0a" + b"\x00" * 10
PEM = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(DER) + b"-----END CERTIFICATE-----\n"


def test_valid_bundle(tmp_path):
    f = tmp_path / "ca.pem"
    f.write_bytes(PEM + PEM)
    assert pem_certificates(f) == [DER, DER]


def test_host_bundle_is_valid():
    import os

    path = "/etc/ssl/certs/ca-certificates.crt"
    if not os.path.exists(path):
        pytest.skip("no system bundle on this machine")
    from pathlib import Path

    assert len(pem_certificates(Path(path))) > 10


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"hello", "holds no PEM certificate"),
        (DER, "looks like DER"),
        (b"-----BEGIN CERTIFICATE-----\n!!!notbase64\n-----END CERTIFICATE-----\n", "not valid base64"),
        (b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(b"text") + b"-----END CERTIFICATE-----\n", "not an X.509"),
    ],
)
def test_malformed(tmp_path, data, fragment):
    f = tmp_path / "bad.pem"
    f.write_bytes(data)
    with pytest.raises(ConfigError, match=fragment) as e:
        pem_certificates(f)
    assert str(f) in str(e.value)


KEY = b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (PEM + KEY, "PRIVATE KEY"),
        (KEY + PEM, "PRIVATE KEY"),
        (PEM + KEY.replace(b"PRIVATE", b"RSA PRIVATE"), "RSA PRIVATE KEY"),
        (PEM + KEY.replace(b"PRIVATE", b"EC PRIVATE"), "EC PRIVATE KEY"),
        (PEM + KEY.replace(b"PRIVATE KEY", b"ENCRYPTED PRIVATE KEY"), "ENCRYPTED PRIVATE KEY"),
        (PEM + KEY.replace(b"PRIVATE KEY", b"OPENSSH PRIVATE KEY"), "OPENSSH PRIVATE KEY"),
        (PEM + KEY.replace(b"PRIVATE KEY", b"CERTIFICATE REQUEST"), "CERTIFICATE REQUEST"),
        (KEY, "PRIVATE KEY"),
    ],
)
def test_anything_but_certificates_is_refused_and_not_quoted(tmp_path, data, fragment):
    f = tmp_path / "ca.pem"
    f.write_bytes(data)
    with pytest.raises(ConfigError, match=fragment) as e:
        pem_certificates(f)
    assert "copied it nowhere" in str(e.value) and "MIIEvQ" not in str(e.value)


def test_a_directory_is_named_as_one(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        pem_certificates(tmp_path)


def test_fingerprint_names_differ_for_different_cas_with_one_file_name(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    other = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(DER + b"\x01") + b"-----END CERTIFICATE-----\n"
    (tmp_path / "a" / "corp.pem").write_bytes(PEM)
    (tmp_path / "b" / "corp.pem").write_bytes(other)
    (tmp_path / "crlf.pem").write_bytes(PEM.replace(b"\n", b"\r\n"))
    assert fingerprint(tmp_path / "a" / "corp.pem") != fingerprint(tmp_path / "b" / "corp.pem")
    assert fingerprint(tmp_path / "a" / "corp.pem") == fingerprint(tmp_path / "crlf.pem"), "the certificate, not the bytes"
