"""Facts of the host beyond the OS and its Pythons: tools on PATH, the user, privileges, containers."""

from __future__ import annotations

import os
import shutil
import subprocess

from .facts import Tool
from .pythons import Runner, _run


def shebang_python(path: str) -> str | None:
    """The interpreter a script runs with, from its first line (never runs it)."""
    try:
        with open(path, "rb") as f:
            first = f.readline(512).decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    parts = first[2:].split()
    if not parts:
        return None
    if os.path.basename(parts[0]) == "env" and len(parts) > 1:
        return shutil.which(parts[-1]) or parts[-1]
    return parts[0]

def find_tool(name: str, path: str) -> Tool:
    p = shutil.which(name, path=path)
    py = shebang_python(p) if p else None
    if py and not os.path.basename(py).startswith(("python", "pypy")):
        py = None  # a wrapper (pyenv shim, shell script): its interpreter is not knowable without running it
    return Tool(name, p, py)

def _login_name() -> str:
    """The user's name from the password database (USER/LOGNAME were asked first)."""
    try:
        import pwd  # a built-in module: cheaper than getpass, which asks it the same

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, AttributeError):
        pass
    try:
        import getpass

        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return ""

def detect_container(root: str = "/") -> str | None:
    env_kind = os.environ.get("container")
    if env_kind:
        return env_kind
    if os.path.exists(os.path.join(root, ".dockerenv")):
        return "docker"
    if os.path.exists(os.path.join(root, "run/.containerenv")):
        return "podman"
    try:
        s1, s2 = os.stat("/proc/1/root/."), os.stat("/")
        if (s1.st_ino, s1.st_dev) != (s2.st_ino, s2.st_dev):
            return "chroot"
    except OSError:
        pass
    return None

def detect_sudo(is_root: bool, run: Runner = _run) -> str:
    if is_root:
        return "root"
    if not shutil.which("sudo"):
        return "absent"
    try:
        res = run(["sudo", "-n", "true"])
    except (OSError, subprocess.SubprocessError):
        return "absent"
    return "nopasswd" if res.returncode == 0 else "password"
