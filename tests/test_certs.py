import base64

import pytest

from provision.certs import pem_certificates
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
