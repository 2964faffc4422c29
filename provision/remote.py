"""The same provisioning run on many hosts over SSH, in parallel, with a recap per host.

For each host: connect (Fabric ``Connection``, which is an invoke ``Context``), push the
kit (a tarball of the tracked working tree, over SFTP) unless ``--no-push``, copy the CA
bundle across, run stage 0 (``./bootstrap --version`` builds the kit's tool venv there),
then ``./bootstrap --yes --json ...``, whose JSON recap comes back on stdout.

Everything that can be decided without a network is a pure function here (host
parsing, inventory, tarball members, remote command lines, error messages, the
aggregation of results), so it is tested as tables. Fabric is imported lazily: it is
installed into the kit's tool venv on first use (``requirements-remote.txt``).

Secrets never reach the output or the logs: no password or passphrase is ever taken,
and only key *paths* and host-key *fingerprints* are named in messages.
"""

from __future__ import annotations

import base64
import concurrent.futures
import errno
import hashlib
import io
import ipaddress
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

from .errors import ConfigError, ProvisionError
from .paths import REPO

REQUIREMENTS = REPO / "requirements-remote.txt"

#: Never pushed: VCS data, local venvs, caches, Vagrant state.
EXCLUDES = (".git", ".venv", ".tools", "__pycache__", ".vagrant")
#: Kept on the remote host when a new kit replaces the old one (its tool venv, the
#: project venv): replacing them would make every run start from scratch.
PRESERVED = (".tools", ".venv", ".vagrant")
DEFAULT_REMOTE_PATH = "~/.cache/provision/kit"
#: Where ``--ca-bundle`` is copied on the remote host.
REMOTE_CA_PATH = "~/.cache/provision/ca-bundle.pem"
MAX_PARALLEL = 8
DEFAULT_CONNECT_TIMEOUT = 15.0

_NAME = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?$")
_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*\$?$")


# --------------------------------------------------------------------------- hosts


@dataclass(frozen=True)
class Host:
    """One target: ``[user@]host[:port]``; ``host`` may be an alias of the SSH config."""

    host: str
    user: str | None = None
    port: int | None = None

    @property
    def label(self) -> str:
        """How the host is named in progress lines, the recap and the JSON."""
        name = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port is not None else ""
        return f"{user}{name}{port}"

    def __str__(self) -> str:
        return self.label


