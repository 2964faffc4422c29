"""``./bootstrap remote`` for real: Debian 12 chroots running sshd on loopback addresses.

Each chroot runs its own ``sshd`` bound to 127.0.0.11, .12 or .13 (port 2222), with
key-based login for a non-root user ``dev`` who has password-less sudo. One ``remote``
call provisions all of them in parallel; a second call must report ``changed=0`` on
every host; with one sshd stopped, that host is reported failed while the others
succeed. Wall times (1 host vs 3 in parallel) are printed and written to
/tmp/provision-remote-timings.txt; nothing asserts on them.

Only loopback addresses are used. sshd and every process left inside a chroot are
killed whatever happens, and the chroots are removed by the harness.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from provision.paths import REPO

from .chroot import Chroot, host_ca_bundle, skip_reason

TIMINGS = Path("/tmp/provision-remote-timings.txt")
PORT = 2222
INCLUDE = ("python3", "openssh-server", "sudo")
USER = "dev"


def _reason() -> str | None:
    reason = skip_reason()
    if reason:
        return reason
    if not (REPO / ".git").exists():
        return "remote e2e pushes the git-tracked files of the kit: needs the repository's .git"
    return None


_REASON = _reason()

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(_REASON is not None, reason=_REASON or "")]


# --------------------------------------------------------------------------- sshd in a chroot


@dataclass
class SshHost:
    chroot: Chroot
    address: str
    port: int
    sshd: subprocess.Popen[str] | None = None

    @property
    def spec(self) -> str:
        return f"{USER}@{self.address}:{self.port}"


def _kill_inside(root: Path) -> None:
    """Kill every process whose root directory is the chroot (sshd sessions, apt, pip...)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if os.readlink(entry / "root") == str(root):
                os.kill(int(entry.name), signal.SIGKILL)


def _wait_port(address: str, port: int, up: bool, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(1)
            listening = s.connect_ex((address, port)) == 0
        if listening == up:
            return
        time.sleep(0.2)
    raise RuntimeError(f"sshd on {address}:{port} is {'not up' if up else 'still up'} after {timeout}s")


def prepare_host(root: Chroot, pubkey: str) -> None:
    """A non-root user with the test's key and password-less sudo; host keys; sshd's run dir."""
    root.add_user(USER, sudo=True)
    root.run(["usermod", "-p", "*", USER], check=True)  # no password, but not a locked account
    root.write(f"/home/{USER}/.ssh/authorized_keys", pubkey)
    root.run(["chown", "-R", f"{USER}:{USER}", f"/home/{USER}/.ssh"], check=True)
    root.run(["chmod", "700", f"/home/{USER}/.ssh"], check=True)
    root.run(["chmod", "600", f"/home/{USER}/.ssh/authorized_keys"], check=True)
    root.run(["ssh-keygen", "-A"], check=True)
    root.run(["mkdir", "-p", "/run/sshd"], check=True)
    root.run(["chmod", "0755", "/run/sshd"], check=True)


def start_sshd(host: SshHost, log: Path) -> None:
    argv = ["/usr/sbin/sshd", "-D", "-e", "-o", f"ListenAddress={host.address}:{host.port}",
            "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no", "-o", "PermitRootLogin=no"]
    with open(log, "a", encoding="utf-8") as f:
        host.sshd = host.chroot.popen(argv, stdout=f, stderr=subprocess.STDOUT)
    _wait_port(host.address, host.port, up=True)


def stop_sshd(host: SshHost) -> None:
    if host.sshd is not None and host.sshd.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(host.sshd.pid, signal.SIGTERM)
        try:
            host.sshd.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(host.sshd.pid, signal.SIGKILL)
            host.sshd.wait(10)
    host.sshd = None
    _wait_port(host.address, host.port, up=False)


def known_hosts_lines(host: SshHost) -> list[str]:
    lines = []
    for pub in sorted(host.chroot.path("/etc/ssh").glob("ssh_host_*_key.pub")):
        kind, blob = pub.read_text(encoding="utf-8").split()[:2]
        lines.append(f"[{host.address}]:{host.port} {kind} {blob}")
    return lines


@contextlib.contextmanager
def ssh_hosts(addresses: Sequence[str], workdir: Path) -> Iterator[tuple[list[SshHost], Path]]:
    """Chroots with sshd running, and an SSH config (key, known_hosts) that reaches them."""
    key = workdir / "id_ed25519"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "provision-e2e", "-f", str(key)], check=True)
    pubkey = (workdir / "id_ed25519.pub").read_text(encoding="utf-8")
    hosts: list[SshHost] = []
    with contextlib.ExitStack() as stack:
        for address in addresses:
            root = stack.enter_context(Chroot("bookworm", INCLUDE, tmp_root=workdir / "roots"))
            host = SshHost(root, address, PORT)
            hosts.append(host)
            stack.callback(_kill_inside, root.root)
            stack.callback(stop_sshd, host)
            prepare_host(root, pubkey)
            start_sshd(host, workdir / f"sshd-{address}.log")
        known = workdir / "known_hosts"
        known.write_text("".join(line + "\n" for h in hosts for line in known_hosts_lines(h)), encoding="utf-8")
        config = workdir / "ssh_config"
        config.write_text(f"Host 127.0.0.*\n    UserKnownHostsFile {known}\n    IdentityFile {key}\n    IdentitiesOnly yes\n",
                          encoding="utf-8")
        yield hosts, config


