"""CA bundles: validated as PEM before anything trusts them."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from .errors import ConfigError

BEGIN, END = b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----"


def pem_blocks(data: bytes) -> list[bytes]:
    """The base64 bodies between BEGIN and END lines (a BEGIN without END is not a block)."""
    out = []
    start = data.find(BEGIN)
    while start >= 0:
        end = data.find(END, start)
        if end < 0:
            break
        out.append(data[start + len(BEGIN):end].strip())
        start = data.find(BEGIN, end)
    return out


def pem_certificates(path: Path, *, origin: str = "--ca-bundle") -> list[bytes]:
    """The DER certificates in a PEM file; a clear error when it holds none or a broken one."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{origin}: {path} cannot be read ({e.strerror}).", "Check the path and its permissions.") from e
    blocks = pem_blocks(data)
    if not blocks:
        hint = " It looks like DER (binary): convert it with 'openssl x509 -inform der -in FILE -out FILE.pem'." if data[:1] == b"\x30" else ""
        raise ConfigError(
            f"{origin}: {path} holds no PEM certificate (no '-----BEGIN CERTIFICATE-----' block).{hint}",
            "Export your organisation's root CA as PEM (Base-64 encoded X.509) and pass that file.",
        )
    out = []
    for i, body in enumerate(blocks, 1):
        try:
            der = base64.b64decode(b"".join(body.split()), validate=True)
        except (binascii.Error, ValueError) as e:
            raise ConfigError(f"{origin}: certificate #{i} in {path} is not valid base64 ({e}).",
                              "Re-export the certificate as PEM; do not edit it by hand.") from e
        if not der.startswith(b"\x30"):
            raise ConfigError(f"{origin}: certificate #{i} in {path} is not an X.509 certificate.",
                              "Re-export the certificate as PEM.")
        out.append(der)
    return out
