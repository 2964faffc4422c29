"""Package-manager adapters: one batch "what is installed?" probe, the install argv, and
the index-freshness rule, per manager. The profile says which adapter a platform uses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..command import Command
from ..machine.probe import Probe

DAY = 24 * 3600


class PackageManager:
    """Base adapter. Subclasses fill in the argv; the logic of when to run them is shared.

    Stateless, one instance per manager: plain classes (no dataclass processing at import,
    which a no-op run would pay for nine classes).
    """

    name: str = ""

    def query(self, packages: Sequence[str]) -> tuple[str, ...]:
        raise NotImplementedError

    def parse_installed(self, stdout: str, packages: Sequence[str]) -> set[str]:
        raise NotImplementedError

    def installed(self, probe: Probe, packages: Sequence[str]) -> set[str]:
        """One probe call for all packages."""
        if not packages:
            return set()
        res = probe.run(self.query(packages))
        return self.parse_installed(res.stdout, packages) & set(packages)

    def index_age(self, probe: Probe) -> float | None:
        """Seconds since the package index was refreshed; None: no index at all."""
        return 0.0

    def without_candidate(self, probe: Probe, packages: Sequence[str]) -> list[str]:
        """Packages the current index cannot install (a refresh may fix it)."""
        return []

    def refresh(self) -> Command | None:
        return None

    def repair(self, probe: Probe) -> Command | None:
        """A command that finishes an interrupted transaction, when one was interrupted."""
        return None

    def install(self, packages: Sequence[str]) -> list[Command]:
        raise NotImplementedError


class Apt(PackageManager):
    name: str = "apt"
    lists: str = "/var/lib/apt/lists"
    lock_timeout: int = 300

    ENV = (("DEBIAN_FRONTEND", "noninteractive"),)

    def query(self, packages: Sequence[str]) -> tuple[str, ...]:
        return ("dpkg-query", "-W", "-f=${Package}\\t${db:Status-Abbrev}\\n", *packages)

    def parse_installed(self, stdout: str, packages: Sequence[str]) -> set[str]:
        out = set()
        for line in stdout.splitlines():
            name, _, status = line.partition("\t")
            # "ii " only: "iU"/"iF" (unpacked or half-configured by an interrupted run) are not installed
            if status.startswith("ii") and status[2:3] in ("", " "):
                out.add(name.split(":")[0])
        return out

    def index_age(self, probe: Probe) -> float | None:
        indexes = probe.glob(f"{self.lists}/*_Packages*")
        times = [t for t in (probe.mtime(p) for p in indexes) if t is not None]
        if not times:
            return None
        return max(0.0, probe.now() - max(times))

    def without_candidate(self, probe: Probe, packages: Sequence[str]) -> list[str]:
        res = probe.run(("apt-cache", "policy", *packages))
        candidates: dict[str, str] = {}
        current = None
        for line in res.stdout.splitlines():
            m = re.match(r"^(\S+):$", line)
            if m:
                current = m.group(1).split(":")[0]
                continue
            m = re.match(r"^\s+Candidate:\s*(\S+)", line)
            if m and current:
                candidates[current] = m.group(1)
        return [p for p in packages if candidates.get(p, "(none)") == "(none)"]

    def repair(self, probe: Probe) -> Command | None:
        # dpkg journals a transaction in updates/ until it completes: files there mean
        # an install was interrupted, and apt refuses to run until it is finished.
        if probe.glob("/var/lib/dpkg/updates/[0-9]*"):
            return Command(("dpkg", "--configure", "-a"), sudo=True, env=self.ENV, purpose="finish an interrupted package transaction")
        return None

    def _apt(self, *args: str) -> tuple[str, ...]:
        return ("apt-get", "-q", "-o", f"DPkg::Lock::Timeout={self.lock_timeout}", *args)

    def refresh(self) -> Command:
        return Command(self._apt("update"), sudo=True, env=self.ENV, purpose="refresh the package index")

    def install(self, packages: Sequence[str]) -> list[Command]:
        argv = self._apt(
            "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
            "install", "-y", "--no-install-recommends", *packages,
        )
        return [Command(argv, sudo=True, env=self.ENV, purpose="install system packages in one transaction")]


class Rpm(PackageManager):
    """dnf and zypper share rpm's database for the installed probe."""

    def query(self, packages: Sequence[str]) -> tuple[str, ...]:
        return ("rpm", "-q", "--qf", "%{NAME}\\n", *packages)

    def parse_installed(self, stdout: str, packages: Sequence[str]) -> set[str]:
        return {line.strip() for line in stdout.splitlines() if line.strip() and " " not in line.strip()}


