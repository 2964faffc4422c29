"""What is pushed to each host: the kit's tracked files (minus local venvs and caches), as a
gzip tarball with neutral owners, built once and sent to every host.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import ProvisionError
from ..paths import REPO

#: Never pushed: VCS data, local venvs, caches, Vagrant state.
EXCLUDES = (".git", ".venv", ".tools", "__pycache__", ".vagrant")
#: Kept on the remote host when a new kit replaces the old one (its tool venv, the
#: project venv): replacing them would make every run start from scratch.
PRESERVED = (".tools", ".venv", ".vagrant")


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
