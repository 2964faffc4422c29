"""Running the hosts: one host's run (connect, push, stage 0, bootstrap) that never raises,
all of them in a thread pool, and the ``remote`` driver that validates, runs and prints.
"""

from __future__ import annotations

import concurrent.futures
import io
import json
import os
import re
import shlex
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

from ..errors import ConfigError
from ..paths import REPO
from ..run.log import RunLog, log_path
from .commands import DEFAULT_REMOTE_PATH, REMOTE_CA_PATH, RemoteOptions, bootstrap_argv, expand_home, shell_line, stage0_argv, unpack_line
from .hosts import Host, collect_hosts, parallelism
from .kit import build_tarball
from .results import HostResult, aggregate, last_words, result_from_bootstrap, total_line
from .ssh import classify_error, connection, ensure_fabric


class _Failed(Exception):
    """A step of one host's run failed; its message is the host's error (caught in HostRun)."""


@dataclass
class HostRun:
    """One host's run: connect, push, stage 0, bootstrap; never raises, returns a HostResult."""

    host: Host
    options: RemoteOptions
    tarball: bytes | None
    say: Callable[[str], None]
    log_dir: str | None = None
    _log: RunLog | None = field(default=None, repr=False)  # 0600, credentials masked, like a local run's log

    def log(self, text: str) -> None:
        """Append to this host's local log (every command and its output), when there is one."""
        if self._log:
            self._log.write(text if text.endswith("\n") else text + "\n")

    def run_remote(self, conn: Any, line: str, phase: str) -> Any:
        """Run one line on the host, never raising on a non-zero exit: the caller decides."""
        self.log(f"\n$ {line}")
        result = conn.run(line, warn=True, hide=True, in_stream=False, pty=False)
        self.log((result.stdout or "") + (result.stderr or "") + f"[exit {result.exited}]")
        return result

    def __call__(self) -> HostResult:
        started = time.monotonic()
        label = self.host.label
        log_path = None
        if self.log_dir:
            log_path = os.path.join(self.log_dir, re.sub(r"[^A-Za-z0-9@._-]+", "_", label) + ".log")
            self._log = RunLog(log_path)
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
    """A fresh directory per ``remote`` call, one log file per host in it."""
    return log_path("remote", suffix="")


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
    """Progress lines from many threads, whole lines only (one lock)."""
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
