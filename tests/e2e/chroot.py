"""Debian root file systems in a chroot, for end-to-end tests.

The kit's promise is that it provisions a *bare* Debian machine without fighting the
OS.  Containers and VMs are not available on the development machines, but root,
``debootstrap`` and ``chroot`` are, so the end-to-end tests build a minimal Debian
root file system per release with ``debootstrap``, cache it as a tarball outside the
repository, and unpack a fresh copy for every test.  That gives each test a machine
that really lacks gcc, ``python3-venv`` or the Python headers, with the real apt and
the real system pip of that release.

Nothing here names a package index or a Debian mirror: the mirror is read from the
host's own apt sources at run time and the CA bundle from the host's pip setup,
because the machines reach the outside only through those, and a committed host name
would go stale (and must not be committed at all).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
import types
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = [
    "CLEAN_PATH",
    "SUITES",
    "Chroot",
    "ChrootError",
    "cache_dir",
    "host_ca_bundle",
    "mirror_url",
    "rootfs_tarball",
    "skip_reason",
]

#: Release code names the harness is meant for, with their Debian version.
SUITES: Mapping[str, str] = {"bullseye": "11", "bookworm": "12", "trixie": "13"}

#: PATH inside the chroot: Debian's default for root, so nothing of the host leaks in.
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#: Working-tree entries never worth copying into a chroot (VCS data, local venvs, caches).
COPY_EXCLUDES = (
    ".git",
    ".venv",
    ".tools",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
)

_APT_SOURCES_LIST = Path("/etc/apt/sources.list")
_APT_SOURCES_DIR = Path("/etc/apt/sources.list.d")
_DEFAULT_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


class ChrootError(RuntimeError):
    """The harness could not build, enter or clean up a chroot."""


# --------------------------------------------------------------------------- host facts


def _deb822_stanzas(text: str) -> Iterator[dict[str, str]]:
    """Yield the fields of each deb822 stanza (blank-line separated, comments dropped)."""
    stanza: dict[str, str] = {}
    key = ""
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if stanza:
                yield stanza
            stanza, key = {}, ""
            continue
        if raw[0] in " \t" and key:  # continuation line
            stanza[key] += " " + raw.strip()
            continue
        name, sep, value = raw.partition(":")
        if sep:
            key = name.strip().lower()
            stanza[key] = value.strip()
    if stanza:
        yield stanza


def _is_security(uri: str, suites: str) -> bool:
    """Security archives only carry updates: debootstrap needs the main archive."""
    return "security" in uri or any(
        s.endswith("-security") or s.endswith("/updates") for s in suites.split()
    )


def _mirror_candidates() -> Iterator[str]:
    """Debian mirror URIs in the order apt would list them, security archives excluded."""
    if _APT_SOURCES_DIR.is_dir():
        for path in sorted(_APT_SOURCES_DIR.glob("*.sources")):
            try:
                text = path.read_text(encoding="utf-8")
            except OSError:
                continue
            for stanza in _deb822_stanzas(text):
                if "deb" not in stanza.get("types", "").split():
                    continue
                if stanza.get("enabled", "yes").lower() == "no":
                    continue
                suites = stanza.get("suites", "")
                for uri in stanza.get("uris", "").split():
                    if not _is_security(uri, suites):
                        yield uri
    files = [_APT_SOURCES_LIST]
    if _APT_SOURCES_DIR.is_dir():
        files += sorted(_APT_SOURCES_DIR.glob("*.list"))
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        for line in lines:
            words = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()
            if len(words) >= 3 and words[0] == "deb" and not _is_security(words[1], words[2]):
                yield words[1]


def _looks_like_debian(uri: str) -> bool:
    """Prefer an archive of Debian itself over third-party repositories (e.g. nodesource)."""
    return uri.rstrip("/").endswith("/debian")


def mirror_url() -> str:
    """The Debian mirror this machine's apt uses, read at run time.

    The first ``URIs:`` of a Debian (non-security) source wins; a third-party
    repository is only taken when no URI looks like a Debian archive.
    """
    candidates = list(_mirror_candidates())
    for uri in candidates:
        if _looks_like_debian(uri):
            return uri.rstrip("/")
    if candidates:
        return candidates[0].rstrip("/")
    raise ChrootError("no Debian mirror found in /etc/apt/sources.list{,.d/*.sources}")


def _pip_config_cert() -> str | None:
    """The ``cert`` value of the host pip's configuration, as ``pip config list`` shows it.

    ``global.cert`` is preferred over other scopes, matching what ``pip config get
    global.cert`` reports; running pip (rather than parsing its files) honours every
    place pip reads configuration from.
    """
    python = shutil.which("python3")
    if python is None:
        return None
    try:
        out = subprocess.run(
            [python, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found: dict[str, str] = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.endswith(".cert"):
            found[key] = value.strip().strip("'\"")
    for key in ("global.cert", "install.cert"):
        if key in found:
            return found[key]
    return next(iter(found.values()), None)


def host_ca_bundle() -> Path:
    """The CA bundle the host's pip trusts.

    The machines reach the package index through TLS interception, so a chroot's pip
    only works when handed this bundle.  Order: ``PIP_CERT``, pip's configured
    ``cert``, ``SSL_CERT_FILE``, then Debian's system bundle.
    """
    for candidate in (
        os.environ.get("PIP_CERT"),
        _pip_config_cert(),
        os.environ.get("SSL_CERT_FILE"),
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return _DEFAULT_CA_BUNDLE


def skip_reason() -> str | None:
    """Why the chroot tests cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "chroot tests need root (mount, chroot, debootstrap)"
    for tool in ("debootstrap", "chroot", "mount", "umount", "tar"):
        if shutil.which(tool) is None:
            return f"chroot tests need the {tool!r} command"
    try:
        mirror_url()
    except ChrootError as exc:
        return f"chroot tests need a Debian mirror: {exc}"
    return None


