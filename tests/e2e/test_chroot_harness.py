"""The chroot harness itself: a real Debian 12 root, clean environment, no leftovers.

These run for real (debootstrap on first use, a cached tarball after that) and are
skipped, with the reason, where the machine cannot do it (not root, no debootstrap,
no apt mirror).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .chroot import Chroot, skip_reason

_REASON = skip_reason()

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(_REASON is not None, reason=_REASON or ""),
]


def _mounted_under(root: Path) -> list[str]:
    prefix = str(root)
    with open("/proc/mounts", encoding="utf-8") as mounts:
        return [
            line.split()[1]
            for line in mounts
            if line.split()[1] == prefix or line.split()[1].startswith(prefix + "/")
        ]


def test_python3_runs_and_reports_debian_12(tmp_path: Path) -> None:
    with Chroot("bookworm", tmp_root=tmp_path) as root:
        version = root.run(["cat", "/etc/debian_version"], check=True).stdout
        assert version.startswith("12"), version
        done = root.run(["python3", "-c", "import sys; print(sys.version_info[:2])"], check=True)
        assert done.stdout.strip() == "(3, 11)"


def test_mounts_and_tree_are_gone_after_exit(tmp_path: Path) -> None:
    with Chroot("bookworm", tmp_root=tmp_path) as root:
        where = root.root
        assert {str(where / "proc"), str(where / "dev"), str(where / "dev/pts")} <= set(
            _mounted_under(where)
        )
        # a process inside keeps a mount busy: the lazy fallback must still clean up
        busy = root.popen(["sleep", "30"], cwd="/proc")
        try:
            with pytest.raises(RuntimeError), root:
                raise RuntimeError("the test body failed")
        finally:
            os.killpg(busy.pid, 9)
            busy.wait()
    assert _mounted_under(where) == []
    assert not where.exists()
    assert Path("/dev/null").exists() and Path("/proc/self").exists()


def test_host_pip_and_ssl_settings_do_not_leak_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_CERT", "/host/only/ca.pem")
    monkeypatch.setenv("SSL_CERT_FILE", "/host/only/ca.pem")
    with Chroot("bookworm", tmp_root=tmp_path) as root:
        env = root.run(["env"], check=True).stdout
        assert "PIP_" not in env and "SSL_CERT" not in env
        assert "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in env
        passed = root.run(["sh", "-c", 'echo "$PIP_CERT"'], env={"PIP_CERT": "/x.pem"})
        assert passed.stdout.strip() == "/x.pem"


def test_user_cwd_and_files(tmp_path: Path) -> None:
    with Chroot("bookworm", tmp_root=tmp_path) as root:
        root.add_user("dev")
        root.write("/home/dev/hello.txt", "hi\n")
        done = root.run(
            ["sh", "-c", 'id -un; echo "$HOME"; pwd; cat hello.txt'],
            user="dev",
            cwd="/home/dev",
            check=True,
        )
        assert done.stdout.split() == ["dev", "/home/dev", "/home/dev", "hi"]
        root.run(["sh", "-c", "id -u > /tmp/uid"], user="dev", check=True)
        assert root.read("/tmp/uid").strip() != "0"