class Dnf(Rpm):
    """dnf refreshes expired metadata by itself (metadata_expire), so no refresh step."""

    name: str = "dnf"

    def install(self, packages: Sequence[str]) -> list[Command]:
        argv = ("dnf", "install", "-y", "--setopt=install_weak_deps=False", *packages)
        return [Command(argv, sudo=True, purpose="install system packages in one transaction")]


class Zypper(Rpm):
    """zypper auto-refreshes its repositories (autorefresh=1 on openSUSE's defaults)."""

    name: str = "zypper"

    def install(self, packages: Sequence[str]) -> list[Command]:
        argv = ("zypper", "--non-interactive", "install", "--no-recommends", *packages)
        return [Command(argv, sudo=True, purpose="install system packages in one transaction")]


class Pacman(PackageManager):
    """Arch supports no partial upgrades: a stale sync database means -Syu, never -Sy."""

    name: str = "pacman"
    sync: str = "/var/lib/pacman/sync"

    def query(self, packages: Sequence[str]) -> tuple[str, ...]:
        return ("pacman", "-Q", *packages)

    def parse_installed(self, stdout: str, packages: Sequence[str]) -> set[str]:
        return {line.split()[0] for line in stdout.splitlines() if line.strip()}

    def index_age(self, probe: Probe) -> float | None:
        times = [t for t in (probe.mtime(p) for p in probe.glob(f"{self.sync}/*.db")) if t is not None]
        return max(0.0, probe.now() - max(times)) if times else None

    def refresh(self) -> Command:
        return Command(("pacman", "-Syu", "--noconfirm"), sudo=True, purpose="refresh the sync database (full upgrade, as Arch requires)")

    def install(self, packages: Sequence[str]) -> list[Command]:
        return [Command(("pacman", "-S", "--needed", "--noconfirm", *packages), sudo=True,
                        purpose="install system packages in one transaction")]


class Apk(PackageManager):
    name: str = "apk"
    cache: str = "/var/cache/apk"

    def query(self, packages: Sequence[str]) -> tuple[str, ...]:
        return ("apk", "info", "-e", *packages)

    def parse_installed(self, stdout: str, packages: Sequence[str]) -> set[str]:
        return {line.strip() for line in stdout.splitlines() if line.strip()}

    def index_age(self, probe: Probe) -> float | None:
        times = [t for t in (probe.mtime(p) for p in probe.glob(f"{self.cache}/APKINDEX.*.tar.gz")) if t is not None]
        return max(0.0, probe.now() - max(times)) if times else None

    def refresh(self) -> Command:
        return Command(("apk", "update"), sudo=True, purpose="refresh the package index")

    def install(self, packages: Sequence[str]) -> list[Command]:
        return [Command(("apk", "add", *packages), sudo=True, purpose="install system packages in one transaction")]


class Brew(PackageManager):
    """Homebrew refuses root and updates itself before installing."""

    name: str = "brew"

    def query(self, packages: Sequence[str]) -> tuple[str, ...]:
        return ("brew", "list", "--formula", "-1")

    def parse_installed(self, stdout: str, packages: Sequence[str]) -> set[str]:
        return {line.strip() for line in stdout.splitlines() if line.strip()}

    def install(self, packages: Sequence[str]) -> list[Command]:
        return [Command(("brew", "install", *packages), purpose="install Homebrew formulae in one call")]


class Winget(PackageManager):
    """winget installs one id per call and elevates through UAC itself."""

    name: str = "winget"

    def query(self, packages: Sequence[str]) -> tuple[str, ...]:
        return ("winget", "list", "--accept-source-agreements", "--disable-interactivity")

    def parse_installed(self, stdout: str, packages: Sequence[str]) -> set[str]:
        words = set(stdout.split())
        return {p for p in packages if p in words}

    def install(self, packages: Sequence[str]) -> list[Command]:
        return [
            Command(("winget", "install", "--id", p, "--exact", "--silent", "--disable-interactivity",
                     "--accept-package-agreements", "--accept-source-agreements"), purpose=f"install {p}")
            for p in packages
        ]


ADAPTERS: dict[str, PackageManager] = {
    a.name: a for a in (Apt(), Dnf(), Zypper(), Pacman(), Apk(), Brew(), Winget())
}


def adapter(name: str) -> PackageManager:
    return ADAPTERS[name]