# --------------------------------------------------------------------------- rootfs cache


def cache_dir() -> Path:
    """Where root file system tarballs are kept: outside the repository, reused across runs."""
    configured = os.environ.get("PROVISION_E2E_CACHE")
    base = Path(configured) if configured else Path.home() / ".cache" / "provision-e2e"
    base.mkdir(parents=True, exist_ok=True)
    return base


def _include_key(include: Sequence[str]) -> str:
    return hashlib.sha256(",".join(sorted(set(include))).encode()).hexdigest()[:12]


def _mounts_under(root: Path) -> list[str]:
    """Mount points at or below ``root``, deepest first (the order to unmount them)."""
    prefix = str(root.resolve())
    points = []
    with open("/proc/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            fields = line.split()
            if len(fields) < 2:
                continue
            # /proc/mounts escapes blanks as octal (\040).
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[1])
            if point == prefix or point.startswith(prefix + "/"):
                points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def _unmount_all(root: Path) -> None:
    """Unmount everything under ``root``; lazily when a plain unmount is refused (busy)."""
    for _ in range(3):
        points = _mounts_under(root)
        if not points:
            return
        for point in points:
            done = subprocess.run(["umount", point], capture_output=True, check=False)
            if done.returncode != 0:
                subprocess.run(["umount", "-l", point], capture_output=True, check=False)
    left = _mounts_under(root)
    if left:
        raise ChrootError(f"could not unmount {left}")


def _remove_tree(root: Path) -> None:
    """Remove a chroot tree, but only once nothing is mounted in it.

    A still-bound ``/dev`` or ``/proc`` would otherwise have the host's files deleted
    through it, hence the unmount first and ``--one-file-system`` as a second guard.
    """
    if not root.exists():
        return
    _unmount_all(root)
    subprocess.run(
        ["rm", "-rf", "--one-file-system", "--", str(root)], check=False, capture_output=True
    )
    if root.exists():
        raise ChrootError(f"could not remove {root}")


