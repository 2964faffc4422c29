"""Is TLS to the package index intercepted? Verify against a trust; on failure, say by whom.

``probe(host, port)`` first connects with full verification (hostname and chain)
against the default trust, or against ``cafile`` when given. Only if that fails with a
certificate error does it connect a second time to *read* the certificate presented,
so the report can name its issuer (typically a corporate TLS-inspection CA).

That second handshake is not "turning verification off": it sends no request and no
data at all (the socket is closed right after the handshake), nothing received over
it is used except the issuer's name for the message, and the verdict stays "failed".
It is the equivalent of looking at the certificate in a browser's warning page.
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import ssl
import tempfile
from dataclasses import dataclass
from urllib.parse import urlparse

OID_NAMES = {"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
             "1.2.840.113549.1.9.1": "emailAddress"}


@dataclass(frozen=True)
class TLSResult:
    verified: bool
    error: str | None = None  # why it failed (verification or connection)
    cert_error: bool = False  # True: the failure is about the certificate (not the network)
    issuer: str | None = None  # "CN=..., O=..." of the presented leaf's issuer
    subject: str | None = None


# ----------------------------------------------------------------------------- DER


def _tlv(data: bytes, i: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the DER element at ``i``."""
    tag = data[i]
    n = data[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[i:i + k], "big")
        i += k
    return tag, i, i + n


def _oid(raw: bytes) -> str:
    arcs = [raw[0] // 40, raw[0] % 40]
    v = 0
    for b in raw[1:]:
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(v)
            v = 0
    return ".".join(map(str, arcs))


def _string(tag: int, raw: bytes) -> str:
    if tag == 0x1E:
        return raw.decode("utf-16-be", "replace")
    if tag == 0x1C:
        return raw.decode("utf-32-be", "replace")
    return raw.decode("utf-8", "replace") if tag == 0x0C else raw.decode("latin-1")


def _name(data: bytes, start: int, end: int) -> list[tuple[str, str]]:
    out = []
    i = start
    while i < end:  # SET (RDN)
        _, s, e = _tlv(data, i)
        j = s
        while j < e:  # SEQUENCE {OID, value}
            _, s2, e2 = _tlv(data, j)
            _, os_, oe = _tlv(data, s2)
            vtag, vs, ve = _tlv(data, oe)
            oid = _oid(data[os_:oe])
            out.append((OID_NAMES.get(oid, oid), _string(vtag, data[vs:ve])))
            j = e2
        i = e
    return out


def der_names(der: bytes) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(issuer, subject) of an X.509 certificate in DER, read directly."""
    _, cs, _ = _tlv(der, 0)  # Certificate
    _, ts, _ = _tlv(der, cs)  # TBSCertificate
    i = ts
    tag, _, e = _tlv(der, i)
    if tag == 0xA0:  # [0] version
        i = e
    for _ in range(2):  # serialNumber, signature AlgorithmIdentifier
        _, _, i = _tlv(der, i)
    _, s, e = _tlv(der, i)
    issuer = _name(der, s, e)
    _, _, i = _tlv(der, e)  # validity
    _, s, e = _tlv(der, i)
    return issuer, _name(der, s, e)


def _fmt(name: list[tuple[str, str]] | tuple) -> str:
    return ", ".join(f"{k}={v}" for k, v in name)


def _decode_with_ssl(der: bytes) -> tuple[str | None, str | None]:
    """Fallback: CPython's private test decoder (needs a PEM file)."""
    pem = "-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der).decode() + "-----END CERTIFICATE-----\n"
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(pem)
        info = ssl._ssl._test_decode_cert(path)  # type: ignore[attr-defined]
    except Exception:
        return None, None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)

    def flat(rdns: tuple) -> str:
        short = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU", "countryName": "C",
                 "localityName": "L", "stateOrProvinceName": "ST"}
        return ", ".join(f"{short.get(k, k)}={v}" for rdn in rdns for k, v in rdn)

    return flat(info.get("issuer", ())), flat(info.get("subject", ()))


def describe(der: bytes) -> tuple[str | None, str | None]:
    """(issuer, subject) as text; own DER reader first, CPython's decoder as fallback."""
    try:
        issuer, subject = der_names(der)
        return _fmt(issuer), _fmt(subject)
    except (IndexError, ValueError, UnicodeError):
        return _decode_with_ssl(der)


# ----------------------------------------------------------------------------- connect


def _open(host: str, port: int, timeout: float, proxy: str | None) -> socket.socket:
    """A TCP connection to host:port, directly or through an HTTP proxy's CONNECT."""
    if not proxy:
        return socket.create_connection((host, port), timeout=timeout)
    p = urlparse(proxy if "://" in proxy else f"http://{proxy}")
    sock = socket.create_connection((p.hostname or "", p.port or 8080), timeout=timeout)
    sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    reply = b""
    while b"\r\n\r\n" not in reply and len(reply) < 65536:
        chunk = sock.recv(4096)
        if not chunk:
            break
        reply += chunk
    status = reply.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    if " 200" not in status:
        sock.close()
        raise OSError(f"proxy refused CONNECT: {status or 'no answer'}")
    return sock


def probe(host: str, port: int = 443, *, cafile: str | None = None, timeout: float = 5.0, proxy: str | None = None,
          connect_host: str | None = None) -> TLSResult:
    """Verify TLS to host:port; on a certificate failure, name the presented issuer.

    ``connect_host`` lets a test connect to 127.0.0.1 while checking ``host``'s name.
    """
    where = connect_host or host
    ctx = ssl.create_default_context(cafile=cafile)
    try:
        with _open(where, port, timeout, proxy) as raw, ctx.wrap_socket(raw, server_hostname=host) as s:
            der = s.getpeercert(binary_form=True) or b""
            issuer, subject = describe(der) if der else (None, None)
            return TLSResult(True, issuer=issuer, subject=subject)
    except ssl.SSLCertVerificationError as e:
        error = e.verify_message or str(e)
    except ssl.SSLError as e:
        return TLSResult(False, f"TLS handshake failed: {e}", cert_error=False)
    except OSError as e:
        return TLSResult(False, f"cannot connect to {host}:{port}: {e}", cert_error=False)
    # Verification failed. Look at what was presented, to name the issuer in the report:
    # handshake only, no request, nothing sent or trusted (see the module docstring).
    look = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    look.check_hostname = False
    look.verify_mode = ssl.CERT_NONE
    try:
        with _open(where, port, timeout, proxy) as raw, look.wrap_socket(raw, server_hostname=host) as s:
            der = s.getpeercert(binary_form=True) or b""
    except (OSError, ssl.SSLError):
        der = b""
    issuer, subject = describe(der) if der else (None, None)
    return TLSResult(False, error, cert_error=True, issuer=issuer, subject=subject)
