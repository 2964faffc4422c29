"""The OS identity: os-release through ``distro`` (below a root for fixture trees), or the system's own version.

Every run asks it, and the answer is distro's parse of one file: it is kept (``provision.memo``)
under the digest of that file's bytes and of distro's own module, so a provisioned machine's
run does not import distro (with argparse, about 2 ms) to read the same file again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from typing import NamedTuple

from .. import memo
from ..errors import ProvisionError


class Identity(NamedTuple):
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
    name = _memo_name(root)
    kept = memo.read(name) if name else None
    if (isinstance(kept, list) and len(kept) == len(Identity._fields) and all(isinstance(v, str) for v in kept[:-1])
            and isinstance(kept[-1], list) and all(isinstance(v, str) for v in kept[-1])):  # a damaged file: read again
        return Identity(*kept[:-1], tuple(kept[-1]))
    import distro

    d = distro.LinuxDistribution(include_lsb=False, include_uname=False, root_dir=root)
    info = d.os_release_info()
    fields = ("id", "version_id", "version_codename", "name")
    ident = Identity(
        system="Linux",
        distro_id=(info.get("id") or d.id() or "").lower(),
        distro_version=info.get("version_id", "") or d.version(),
        distro_codename=info.get("version_codename", "") or d.codename(),
        distro_name=info.get("name", "") or d.name(),
        id_like=tuple(x for x in (info.get("id_like") or "").lower().split() if x),
    )
    if name and all(info.get(k) for k in fields):  # else distro also read other files: asked again next time
        memo.keep(name, list(ident))
    return ident


def _memo_name(root: str) -> str | None:
    """The memo's name for this root's os-release: the digest of the file distro reads (the
    first of etc/ and usr/lib/ that exists, as distro chooses) and of distro's module file."""
    spec = importlib.util.find_spec("distro")
    module = os.path.join(os.path.dirname(spec.origin), "distro.py") if spec and spec.origin else ""
    digest = hashlib.sha256()
    try:
        st = os.stat(module)
        digest.update(f"{module}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        for path in (os.path.join(root, "etc", "os-release"), os.path.join(root, "usr", "lib", "os-release")):
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    digest.update(f"{path}\0".encode() + f.read())
                return f"identity-{digest.hexdigest()}.json"
    except OSError:
        pass
    return None