def parse_host(text: str, *, where: str = "") -> Host:
    """Parse ``[user@]host[:port]``; IPv6 addresses go in brackets: ``[::1]:2222``."""
    spec = text.strip()

    def bad(problem: str, fix: str = "") -> ConfigError:
        return ConfigError(f"bad host {text!r}: {problem}.", fix or "Write hosts as [user@]host[:port], e.g. dev@build1:2222 or [::1]:22.",
                           where=where)

    if not spec:
        raise bad("it is empty")
    if any(c.isspace() for c in spec):
        raise bad("it contains blanks", "Separate hosts with commas in --hosts, or one per line in an inventory.")
    user: str | None = None
    if "@" in spec:
        user, _, spec = spec.rpartition("@")
        if not user:
            raise bad("the user before '@' is empty")
        if not _USER.match(user):
            raise bad(f"{user!r} is not a valid user name")
    port_text: str | None = None
    if spec.startswith("["):
        end = spec.find("]")
        if end < 0:
            raise bad("the '[' of an IPv6 address is not closed")
        name, rest = spec[1:end], spec[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise bad(f"unexpected {rest!r} after ']'")
            port_text = rest[1:]
        try:
            ipaddress.IPv6Address(name.split("%", 1)[0])
        except ValueError:
            raise bad(f"{name!r} is not an IPv6 address", "Brackets are only for IPv6 addresses: [2001:db8::1]:22.") from None
    elif spec.count(":") > 1:
        raise bad("an IPv6 address needs brackets", f"Write it as [{spec}] or [{spec}]:22.")
    else:
        name, sep, port_text_ = spec.partition(":")
        port_text = port_text_ if sep else None
        if not name:
            raise bad("the host name is empty")
        if not _NAME.match(name):
            raise bad(f"{name!r} is not a valid host name or address")
    port: int | None = None
    if port_text is not None:
        if not port_text.isdigit():
            raise bad(f"the port {port_text!r} is not a number")
        port = int(port_text)
        if not 1 <= port <= 65535:
            raise bad(f"the port {port} is not between 1 and 65535")
    return Host(name, user, port)


def parse_hosts(text: str) -> list[Host]:
    """``--hosts``: comma-separated host strings."""
    parts = [p for p in text.split(",")]
    if not any(p.strip() for p in parts):
        raise ConfigError("--hosts is empty.", "Give at least one host: --hosts dev@build1,build2:2222")
    return [parse_host(p, where="--hosts") for p in parts if p.strip()]


def parse_inventory(text: str, source: str = "inventory") -> list[Host]:
    """One host per line; ``#`` starts a comment; blank lines are skipped."""
    hosts = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if line:
            hosts.append(parse_host(line, where=f"{source}:{number}"))
    return hosts


def read_inventory(path: str) -> list[Host]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read the inventory {path}: {e.strerror or e}.", "Give a file with one host per line.") from None
    hosts = parse_inventory(text, path)
    if not hosts:
        raise ConfigError(f"the inventory {path} lists no host.", "Write one host per line: [user@]host[:port].")
    return hosts


def collect_hosts(hosts: str | None, inventory: str | None) -> list[Host]:
    """Hosts from ``--hosts`` and ``--inventory`` together; a host named twice is an error."""
    found: list[Host] = []
    if hosts:
        found += parse_hosts(hosts)
    if inventory:
        found += read_inventory(inventory)
    if not found:
        raise ConfigError("no hosts given.", "Use --hosts user@h1,h2:2222 or --inventory FILE (one host per line).")
    seen: set[str] = set()
    for h in found:
        if h.label in seen:
            raise ConfigError(f"the host {h.label} is listed twice.", "Name each host once.")
        seen.add(h.label)
    return found


def parallelism(requested: int | str | None, hosts: int) -> int:
    """``--parallel``: default the number of hosts, at most 8."""
    if requested in (None, "", 0, "0"):
        return max(1, min(hosts, MAX_PARALLEL))
    try:
        n = int(requested)  # type: ignore[arg-type]
    except ValueError:
        raise ConfigError(f"--parallel {requested!r} is not a number.", "Give how many hosts to run at once, e.g. --parallel 4.") from None
    if n < 1:
        raise ConfigError(f"--parallel {n} must be at least 1.")
    return min(n, hosts)


def parse_timeout(value: str | float | None) -> float:
    """``--connect-timeout``: seconds, default 15."""
    if value in (None, ""):
        return DEFAULT_CONNECT_TIMEOUT
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except ValueError:
        raise ConfigError(f"--connect-timeout {value!r} is not a number of seconds.", "E.g. --connect-timeout 30.") from None
    if not 0 < seconds <= 3600:
        raise ConfigError(f"--connect-timeout {value} must be more than 0 and at most 3600 seconds.")
    return seconds


# --------------------------------------------------------------------------- the kit tarball


def _excluded(rel: str) -> bool:
    return any(part in EXCLUDES for part in Path(rel).parts)


def kit_files(repo: Path = REPO) -> list[str]:
    """The files of the kit to push: what git tracks (as in the working tree), minus EXCLUDES.

    Without git metadata (an exported copy), every file under ``repo`` minus EXCLUDES.
    Tracked files deleted in the working tree are skipped.
    """
    if (repo / ".git").exists():
        try:
            out = subprocess.run(["git", "-C", str(repo), "ls-files", "-z", "--cached"], capture_output=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError) as e:
            detail = getattr(e, "stderr", b"") or b""
            raise ProvisionError(f"cannot list the kit's tracked files with git: {detail.decode(errors='replace').strip() or e}.",
                                 "Install git, or push an exported copy of the kit.") from None
        names = [n for n in out.decode("utf-8", "surrogateescape").split("\0") if n]
        return sorted(n for n in dict.fromkeys(names) if not _excluded(n) and ((repo / n).is_file() or (repo / n).is_symlink()))
    files = []
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDES)
        for f in filenames:
            rel = os.path.relpath(os.path.join(dirpath, f), repo)
            if not _excluded(rel) and not f.endswith(".pyc"):
                files.append(Path(rel).as_posix())
    return sorted(files)


