"""The options every host gets and the command lines run there.

Each line is built from argv lists with every word quoted (never a shell string built
from data), so the tests compare them as exact strings and run ``unpack_line`` for real.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from .hosts import DEFAULT_CONNECT_TIMEOUT
from .kit import PRESERVED

DEFAULT_REMOTE_PATH = "~/.cache/provision/kit"
#: Where ``--ca-bundle`` is copied on the remote host.
REMOTE_CA_PATH = "~/.cache/provision/ca-bundle.pem"


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
