"""What the machine is: gathered by read-only probes, frozen, never guessed.

The records live here; each fact unit beside it asks one question and parses the answer
(``identity``: os-release through ``distro``; ``pythons``: each interpreter's own probe;
``host``: tools, user, privileges, containers; ``pipconf``: pip's config files), so tests
feed them saved output and fixture trees. ``gather(root=...)`` assembles them; ``root``
relocates the os-release lookup for tests.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
# the environment the steps may read (never printed: a proxy URL may carry a password);
# steps never read os.environ themselves
STEP_VARS = tuple(v for name in PROXY_VARS for v in (name.lower(), name)) + ("PIPX_HOME", "PIPX_BIN_DIR")
CA_VARS = ("PIP_CERT", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
PACKAGE_MANAGER_BINARIES = ("apt-get", "dnf", "yum", "zypper", "pacman", "apk", "brew", "winget")


class TagFacts(NamedTuple):
    """What decides which wheels an interpreter accepts (the kit builds the tag list from it)."""

    implementation: str = "cpython"
    nodot: str = ""  # "311"
    abi: str = ""  # "cp311", "cp313t"
    platform: str = ""  # sysconfig.get_platform(): "linux-x86_64", "macosx-11.0-arm64", "win-amd64"
    libc: str = ""  # "glibc" | "musl" | "" (not Linux)
    libc_version: str = ""  # "2.36"
    bits64: bool = True
    mac_version: str = ""  # "14.5"


@dataclass(frozen=True)
class PythonInstall:
    """One interpreter found on the machine, as it reports itself."""

    path: str
    version: str
    implementation: str = "cpython"
    os_managed: bool = False  # owned by the OS package manager (not pyenv, conda, python.org)
    externally_managed: str | None = None  # path of the PEP 668 marker, when present
    has_venv: bool = False
    has_ensurepip: bool = False
    has_pip: bool = False
    pip_wheel: str | None = None  # the wheel ensurepip installs pip from (pip runs from it directly)
    has_ssl: bool = False
    openssl: str | None = None
    cafile: str | None = None
    cafile_exists: bool = False
    headers: str | None = None  # path of Python.h, when present
    framework: str = ""  # macOS: "python.org", "homebrew", "system"; else ""
    purelib: str | None = None
    user_site: str | None = None
    is_default: bool = False  # the OS's default python3 (Debian: /usr/bin/python3)
    tags: TagFacts | None = None  # None: not known (an old probe, or an interpreter not installed yet)

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", self.version)[:3])


class Tool(NamedTuple):
    """A command on PATH and the interpreter behind it (read from its shebang, not run)."""

    name: str
    path: str | None
    python: str | None = None


@dataclass(frozen=True)
class Facts:
    """Everything the plan and the diagnosis need to know about one machine."""

    system: str  # Linux | Darwin | Windows
    distro_id: str
    distro_version: str
    distro_codename: str
    distro_name: str
    id_like: tuple[str, ...]
    arch: str
    wsl: bool = False
    container: str | None = None  # docker, podman, lxc, chroot, …
    user: str = ""
    home: str = ""
    is_root: bool = False
    sudo: str = "absent"  # root | nopasswd | password | absent
    package_managers: tuple[str, ...] = ()
    pythons: tuple[PythonInstall, ...] = ()
    pip: Tool = Tool("pip", None)
    pipx: Tool = Tool("pipx", None)
    compiler: str | None = None
    ca: Mapping[str, str] = field(default_factory=dict)  # env vars and pip's cert setting
    proxies: Mapping[str, str] = field(default_factory=dict)  # credentials masked
    path: tuple[str, ...] = ()
    preset: str | None = None  # set when these facts come from --platform, not this machine
    pipx_home: str = ""  # where pipx keeps its venvs here: PIPX_HOME, else platformdirs' user data dir
    # pip's index settings from its config files and PIP_* variables: key -> (where, value masked)
    pip_index: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # STEP_VARS as set; not in to_json

    @property
    def platform_key(self) -> str:
        return f"{self.distro_id}:{self.distro_version}" if self.distro_version else self.distro_id

    @property
    def default_python(self) -> PythonInstall | None:
        for p in self.pythons:
            if p.is_default:
                return p
        return self.pythons[0] if self.pythons else None

    def to_json(self) -> dict[str, object]:
        out = asdict(self)  # the records inside (Tool, TagFacts) are named tuples: objects in JSON too
        del out["env"]  # unmasked values: proxies are shown masked under "proxies"
        out["pip"], out["pipx"] = self.pip._asdict(), self.pipx._asdict()
        for shown, py in zip(out["pythons"], self.pythons):
            shown["tags"] = py.tags._asdict() if py.tags else None
        return out


# --------------------------------------------------------------------------------------
# distro identity


# --------------------------------------------------------------------------------------
# interpreters


# --------------------------------------------------------------------------------------
# the rest: tools on PATH, privileges, environment


def gather(
    root: str | os.PathLike[str] = "/",
    *,
    run: Callable[[Sequence[str]], subprocess.CompletedProcess[str]] | None = None,
) -> Facts:
    """Probe this machine (read-only). ``root`` relocates the os-release lookup for tests;
    ``run`` replaces the probes' subprocess runner (interpreters are then probed one by one)."""
    # the units build the records defined above, so they are imported here, not at the top
    from .host import _login_name, detect_container, detect_sudo, find_tool
    from .identity import _uname, read_identity
    from .pipconf import pip_config_values, pip_settings
    from .pythons import _run, gather_pythons

    env = os.environ
    ident = read_identity(root)
    path = env.get("PATH", os.defpath)
    path_dirs = tuple(path.split(os.pathsep))
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    home = env.get("HOME") or os.path.expanduser("~")
    ca = {k: env[k] for k in CA_VARS if env.get(k)}
    ca.update(pip_config_values(env, home))
    settings = pip_settings(env, home)
    from ..redact import mask  # facts are printed and logged: proxies keep no credentials

    proxies = {f"{scheme.upper()}_PROXY": mask(url) for scheme, url in _proxies(env).items()}
    wsl = False
    with contextlib.suppress(OSError):
        wsl = "microsoft" in Path("/proc/version").read_text().lower()
    compiler = next(filter(None, (shutil.which(c, path=path) for c in ("cc", "gcc", "clang"))), None)
    return Facts(
        system=ident.system,
        distro_id=ident.distro_id,
        distro_version=ident.distro_version,
        distro_codename=ident.distro_codename,
        distro_name=ident.distro_name,
        id_like=ident.id_like,
        arch=_uname()[1],
        wsl=wsl,
        container=detect_container(),
        user=env.get("USER") or env.get("LOGNAME") or _login_name(),
        home=home,
        is_root=is_root,
        sudo=detect_sudo(is_root, run or _run),
        package_managers=tuple(b for b in PACKAGE_MANAGER_BINARIES if shutil.which(b, path=path)),
        pythons=gather_pythons(path_dirs, run),
        pip=find_tool("pip", path) if shutil.which("pip", path=path) else find_tool("pip3", path),
        pipx=find_tool("pipx", path),
        compiler=compiler,
        ca=ca,
        proxies=proxies,
        path=path_dirs,
        pipx_home=env.get("PIPX_HOME") or _pipx_home(),
        pip_index={k: v for k, v in settings.items() if k in ("index-url", "extra-index-url", "trusted-host")},
        env={k: env[k] for k in STEP_VARS if env.get(k)},
    )


def _proxies(env: Mapping[str, str]) -> dict[str, str]:
    """The proxies by scheme, as urllib reads them from the environment (lower case wins;
    HTTP_PROXY is ignored under CGI). urllib.request is imported only when a proxy variable
    is set: it costs the no-op run more than the rest of the facts on a machine without one."""
    if not any(k.lower().endswith("_proxy") for k in env):
        return {}
    from urllib.request import getproxies_environment

    return getproxies_environment()


def _pipx_home() -> str:
    """pipx's default home (pipx >= 1.3 uses platformdirs' user data dir; an older ~/.local/pipx is still honoured by it)."""
    import platformdirs

    legacy = os.path.expanduser(os.path.join("~", ".local", "pipx"))
    return legacy if os.path.isdir(legacy) else platformdirs.user_data_dir("pipx")