def build_tarball(repo: Path = REPO, files: Sequence[str] | None = None) -> bytes:
    """A gzip tarball of the kit's files, with neutral owners (unpacked as the remote user)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for rel in files if files is not None else kit_files(repo):
            info = tar.gettarinfo(str(repo / rel), arcname=rel)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if info.isreg():
                with open(repo / rel, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    return buf.getvalue()


# --------------------------------------------------------------------------- remote command lines


@dataclass(frozen=True)
class RemoteOptions:
    """What every host gets: the options of ``remote`` that are passed on to ``bootstrap``."""

    remote_path: str = DEFAULT_REMOTE_PATH
    push: bool = True
    dry_run: bool = False
    ca_bundle: str | None = None  # local path; copied to REMOTE_CA_PATH
    project: str | None = None  # a path on the remote host
    ssh_config: str | None = None
    identity: str | None = None
    accept_new_host_keys: bool = False
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT


def expand_home(path: str, home: str) -> str:
    """``~`` and ``~/x`` against the remote user's home; relative paths are relative to it too."""
    if path == "~":
        return home.rstrip("/") or "/"
    if path.startswith("~/"):
        return home.rstrip("/") + "/" + path[2:]
    if not path.startswith("/"):
        return home.rstrip("/") + "/" + path
    return path


def bootstrap_argv(options: RemoteOptions, *, remote_ca: str | None, project: str | None) -> list[str]:
    """The arguments of the remote ``./bootstrap``: always --yes --json, then the passed-on options."""
    argv = ["sh", "./bootstrap", "--yes", "--json"]
    if options.dry_run:
        argv.append("--dry-run")
    if remote_ca:
        argv += ["--ca-bundle", remote_ca]
    if project:
        argv += ["--project", project]
    return argv


def stage0_argv() -> list[str]:
    """Stage 0 alone: builds the tool venv, then ``invoke --version`` (changes nothing else)."""
    return ["sh", "./bootstrap", "--version"]


def shell_line(kit: str, argv: Sequence[str], env: dict[str, str] | None = None) -> str:
    """``cd KIT && [VAR=value ...] argv`` for the remote shell, every word quoted."""
    assigns = [f"{k}={shlex.quote(v)}" for k, v in (env or {}).items()]
    return f"cd -- {shlex.quote(kit)} && " + " ".join([*assigns, shlex.join(argv)])


def unpack_line(kit: str, tarball: str) -> str:
    """Replace the kit at ``kit`` with the uploaded tarball, keeping its venvs (``PRESERVED``)."""
    k, t, new, old = (shlex.quote(p) for p in (kit, tarball, kit + ".new", kit + ".old"))
    keep = " ".join(shlex.quote(p) for p in PRESERVED)
    return (
        f"set -e; rm -rf {new} {old}; mkdir -p {new}; tar -xzf {t} -C {new}; "
        f"for d in {keep}; do if [ -e {k}/\"$d\" ]; then mv {k}/\"$d\" {new}/\"$d\"; fi; done; "
        f"if [ -e {k} ]; then mv {k} {old}; fi; mv {new} {k}; rm -rf {old} {t}"
    )


# --------------------------------------------------------------------------- results


RECAP_KEYS = ("ok", "changed", "failed", "skipped")


@dataclass
class HostResult:
    host: str
    status: str  # ok | changed | failed
    recap: dict[str, int] | None = None
    error: str | None = None
    duration: float = 0.0
    log: str | None = None
    remote_log: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "recap": self.recap, "error": self.error, "duration": round(self.duration, 3),
                "log": self.log, "remote_log": self.remote_log}

    def recap_line(self) -> str:
        if self.recap is None:
            return f"{self.host}: FAILED: {self.error}"
        counts = " ".join(f"{k}={self.recap.get(k, 0)}" for k in RECAP_KEYS)
        tail = f"  ({self.error})" if self.error else ""
        return f"{self.host}: recap: {counts}{tail}"


