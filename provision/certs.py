"""CA bundles: validated as PEM before anything trusts them.

A CA file goes into the system trust store, readable by everyone: it may hold
certificates and nothing else. A private key (or any other PEM block) in it is refused
before anything is copied, and the error never quotes the file's contents.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from pathlib import Path

from . import memo
from .errors import ConfigError

BEGIN, END = b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----"
ANY_BEGIN = rb"-----BEGIN ([A-Z0-9 ]{1,40})-----"  # compiled on first use (a kept verdict needs none)
# contents already validated -> their certificates: a run reads the bundle when it starts and again in
# the CA step (a corporate bundle may hold a hundred certificates); keyed by the bytes read, never stale
_validated: dict[bytes, tuple[bytes, ...]] = {}


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
    if path.is_dir():
        raise ConfigError(f"{origin}: {path} is a directory, not a file.", "Give the PEM file of your organisation's CA certificate.")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{origin}: {path} cannot be read ({e.strerror}).", "Check the path and its permissions.") from e
    if data in _validated:
        return list(_validated[data])
    other = sorted({m.group(1).decode() for m in re.finditer(ANY_BEGIN, data)} - {"CERTIFICATE"})
    if other:
        raise ConfigError(
            f"{origin}: {path} holds {', '.join(other)} block(s), not only certificates. A CA file goes into the system "
            "trust store, readable by every user: the kit refused it and copied it nowhere.",
            "Pass a file with the CA certificate(s) only (-----BEGIN CERTIFICATE----- blocks); keep private keys out of it.",
        )
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
    _validated[data] = tuple(out)
    return out


def fingerprint(path: Path, *, origin: str = "--ca-bundle") -> str:
    """SHA-256 over the bundle's certificates (DER): its name in the trust store, so two CAs never share one.

    Validates the bundle as ``pem_certificates`` does. The verdict is kept (``provision.memo``)
    under the SHA-256 of the file's bytes: a corporate bundle of a hundred certificates is
    decoded once, not on every run. Only a bundle that passed is kept; certificates are public.
    """
    try:
        data = path.read_bytes()
    except OSError:
        data = b""  # pem_certificates words the error
    key = f"ca-{hashlib.sha256(data).hexdigest()}.json" if data else ""
    kept = memo.read(key) if key else None
    if isinstance(kept, dict) and isinstance(kept.get("fingerprint"), str):
        return kept["fingerprint"]
    h = hashlib.sha256()
    for der in pem_certificates(path, origin=origin):
        h.update(der)
    if key:
        memo.keep(key, {"fingerprint": h.hexdigest()})
    return h.hexdigest()
