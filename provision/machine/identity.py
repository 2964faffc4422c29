"""The OS identity: os-release through ``distro`` (below a root for fixture trees), or the system's own version."""

from __future__ import annotations

import os
from dataclasses import dataclass

import distro

from ..errors import ProvisionError


@dataclass(frozen=True)
class Identity:
    system: str
    distro_id: str
    distro_version: str
    distro_codename: str
    distro_name: str
    id_like: tuple[str, ...]

def _uname() -> tuple[str, str]:
    """System and machine, as ``platform`` says them; from ``os.uname`` where there is one
    (importing ``platform`` costs a provisioned machine's run more than a probe)."""
    if hasattr(os, "uname"):
        u = os.uname()
        return u.sysname, u.machine
    import platform

    return platform.system(), platform.machine()

def read_identity(root: str | os.PathLike[str] = "/", system: str | None = None) -> Identity:
    """The OS identity. Below ``root`` (a fixture tree) only os-release files are read."""
    system = system or _uname()[0]
    root = os.fspath(root)
    if system == "Darwin" and root == "/":
        import platform

        version = platform.mac_ver()[0]
        return Identity("Darwin", "macos", ".".join(version.split(".")[:1]), "", "macOS", ())
    if system == "Windows" and root == "/":
        import platform

        release = platform.release()
        return Identity("Windows", "windows", release, "", "Windows", ())
    if root != "/" and not any(
        os.path.exists(os.path.join(root, p)) for p in ("etc/os-release", "usr/lib/os-release")
    ):
        raise ProvisionError(
            f"no os-release file below {root}",
            "Point at a tree that has etc/os-release or usr/lib/os-release.",
        )
    d = distro.LinuxDistribution(include_lsb=False, include_uname=False, root_dir=root)
    info = d.os_release_info()
    raw_id = (info.get("id") or d.id() or "").lower()
    return Identity(
        system="Linux",
        distro_id=raw_id,
        distro_version=info.get("version_id", "") or d.version(),
        distro_codename=info.get("version_codename", "") or d.codename(),
        distro_name=info.get("name", "") or d.name(),
        id_like=tuple(x for x in (info.get("id_like") or "").lower().split() if x),
    )