def status_of(recap: dict[str, int] | None, error: str | None) -> str:
    if error or recap is None or recap.get("failed", 0):
        return "failed"
    return "changed" if recap.get("changed", 0) else "ok"


def parse_bootstrap_json(stdout: str) -> dict[str, Any] | None:
    """The JSON document ``./bootstrap --json`` printed (the whole stdout, or its last object)."""
    text = stdout.strip()
    if not text:
        return None
    candidates = [text]
    starts = [m.start() for m in re.finditer(r"^\{", text, re.M)]
    candidates += [text[s:] for s in reversed(starts)]
    for c in candidates:
        try:
            data = json.loads(c)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None


def result_from_bootstrap(host: str, exited: int, stdout: str, stderr: str, duration: float) -> HostResult:
    """A host's result from its remote bootstrap: the recap from JSON, else why it failed."""
    data = parse_bootstrap_json(stdout)
    recap = None
    error = None
    remote_log = None
    if data is not None and isinstance(data.get("recap"), dict):
        recap = {k: int(data["recap"].get(k, 0)) for k in RECAP_KEYS}
        remote_log = data.get("log")
        if recap["failed"]:
            failed = [s for s in data.get("steps", []) if isinstance(s, dict) and s.get("status") == "failed"]
            if failed:
                first = failed[0]
                why = (first.get("error") or first.get("reason") or "").strip().splitlines()
                error = f"step {first.get('title') or first.get('name')} failed" + (f": {why[-1]}" if why else "")
            else:
                error = "a step failed"
        elif exited:
            error = f"bootstrap exited {exited}"
    else:
        error = f"bootstrap exited {exited} without a recap: {last_words(stderr or stdout)}"
    return HostResult(host, status_of(recap, error), recap, error, duration, remote_log=remote_log)


def last_words(output: str, limit: int = 300) -> str:
    """The last meaningful line of some output, for a one-line error."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    picked = [ln for ln in lines if ln.startswith(("bootstrap:", "provision:", "ERROR", "E: ")) or "rror" in ln]
    line = (picked or lines or ["(no output)"])[-1]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def aggregate(results: Sequence[HostResult], wall: float) -> dict[str, Any]:
    """The ``--json`` document: every host's result and the total."""
    summed = {k: sum((r.recap or {}).get(k, 0) for r in results) for k in RECAP_KEYS}
    failed = [r.host for r in results if r.status == "failed"]
    return {
        "hosts": {r.host: r.to_json() for r in results},
        "total": {
            "hosts": len(results),
            "succeeded": len(results) - len(failed),
            "failed": len(failed),
            "failed_hosts": failed,
            "recap": summed,
            "duration": round(wall, 3),
        },
    }


def total_line(results: Sequence[HostResult], wall: float) -> str:
    doc = aggregate(results, wall)["total"]
    counts = " ".join(f"{k}={doc['recap'][k]}" for k in RECAP_KEYS)
    failed = f" ({', '.join(doc['failed_hosts'])})" if doc["failed_hosts"] else ""
    return (f"total: {doc['hosts']} host{'s' if doc['hosts'] != 1 else ''}, {doc['succeeded']} succeeded, "
            f"{doc['failed']} failed{failed} in {wall:.0f}s; {counts}")


# --------------------------------------------------------------------------- connection errors


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


def ensure_fabric(ca_bundle: str | None = None, out: TextIO | None = None) -> None:
    """Install ``requirements-remote.txt`` into the kit's tool venv the first time it is needed."""
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
    from .machine.pyprobe import pip_command

    # stage 0 builds the tool venv without pip of its own: pip then runs from ensurepip's wheel
    argv = [*(pip_command() or [sys.executable, "-m", "pip"]), "install", "--disable-pip-version-check", "--no-input", "--quiet",
            "--prefer-binary", "-r", str(REQUIREMENTS)]
    ca = ca_bundle or os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE")
    if ca:
        argv += ["--cert", ca]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
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


def _host_key_policy(accept_new: bool, known_hosts: str, notice: Callable[[str], None]) -> Any:
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
    client.set_missing_host_key_policy(_host_key_policy(options.accept_new_host_keys, files[0], notice))
    return conn


# --------------------------------------------------------------------------- one host