def rootfs_tarball(suite: str, include: tuple[str, ...] = ("python3",)) -> Path:
    """A cached tarball of ``debootstrap --variant=minbase --include=...`` for ``suite``.

    Built once per (suite, package list) and kept in :func:`cache_dir`; concurrent
    callers (pytest-xdist workers, parallel sessions) wait on a lock file instead of
    building twice, and the tarball appears atomically (written then renamed), so a
    killed build never leaves a truncated cache entry.  Downloaded ``.deb`` files are
    removed to keep it small; apt's lists are kept when debootstrap left them.
    """
    cache = cache_dir()
    name = f"{suite}-{_include_key(include)}"
    tarball = cache / f"{name}.tar"
    if tarball.is_file():
        return tarball
    with open(cache / f"{name}.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tarball.is_file():  # another caller built it while we waited
            return tarball
        build = Path(tempfile.mkdtemp(prefix=f"debootstrap-{suite}-", dir="/var/tmp"))
        try:
            argv = ["debootstrap", "--variant=minbase"]
            if include:
                argv.append("--include=" + ",".join(include))
            argv += [suite, str(build), mirror_url()]
            started = time.monotonic()
            done = subprocess.run(
                argv, capture_output=True, text=True, check=False, env=_host_tool_env()
            )
            if done.returncode != 0:
                tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
                raise ChrootError(f"{' '.join(argv)} failed ({done.returncode}):\n{tail}")
            _unmount_all(build)  # debootstrap mounts /proc and /sys while it works
            for deb in (build / "var/cache/apt/archives").glob("*.deb"):
                deb.unlink()
            (build / ".provision-e2e").write_text(
                f"suite={suite}\ninclude={','.join(include)}\n"
                f"built-in={time.monotonic() - started:.0f}s\n",
                encoding="utf-8",
            )
            fd, tmp = tempfile.mkstemp(prefix=f".{name}-", suffix=".tar.tmp", dir=cache)
            os.close(fd)
            try:
                subprocess.run(
                    ["tar", "--numeric-owner", "--xattrs", "-C", str(build), "-cf", tmp, "."],
                    check=True,
                    capture_output=True,
                )
                os.replace(tmp, tarball)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        finally:
            _remove_tree(build)
    return tarball


def _host_tool_env() -> dict[str, str]:
    """Environment for host tools (debootstrap, tar): the host's, minus pip's settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}


# --------------------------------------------------------------------------- the chroot

_LIVE: set[Chroot] = set()


@atexit.register
def _cleanup_live() -> None:
    """Never leave mounts or trees behind, even when a test run is interrupted."""
    for chroot in list(_LIVE):
        with contextlib.suppress(Exception):
            chroot.close()


class Chroot:
    """A fresh copy of a cached Debian root file system, entered with ``chroot``.

    Use as a context manager: entering unpacks the tarball into a new directory and
    mounts ``/proc``, ``/dev`` and ``/dev/pts``; leaving unmounts them (lazily if busy)
    and removes the tree, whatever happened inside.
    """

    def __init__(
        self,
        suite: str = "bookworm",
        include: tuple[str, ...] = ("python3",),
        *,
        tmp_root: Path | str | None = None,
    ) -> None:
        self.suite = suite
        self.include = tuple(include)
        self._tmp_root = Path(tmp_root) if tmp_root is not None else Path("/var/tmp")
        self._root: Path | None = None

    # -- lifetime ---------------------------------------------------------------------

    @property
    def root(self) -> Path:
        """The chroot's directory on the host (only while entered)."""
        if self._root is None:
            raise ChrootError("the chroot is not entered")
        return self._root

    def __enter__(self) -> Chroot:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> None:
        """Unpack the cached root file system and mount the pseudo file systems."""
        if self._root is not None:
            return
        tarball = rootfs_tarball(self.suite, self.include)
        self._tmp_root.mkdir(parents=True, exist_ok=True)
        self._root = Path(
            tempfile.mkdtemp(prefix=f"provision-e2e-{self.suite}-", dir=self._tmp_root)
        )
        _LIVE.add(self)
        try:
            subprocess.run(
                ["tar", "--numeric-owner", "--xattrs", "-C", str(self._root), "-xf", str(tarball)],
                check=True,
                capture_output=True,
            )
            # mkdtemp makes the directory 0700: as "/" that would lock out every user
            self._root.chmod(0o755)
            resolv = self._root / "etc/resolv.conf"
            if resolv.is_symlink():
                resolv.unlink()
            with contextlib.suppress(FileNotFoundError):
                shutil.copyfile("/etc/resolv.conf", resolv)
            self._mount(["-t", "proc", "proc"], "proc")
            # /dev is bound, then made private so that mounting /dev/pts below it (and
            # unmounting it later) can never propagate to the host's /dev.
            self._mount(["--bind", "/dev"], "dev")
            self._mount(["--make-private"], "dev")
            self._mount(["--bind", "/dev/pts"], "dev/pts")
        except BaseException:
            self.close()
            raise

    def _mount(self, args: list[str], where: str) -> None:
        target = self.root / where
        target.mkdir(parents=True, exist_ok=True)
        argv = ["mount", *args, str(target)]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ChrootError(f"{' '.join(argv)}: {done.stderr.strip()}")

    def close(self) -> None:
        """Unmount everything below the root and remove the tree (idempotent)."""
        root, self._root = self._root, None
        _LIVE.discard(self)
        if root is not None:
            _remove_tree(root)

    # -- files ------------------------------------------------------------------------

    def path(self, dest: str) -> Path:
        """The host path of ``dest``, an absolute path inside the chroot."""
        parts = Path(dest).parts
        if ".." in parts:
            raise ValueError(f"{dest!r}: '..' is not allowed in chroot paths")
        return self.root.joinpath(*[p for p in parts if p != "/"])

    def write(self, dest: str, text: str) -> Path:
        """Write a text file inside the chroot (parents created)."""
        target = self.path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def read(self, dest: str) -> str:
        """Read a text file from inside the chroot."""
        return self.path(dest).read_text(encoding="utf-8")

    def copy_in(self, src: Path | str, dest: str, exclude: Sequence[str] = COPY_EXCLUDES) -> Path:
        """Copy a file or a tree (minus VCS data, venvs and caches) into the chroot."""
        src = Path(src)
        target = self.path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(
                src,
                target,
                symlinks=True,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns(*exclude),
            )
        else:
            shutil.copy2(src, target)
        return target

    def install_host_ca(self, dest: str = "/usr/local/share/provision-e2e/host-ca.pem") -> str:
        """Copy the host's CA bundle in; return its path inside the chroot (for --cert)."""
        self.copy_in(host_ca_bundle(), dest)
        return dest

    # -- users ------------------------------------------------------------------------

    def _passwd(self, user: str) -> tuple[int, int, str]:
        for line in self.read("/etc/passwd").splitlines():
            fields = line.split(":")
            if len(fields) >= 7 and fields[0] == user:
                return int(fields[2]), int(fields[3]), fields[5]
        raise ChrootError(f"no user {user!r} in the chroot's /etc/passwd")

    def _groups(self, user: str, gid: int) -> list[int]:
        groups = [gid]
        for line in self.read("/etc/group").splitlines():
            fields = line.split(":")
            if len(fields) >= 4 and user in fields[3].split(","):
                groups.append(int(fields[2]))
        return sorted(set(groups))

    def add_user(self, name: str, sudo: bool = False) -> None:
        """Create a user with a home; with ``sudo``, also a password-less sudo rule."""
        self.run(["useradd", "-m", "-s", "/bin/bash", name], check=True)
        if not sudo:
            return
        if not self.path("/usr/bin/sudo").exists():
            install = ["apt-get", "install", "-y", "--no-install-recommends", "sudo"]
            if self.run(install).returncode != 0:
                self.run(["apt-get", "update"], check=True)
                self.run(install, check=True)
        rule = self.write(f"/etc/sudoers.d/{name}", f"{name} ALL=(ALL) NOPASSWD:ALL\n")
        rule.chmod(0o440)

    # -- processes --------------------------------------------------------------------

    def _command(
        self, argv: Sequence[str], user: str | None, env: Mapping[str, str] | None, cwd: str
    ) -> tuple[list[str], dict[str, str]]:
        """The host argv and the clean environment for running ``argv`` inside."""
        if isinstance(argv, str):
            raise TypeError("argv must be a sequence of arguments, not a string")
        chroot = shutil.which("chroot") or "/usr/sbin/chroot"
        prefix = [chroot]
        home = "/root"
        if user is not None:
            uid, gid, home = self._passwd(user)
            groups = ",".join(str(g) for g in self._groups(user, gid))
            prefix += [f"--userspec={uid}:{gid}", f"--groups={groups}"]
        # chroot has no working-directory option: a tiny sh wrapper does the cd, with
        # the arguments passed positionally so nothing is ever re-parsed by a shell.
        wrapper = ["/bin/sh", "-c", 'cd -- "$1" || exit 125; shift; exec "$@"', "sh", cwd]
        clean = {"PATH": CLEAN_PATH, "HOME": home, "LANG": "C.UTF-8"}
        if user is not None:
            clean.update(USER=user, LOGNAME=user)
        if env:
            clean.update(env)
        return [*prefix, str(self.root), *wrapper, *argv], clean

    def run(
        self,
        argv: Sequence[str],
        *,
        user: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str = "/",
        timeout: float = 900,
        check: bool = False,
        input: str | None = None,  # noqa: A002 - subprocess's name
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside; stdout and stderr are captured separately as text.

        The environment is clean (PATH, HOME, LANG and ``env``): the host's PIP_* and
        SSL_* settings must never make a chroot pass where a real machine would fail.
        """
        command, clean = self._command(argv, user, env, cwd)
        done = subprocess.run(
            command,
            env=clean,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            check=False,
            errors="replace",
        )
        if check and done.returncode != 0:
            raise ChrootError(
                f"{list(argv)} exited {done.returncode} in {self.suite}:\n"
                f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
            )
        return done

    def popen(
        self,
        argv: Sequence[str],
        *,
        user: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str = "/",
        stdout: int | IO[Any] | None = subprocess.PIPE,
        stderr: int | IO[Any] | None = subprocess.STDOUT,
        stdin: int | IO[Any] | None = subprocess.DEVNULL,
    ) -> subprocess.Popen[str]:
        """Start ``argv`` inside in its own session, so a test can signal its group."""
        command, clean = self._command(argv, user, env, cwd)
        return subprocess.Popen(
            command,
            env=clean,
            stdout=stdout,
            stderr=stderr,
            stdin=stdin,
            text=True,
            errors="replace",
            start_new_session=True,
        )


def kit_chroot(repo: Path, kit: str, ca: str, *, suite: str = "bookworm", apt_cache: str = "apt-archives") -> Chroot:
    """A fresh chroot holding a copy of the working tree at ``kit`` and the host CA at ``ca``.

    Downloaded .debs are kept between runs in ``cache_dir()/apt_cache``, bound over the
    chroot's apt archive. Give each test module its own name: apt locks that directory,
    so modules running at the same time must not share one.
    """
    c = Chroot(suite)
    c.open()
    try:
        archives = cache_dir() / apt_cache
        (archives / "partial").mkdir(parents=True, exist_ok=True)
        c._mount(["--bind", str(archives)], "var/cache/apt/archives")
        c.copy_in(repo, kit)
        c.install_host_ca(ca)
    except BaseException:
        c.close()
        raise
    return c
