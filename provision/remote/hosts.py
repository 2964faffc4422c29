"""The targets: ``[user@]host[:port]`` specs from ``--hosts`` and inventories, how many run at
once, and how long a connection may take.

Pure functions, so every malformed spec is a table row in the tests; a bad spec is a
ConfigError that names where it came from (``--hosts`` or ``FILE:LINE``).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

MAX_PARALLEL = 8
DEFAULT_CONNECT_TIMEOUT = 15.0

_NAME = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?$")
_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*\$?$")


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


def has_password(text: str) -> bool:
    """Whether a spec carries a password: a ``:`` in the part before its last ``@`` (``user:secret@host``).

    No user name has a ``:``, so this never mistakes a valid spec for one with a password.
    """
    return ":" in text.rpartition("@")[0]


def mask_spec(text: str) -> str:
    """A host spec as a message may show it: a password in it becomes ``***`` (``dev:***@h1``)."""
    if not has_password(text):
        return text
    userinfo, _, rest = text.rpartition("@")
    return userinfo.partition(":")[0] + ":***@" + rest


def parse_host(text: str, *, where: str = "") -> Host:
    """Parse ``[user@]host[:port]``; IPv6 addresses go in brackets: ``[::1]:2222``.

    Every message names the spec through ``mask_spec``: a password typed into it never
    reaches the terminal, a CI log or a shared screen.
    """
    spec = text.strip()

    def bad(problem: str, fix: str = "") -> ConfigError:
        return ConfigError(f"bad host {mask_spec(text)!r}: {problem}.",
                           fix or "Write hosts as [user@]host[:port], e.g. dev@build1:2222 or [::1]:22.", where=where)

    if not spec:
        raise bad("it is empty")
    if has_password(spec):
        raise bad("it carries a password (user:password@host), and passwords are never taken",
                  "Log in with a key instead: --identity PATH, ssh-agent, or IdentityFile in the SSH config.")
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
    """``--hosts``: comma-separated host strings.

    A password may hold a comma (``dev:pa,ss@h1``): when a piece fails, the pieces up to the
    next ``@`` are read as one spec, so the refusal names a password, masked, and not a
    piece of it as a bad port.
    """
    parts = text.split(",")
    if not any(p.strip() for p in parts):
        raise ConfigError("--hosts is empty.", "Give at least one host: --hosts dev@build1,build2:2222")
    hosts = []
    for i, part in enumerate(parts):
        if not part.strip():
            continue
        try:
            hosts.append(parse_host(part, where="--hosts"))
        except ConfigError:
            ends = [j for j in range(i, len(parts)) if "@" in parts[j]]
            joined = ",".join(parts[i:ends[0] + 1]) if ends else part
            if has_password(joined):
                parse_host(joined, where="--hosts")  # raises the refusal, the password masked
            raise
    return hosts


def parse_inventory(text: str, source: str = "inventory") -> list[Host]:
    """One host per line; ``#`` starts a comment; blank lines are skipped.

    A password may hold a ``#`` (``dev:pa#ss@h1``): when a line fails, the whole line is
    checked for one, so the refusal is about the password, masked.
    """
    hosts = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if line:
            try:
                hosts.append(parse_host(line, where=f"{source}:{number}"))
            except ConfigError:
                if has_password(raw):
                    parse_host(raw, where=f"{source}:{number}")
                raise
    return hosts


def read_inventory(path: str) -> list[Host]:
    """``--inventory``: the file's hosts; an unreadable or empty inventory is an error, not zero hosts."""
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