class _Failed(Exception):
    pass


@dataclass
class HostRun:
    """One host's run: connect, push, stage 0, bootstrap; never raises, returns a HostResult."""

    host: Host
    options: RemoteOptions
    tarball: bytes | None
    say: Callable[[str], None]
    log_dir: str | None = None
    _log: TextIO | None = field(default=None, repr=False)

    def log(self, text: str) -> None:
        if self._log:
            self._log.write(text if text.endswith("\n") else text + "\n")
            self._log.flush()

    def run_remote(self, conn: Any, line: str, phase: str) -> Any:
        self.log(f"\n$ {line}")
        result = conn.run(line, warn=True, hide=True, in_stream=False, pty=False)
        self.log((result.stdout or "") + (result.stderr or "") + f"[exit {result.exited}]")
        return result

    def __call__(self) -> HostResult:
        started = time.monotonic()
        label = self.host.label
        log_path = None
        if self.log_dir:
            os.makedirs(self.log_dir, exist_ok=True)
            log_path = os.path.join(self.log_dir, re.sub(r"[^A-Za-z0-9@._-]+", "_", label) + ".log")
            self._log = open(log_path, "w", encoding="utf-8", errors="replace")  # noqa: SIM115 - closed below
        try:
            result = self._run(started)
        except Exception as e:  # a bug or an unforeseen failure: still a result, never a crash of the others
            result = HostResult(label, "failed", None, f"{type(e).__name__}: {e}", time.monotonic() - started)
        finally:
            if self._log:
                self._log.close()
                self._log = None
        result.log = log_path
        result.duration = time.monotonic() - started
        self.say(f"{label}: done in {result.duration:.0f}s ({result.status})")
        return result

    def _run(self, started: float) -> HostResult:
        label = self.host.label
        opts = self.options
        self.say(f"{label}: started")
        conn = connection(self.host, opts, lambda msg: self.say(f"{label}: {msg}"))
        try:
            try:
                conn.open()
            except Exception as e:
                keys = [opts.identity] if opts.identity else list(conn.connect_kwargs.get("key_filename") or [])
                msg = classify_error(e, host=label, hostname=conn.host, port=conn.port, user=conn.user, keys=keys, timeout=opts.connect_timeout)
                self.log(f"connect: {msg}")
                return HostResult(label, "failed", None, msg, time.monotonic() - started)
            self.log(f"connected to {conn.user}@{conn.host}:{conn.port}")
            sftp = conn.sftp()
            home = sftp.normalize(".")
            kit = expand_home(opts.remote_path, home)
            remote_ca = expand_home(REMOTE_CA_PATH, home) if opts.ca_bundle else None
            parents = [os.path.dirname(p) or "/" for p in ([remote_ca] if remote_ca else []) + ([kit.rstrip("/")] if opts.push else [])]
            if parents:
                r = self.run_remote(conn, "mkdir -p -- " + shlex.join(dict.fromkeys(parents)), "mkdir")
                if r.exited:
                    raise _Failed(f"cannot create {', '.join(dict.fromkeys(parents))}: {last_words(r.stderr)}")
            if opts.ca_bundle and remote_ca:
                sftp.put(os.path.expanduser(opts.ca_bundle), remote_ca)
                sftp.chmod(remote_ca, 0o644)
            if opts.push:
                self.say(f"{label}: pushing the kit to {kit}")
                assert self.tarball is not None
                upload = kit.rstrip("/") + ".upload.tar.gz"
                sftp.putfo(io.BytesIO(self.tarball), upload)
                r = self.run_remote(conn, unpack_line(kit, upload), "push")
                if r.exited:
                    raise _Failed(f"unpacking the kit into {kit} failed: {last_words(r.stderr + r.stdout)}")
            else:
                r = self.run_remote(conn, f"test -f {shlex.quote(kit.rstrip('/') + '/bootstrap')}", "check")
                if r.exited:
                    raise _Failed(f"--no-push: no kit at {kit} (no bootstrap file there). Push it (drop --no-push) or give --remote-path of a checkout.")
            env = {"PIP_CERT": remote_ca} if remote_ca else {}
            self.say(f"{label}: stage 0")
            r = self.run_remote(conn, shell_line(kit, stage0_argv(), env), "stage 0")
            if r.exited:
                raise _Failed(f"stage 0 failed: {last_words(r.stderr + r.stdout)}")
            self.say(f"{label}: bootstrap{' (dry run)' if opts.dry_run else ''}")
            project = expand_home(opts.project, home) if opts.project else None
            bs_started = time.monotonic()
            r = self.run_remote(conn, shell_line(kit, bootstrap_argv(opts, remote_ca=remote_ca, project=project)), "bootstrap")
            return result_from_bootstrap(label, r.exited, r.stdout or "", r.stderr or "", time.monotonic() - bs_started)
        except _Failed as e:
            self.log(str(e))
            return HostResult(label, "failed", None, str(e), time.monotonic() - started)
        except Exception as e:  # the connection broke mid-run, an SFTP error, ...
            msg = classify_error(e, host=label, hostname=conn.host, port=conn.port, user=conn.user, timeout=opts.connect_timeout)
            self.log(msg)
            return HostResult(label, "failed", None, msg, time.monotonic() - started)
        finally:
            conn.close()


