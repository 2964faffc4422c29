"""The SSH side: Fabric installed on first use, a connection that enforces known_hosts, and
one clear line for every way connecting can fail.

Fabric and paramiko are imported lazily (inside functions): the rest of the kit, and
``--help``, work without them.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any, Callable, TextIO

from ..errors import ProvisionError
from ..paths import REPO
from .commands import RemoteOptions
from .hosts import DEFAULT_CONNECT_TIMEOUT, Host
from .results import last_words

REQUIREMENTS = REPO / "requirements-remote.txt"


class HostKeyUnknown(Exception):
    """Raised by the host-key policy instead of accepting an unknown key silently."""

    def __init__(self, hostname: str, port: int, key_type: str, fingerprint: str) -> None:
        self.hostname, self.port, self.key_type, self.fingerprint = hostname, port, key_type, fingerprint
        super().__init__(f"{hostname}:{port} {key_type} {fingerprint}")


def fingerprint(key: Any) -> str:
    """OpenSSH's SHA256 fingerprint of a paramiko key (public data only)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def known_hosts_name(hostname: str, port: int) -> str:
    """How known_hosts (and ``ssh-keygen -R``) names a host: ``[host]:port`` unless the port is 22."""
    return hostname if port == 22 else f"[{hostname}]:{port}"


def classify_error(exc: BaseException, *, host: str, hostname: str, port: int, user: str | None, keys: Sequence[str] = (),
                   timeout: float = DEFAULT_CONNECT_TIMEOUT) -> str:
    """One clear line for a failure to connect (never a secret: key paths only, no contents)."""
    name = type(exc).__name__
    where = f"{hostname}:{port}"
    if isinstance(exc, HostKeyUnknown):
        kh = known_hosts_name(hostname, port)
        return (f"host key unknown: {where} offered {exc.key_type} {exc.fingerprint}, which is not in known_hosts. "
                f"Check the fingerprint, then accept it: ssh-keyscan -p {port} {hostname} >> ~/.ssh/known_hosts "
                f"(or connect once with ssh -p {port} {hostname}), or rerun with --accept-new-host-keys; "
                f"nothing is accepted silently ({kh}).")
    if name == "BadHostKeyException":
        return (f"host key CHANGED for {where}: the key it offers differs from the one in known_hosts (a reinstalled host, "
                f"or someone in the middle). If the change is expected: ssh-keygen -R '{known_hosts_name(hostname, port)}', "
                f"then accept the new key.")
    if name == "PasswordRequiredException":
        return (f"authentication for {user or '(default user)'}@{where}: a private key is encrypted with a passphrase; "
                f"load it into ssh-agent (ssh-add {keys[0] if keys else 'KEY'}) and retry (passphrases are never asked for here).")
    if name in ("AuthenticationException", "BadAuthenticationType", "PartialAuthentication"):
        tried = ", ".join(keys) if keys else "ssh-agent and the default keys (~/.ssh/id_*)"
        allowed = getattr(exc, "allowed_types", None)
        methods = f"; the server accepts: {', '.join(allowed)}" if allowed else ""
        return (f"authentication refused for user {user or '(default user)'} at {where} (keys tried: {tried}{methods}). "
                f"Give the right key with --identity PATH or in the SSH config, and check ~/.ssh/authorized_keys on the host.")
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name {hostname!r} (DNS: {exc.strerror or exc}). Check the name, or its HostName in the SSH config."
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"timed out connecting to {where} after {timeout:g}s (host down, or a firewall drops SSH)."
    if name == "NoValidConnectionsError":
        errors = getattr(exc, "errors", {}) or {}
        codes = {getattr(e, "errno", None) for e in errors.values()}
        if codes and codes <= {errno.ECONNREFUSED}:
            return f"connection refused by {where}: nothing listens for SSH there (sshd stopped, or another port)."
        if codes & {errno.EHOSTUNREACH, errno.ENETUNREACH}:
            return f"no route to {where} (host down, or the network unreachable)."
        return f"cannot connect to {where}: {exc}."
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where}: nothing listens for SSH there (sshd stopped, or another port)."
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return f"no route to {where} (host down, or the network unreachable)."
    if isinstance(exc, (ConnectionResetError, EOFError)):
        return f"the connection to {where} was closed by the host ({name})."
    text = str(exc).strip() or name
    if "banner" in text.lower():
        return f"{where} does not speak SSH ({text})."
    if name == "SSHException":
        return f"SSH error with {where}: {text}."
    return f"{name} with {where}: {text}"