# --------------------------------------------------------------------------- the controller


def run_remote(args: Sequence[str], timeout: float = 3600) -> tuple[subprocess.CompletedProcess[str], float]:
    """``./bootstrap remote ARGS``, as a user runs it (stage 0, then the task); no ssh-agent keys."""
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    argv = [str(REPO / "bootstrap"), "remote", *args]
    started = time.monotonic()
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    wall = time.monotonic() - started
    sys.stderr.write(done.stderr)
    return done, wall


def record(text: str) -> None:
    print(text)
    with open(TIMINGS, "a", encoding="utf-8") as f:
        f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n")


def common_args(config: Path, key: Path) -> list[str]:
    return ["--ssh-config", str(config), "--identity", str(key), "--ca-bundle", str(host_ca_bundle()), "--json"]


def recap_of(done: subprocess.CompletedProcess[str]) -> dict:
    try:
        return json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"remote --json printed no JSON (exit {done.returncode}):\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-5000:]}")


# --------------------------------------------------------------------------- the tests


def test_three_hosts_in_parallel_converge_and_a_down_host_fails_alone(tmp_path: Path) -> None:
    with ssh_hosts(["127.0.0.11", "127.0.0.12", "127.0.0.13"], tmp_path) as (hosts, config):
        args = common_args(config, tmp_path / "id_ed25519")
        specs = ",".join(h.spec for h in hosts)

        first, wall3 = run_remote(["--hosts", specs, *args])
        doc = recap_of(first)
        record(f"remote: 3 hosts in parallel, fresh: {wall3:.1f}s (per host: "
               + ", ".join(f"{h}={v['duration']:.0f}s" for h, v in doc["hosts"].items()) + ")")
        assert first.returncode == 0, first.stderr[-5000:]
        assert set(doc["hosts"]) == {h.spec for h in hosts}
        for name, res in doc["hosts"].items():
            assert res["status"] in ("ok", "changed"), (name, res)
            assert res["recap"]["failed"] == 0, (name, res)
            assert res["error"] is None, (name, res)
        assert doc["total"]["failed"] == 0 and doc["total"]["hosts"] == 3

        second, wall = run_remote(["--hosts", specs, *args])
        doc = recap_of(second)
        record(f"remote: 3 hosts in parallel, converged: {wall:.1f}s")
        assert second.returncode == 0, second.stderr[-5000:]
        for name, res in doc["hosts"].items():
            assert res["recap"]["changed"] == 0 and res["recap"]["failed"] == 0, (name, res)
            assert res["status"] == "ok", (name, res)

        down = hosts[1]
        stop_sshd(down)
        third, _ = run_remote(["--hosts", specs, *args])
        doc = recap_of(third)
        assert third.returncode != 0
        assert down.spec in third.stderr.splitlines()[-1], third.stderr[-2000:]
        assert doc["hosts"][down.spec]["status"] == "failed"
        assert "connection refused" in doc["hosts"][down.spec]["error"]
        assert doc["total"]["failed_hosts"] == [down.spec]
        for h in hosts:
            if h is not down:
                assert doc["hosts"][h.spec]["status"] == "ok", doc["hosts"][h.spec]


def test_one_host_wall_time_and_unknown_host_key(tmp_path: Path) -> None:
    """The single-host baseline for the timing; an unknown host key is refused with the way out."""
    with ssh_hosts(["127.0.0.11"], tmp_path) as (hosts, config):
        args = common_args(config, tmp_path / "id_ed25519")
        done, wall1 = run_remote(["--hosts", hosts[0].spec, *args])
        doc = recap_of(done)
        record(f"remote: 1 host, fresh: {wall1:.1f}s")
        assert done.returncode == 0, done.stderr[-5000:]
        assert doc["hosts"][hosts[0].spec]["recap"]["failed"] == 0

        (tmp_path / "known_hosts").write_text("", encoding="utf-8")
        refused, _ = run_remote(["--hosts", hosts[0].spec, *args])
        doc = recap_of(refused)
        assert refused.returncode != 0
        error = doc["hosts"][hosts[0].spec]["error"]
        assert "host key unknown" in error and "ssh-keyscan" in error and "--accept-new-host-keys" in error

        accepted, _ = run_remote(["--hosts", hosts[0].spec, "--accept-new-host-keys", "--dry-run", *args])
        doc = recap_of(accepted)
        assert accepted.returncode == 0, accepted.stderr[-3000:]
        assert "accepted the new host key" in accepted.stderr
        assert f"[{hosts[0].address}]:{PORT} " in (tmp_path / "known_hosts").read_text(encoding="utf-8")