# --------------------------------------------------------------------------- the driver


def log_dir() -> str:
    import platformdirs

    stamp = time.strftime("%Y%m%d-%H%M%S")
    return os.path.join(platformdirs.user_log_dir("provision"), f"remote-{stamp}-{os.getpid()}")


def run_hosts(hosts: Sequence[Host], options: RemoteOptions, *, parallel: int, say: Callable[[str], None],
              logs: str | None = None, repo: Path = REPO) -> list[HostResult]:
    """Run every host, ``parallel`` at a time; results in the order the hosts were given."""
    tarball = build_tarball(repo) if options.push else None
    if tarball is not None:
        say(f"kit: {len(tarball) // 1024} KiB tarball of the tracked files of {repo}")
    runs = [HostRun(h, options, tarball, say, logs) for h in hosts]
    with concurrent.futures.ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="remote") as pool:
        futures = [pool.submit(r) for r in runs]
        return [f.result() for f in futures]


def _printer(stream: TextIO) -> Callable[[str], None]:
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            stream.write(line + "\n")
            stream.flush()

    return say


def remote(
    *,
    hosts: str | None,
    inventory: str | None,
    parallel: int | str | None = None,
    options: RemoteOptions,
    as_json: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> tuple[int, list[HostResult]]:
    """The ``remote`` task: validate everything, run all hosts, print the recap. Returns (exit code, results)."""
    out = out or sys.stdout
    err = err or sys.stderr
    targets = collect_hosts(hosts, inventory)
    n = parallelism(parallel, len(targets))
    if options.ca_bundle and not os.path.isfile(os.path.expanduser(options.ca_bundle)):
        raise ConfigError(f"the CA bundle {options.ca_bundle} is not a readable file.", "Give the path of your organisation's CA certificate in PEM form.",
                          where="--ca-bundle")
    for name, path in (("--ssh-config", options.ssh_config), ("--identity", options.identity)):
        if path and not os.path.isfile(os.path.expanduser(path)):
            raise ConfigError(f"{path} is not a file.", where=name)
    if not options.remote_path.strip():
        raise ConfigError("--remote-path is empty.", f"Leave it out for the default {DEFAULT_REMOTE_PATH}.")
    ensure_fabric(options.ca_bundle, err)
    say = _printer(err)
    logs = log_dir()
    started = time.monotonic()
    say(f"remote: {len(targets)} host{'s' if len(targets) != 1 else ''}, {n} at a time; logs in {logs}")
    results = run_hosts(targets, options, parallel=n, say=say, logs=logs)
    wall = time.monotonic() - started
    human = err if as_json else out
    for r in results:
        print(r.recap_line(), file=human)
    print(total_line(results, wall), file=human)
    if as_json:
        json.dump(aggregate(results, wall), out, indent=2)
        out.write("\n")
    out.flush()
    return (1 if any(r.status == "failed" for r in results) else 0), results


def failed_hosts(results: Iterable[HostResult]) -> list[str]:
    return [r.host for r in results if r.status == "failed"]