# --------------------------------------------------------------------------- Fabric


def _run_pip(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def ensure_fabric(ca_bundle: str | None = None, out: TextIO | None = None, *,
                  pip: Callable[[list[str]], subprocess.CompletedProcess[str]] = _run_pip) -> None:
    """Install ``requirements-remote.txt`` into the kit's tool venv the first time it is needed.

    ``pip`` runs the install (a fake in the tests: no network, nothing installed).
    """
    try:
        import fabric  # noqa: F401
        import paramiko  # noqa: F401

        return
    except ImportError:
        pass
    out = out or sys.stderr
    if sys.prefix == sys.base_prefix:
        raise ProvisionError("Fabric is not installed and this interpreter is not the kit's tool venv (PEP 668: nothing goes into the system Python).",
                             "Run it through stage 0: ./bootstrap remote ...")
    print(f"provision: installing Fabric for remote runs into the kit's tool venv ({REQUIREMENTS.name}), once", file=out, flush=True)
    from ..machine.pyprobe import pip_command

    # stage 0 builds the tool venv without pip of its own: pip then runs from ensurepip's wheel
    argv = [*(pip_command() or [sys.executable, "-m", "pip"]), "install", "--disable-pip-version-check", "--no-input", "--quiet",
            "--prefer-binary", "-r", str(REQUIREMENTS)]
    ca = ca_bundle or os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE")
    if ca:
        argv += ["--cert", ca]
    done = pip(argv)
    if done.returncode != 0:
        raise ProvisionError(f"installing Fabric ({REQUIREMENTS.name}) into {sys.prefix} failed: {last_words(done.stderr + done.stdout)}",
                             "Behind a TLS-inspecting proxy add --ca-bundle /path/to/corporate-ca.pem; check the network to the package index.")
    import importlib

    importlib.invalidate_caches()
    try:
        import fabric  # noqa: F401,F811
    except ImportError as e:
        raise ProvisionError(f"Fabric was installed but cannot be imported: {e}.",
                             f"Rebuild the tool venv: rm -rf {sys.prefix} && ./bootstrap remote ...") from None


_KNOWN_HOSTS_LOCK = threading.Lock()


def host_key_policy(accept_new: bool, known_hosts: str, notice: Callable[[str], None]) -> Any:
    """paramiko's policy for a key not in known_hosts: refuse (HostKeyUnknown), or with
    ``--accept-new-host-keys`` record it in ``known_hosts`` and say so."""
    import paramiko

    class Policy(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
            name = hostname
            port = 22
            m = re.match(r"^\[(.*)\]:(\d+)$", hostname)
            if m:
                name, port = m.group(1), int(m.group(2))
            if not accept_new:
                raise HostKeyUnknown(name, port, key.get_name(), fingerprint(key))
            client.get_host_keys().add(hostname, key.get_name(), key)
            with _KNOWN_HOSTS_LOCK:
                path = os.path.expanduser(known_hosts)
                os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
                with open(path, "a", encoding="utf-8") as f:
                    f.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")
            notice(f"accepted the new host key {key.get_name()} {fingerprint(key)} (added to {known_hosts})")

    return Policy()


def connection(host: Host, options: RemoteOptions, notice: Callable[[str], None]) -> Any:
    """A Fabric Connection with known_hosts enforced (Fabric alone would auto-accept any key)."""
    import fabric

    config = fabric.Config(runtime_ssh_path=options.ssh_config) if options.ssh_config else fabric.Config()
    kwargs: dict[str, Any] = {}
    if options.identity:
        kwargs["key_filename"] = [os.path.expanduser(options.identity)]
    conn = fabric.Connection(host.host, user=host.user, port=host.port, config=config, connect_timeout=options.connect_timeout,
                             connect_kwargs=kwargs)
    client = conn.client
    files = conn.ssh_config.get("userknownhostsfile")
    files = files.split() if isinstance(files, str) else list(files or [])
    if not files:
        files = ["~/.ssh/known_hosts"]
    for system in ("/etc/ssh/ssh_known_hosts",):
        if os.path.isfile(system):
            client.load_system_host_keys(system)
    for f in files:
        path = os.path.expanduser(f)
        if os.path.isfile(path):
            client.load_system_host_keys(path)
    client.set_missing_host_key_policy(host_key_policy(options.accept_new_host_keys, files[0], notice))
    return conn
