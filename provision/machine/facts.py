"""What the machine is: gathered by read-only probes, frozen, never guessed.

This is the only module that imports ``distro`` or ``platform``. ``gather(root=...)``
reads ``os-release`` below ``root`` so tests can point it at a fixture tree; the
interpreter probes run each Python found with a constant probe script (``-I -c``), which
is cheap enough for the no-op re-run (tens of milliseconds per interpreter).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import distro

from ..errors import ProvisionError
from . import pyprobe
from .pyprobe import PYTHON_PROBE, candidate_pythons

PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
# the environment the steps may read (never printed: a proxy URL may carry a password);
# steps never read os.environ themselves
STEP_VARS = tuple(v for name in PROXY_VARS for v in (name.lower(), name)) + ("PIPX_HOME", "PIPX_BIN_DIR")
CA_VARS = ("PIP_CERT", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
PACKAGE_MANAGER_BINARIES = ("apt-get", "dnf", "yum", "zypper", "pacman", "apk", "brew", "winget")


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

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", self.version)[:3])


@dataclass(frozen=True)
class Tool:
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
        out = asdict(self)
        del out["env"]  # unmasked values: proxies are shown masked under "proxies"
        return out


# --------------------------------------------------------------------------------------
# distro identity


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


# --------------------------------------------------------------------------------------
# interpreters

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """A read-only query, bounded (its whole process group is ended on timeout), output decoded leniently."""
    code, out, err = pyprobe.run_bounded(list(argv), pyprobe.PROBE_TIMEOUT)
    return subprocess.CompletedProcess(list(argv), code, out, err)


def probe_python(path: str, run: Runner = _run) -> PythonInstall | None:
    """Ask one interpreter about itself; None when it does not run or is too old to say."""
    try:
        res = run([path, "-I", "-c", PYTHON_PROBE])
    except (OSError, subprocess.SubprocessError, ValueError):  # ValueError: UnicodeDecodeError of a raw runner
        return None
    data = pyprobe.parse(res.stdout) if res.returncode == 0 else None
    return python_from_probe(data) if data is not None else None


def python_from_probe(data: Mapping[str, object]) -> PythonInstall:
    executable = str(data["executable"])
    stdlib = str(data.get("stdlib") or "")
    include = str(data.get("include") or "")
    marker = os.path.join(stdlib, "EXTERNALLY-MANAGED") if stdlib else ""
    header = os.path.join(include, "Python.h") if include else ""
    cafile = data.get("cafile") or data.get("openssl_cafile")
    prefix = str(data.get("base_prefix") or "")
    framework = ""
    if data.get("framework"):
        if prefix.startswith("/Library/Frameworks/Python.framework"):
            framework = "python.org"
        elif "/homebrew/" in prefix.lower() or "/Cellar/" in prefix or prefix.startswith("/usr/local/opt"):
            framework = "homebrew"
        elif prefix.startswith(("/Library/Developer/CommandLineTools", "/Applications/Xcode")):
            framework = "system"
    os_managed = prefix in ("/usr", "/System/Library/Frameworks/Python.framework") or framework == "system"
    return PythonInstall(
        path=executable,
        version=str(data["version"]),
        implementation=str(data.get("implementation") or "cpython"),
        os_managed=os_managed,
        externally_managed=marker if marker and os.path.exists(marker) else None,
        has_venv=bool(data.get("venv")),
        has_ensurepip=bool(data.get("ensurepip")),
        has_pip=bool(data.get("pip")),
        pip_wheel=str(data["pip_wheel"]) if data.get("pip_wheel") and os.path.isfile(str(data["pip_wheel"])) else None,
        has_ssl=bool(data.get("ssl")),
        openssl=data.get("openssl") and str(data.get("openssl")),
        cafile=str(cafile) if cafile else None,
        cafile_exists=bool(cafile) and os.path.exists(str(cafile)),
        headers=header if header and os.path.exists(header) else None,
        framework=framework,
        purelib=str(data.get("purelib") or "") or None,
        user_site=str(data.get("user_site") or "") or None,
    )


def gather_pythons(path_dirs: Sequence[str], run: Runner | None = None) -> tuple[PythonInstall, ...]:
    """Every candidate interpreter, probed all at once (or one by one through ``run``, for tests)."""
    if run is None:
        probes = pyprobe.start(path_dirs)
        candidates = probes.candidates
        probed = [python_from_probe(d) if d is not None else None for d in probes.answers()]
    else:
        candidates = candidate_pythons(path_dirs)
        probed = [probe_python(c, run) for c in candidates]
    seen: set[str] = set()
    out: list[PythonInstall] = []
    default_real = os.path.realpath("/usr/bin/python3") if os.path.exists("/usr/bin/python3") else None
    for cand, py in zip(candidates, probed):
        if py is None:
            continue
        real = os.path.realpath(py.path)
        if real in seen:
            continue
        seen.add(real)
        out.append(replace(py, path=cand if os.path.realpath(cand) == real else py.path, is_default=real == default_real))
    return tuple(out)


# --------------------------------------------------------------------------------------
# the rest: tools on PATH, privileges, environment


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


def mask_url(value: str) -> str:
    """Hide credentials in proxy URLs: facts are printed and logged (the kit's one mask)."""
    from ..redact import mask

    return mask(value)


def pip_config_files(env: Mapping[str, str], home: str) -> list[str]:
    """pip's config files in the order pip reads them (a later file wins), as pip's configuration.py does.

    Site-wide: each ``$XDG_CONFIG_DIRS/pip/pip.conf`` (default ``/etc/xdg``), then ``/etc/pip.conf``;
    per user (skipped when ``PIP_CONFIG_FILE`` names an existing file): the legacy ``~/.pip/pip.conf``,
    then ``$XDG_CONFIG_HOME/pip/pip.conf``; last ``PIP_CONFIG_FILE``. ``PIP_CONFIG_FILE=/dev/null``
    turns every file off.
    """
    env_file = env.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    dirs = [d for d in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep) if d]
    files = [os.path.join(d, "pip", "pip.conf") for d in dirs] + ["/etc/pip.conf"]
    if not (env_file and os.path.exists(env_file)):
        xdg = env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
        files += [os.path.join(home, ".pip", "pip.conf"), os.path.join(xdg, "pip", "pip.conf")]
    if env_file:
        files.append(env_file)
    return files


PIP_KEYS = ("cert", "index-url", "extra-index-url", "trusted-host", "proxy")
PIP_INDEX_VARS = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST")


def pip_settings(env: Mapping[str, str], home: str) -> dict[str, tuple[str, str]]:
    """pip's settings that matter here, key -> (where it comes from, value masked); the environment wins, as in pip."""
    out: dict[str, tuple[str, str]] = {}
    files = [f for f in pip_config_files(env, home) if os.path.isfile(f)]
    if files:
        import configparser  # only when there is a file to read: most machines have none

        for f in files:
            cp = configparser.RawConfigParser()
            try:
                cp.read(f, encoding="utf-8")
            except (configparser.Error, OSError, UnicodeDecodeError):
                continue
            for section in ("global", "install"):  # [install] overrides [global] for pip install
                for key in PIP_KEYS:
                    if cp.has_option(section, key):
                        out[key] = (f"{f} [{section}] {key}", mask_url(" ".join(cp.get(section, key).split())))
    for var in PIP_INDEX_VARS + ("PIP_CERT", "PIP_PROXY"):
        if env.get(var):
            out[var[4:].lower().replace("_", "-")] = (var, mask_url(" ".join(env[var].split())))
    return out


def pip_config_values(env: Mapping[str, str], home: str) -> dict[str, str]:
    """pip's cert/index-url/proxy as its config files set them (later files win, as in pip)."""
    settings = pip_settings({k: v for k, v in env.items() if k not in PIP_INDEX_VARS + ("PIP_CERT", "PIP_PROXY")}, home)
    return {f"pip:{k}": v for k, (_, v) in settings.items() if k in ("cert", "index-url", "proxy")}


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


def gather(
    root: str | os.PathLike[str] = "/",
    *,
    env: Mapping[str, str] | None = None,
    run: Runner = _run,
) -> Facts:
    """Probe this machine (read-only). ``root`` relocates the os-release lookup for tests."""
    env = dict(os.environ if env is None else env)
    ident = read_identity(root)
    path = env.get("PATH", os.defpath)
    path_dirs = tuple(path.split(os.pathsep))
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    home = env.get("HOME") or os.path.expanduser("~")
    ca = {k: env[k] for k in CA_VARS if env.get(k)}
    ca.update(pip_config_values(env, home))
    settings = pip_settings(env, home)
    proxies = {}
    for k in PROXY_VARS:
        v = env.get(k) or env.get(k.lower())
        if v:
            proxies[k] = mask_url(v)
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
        sudo=detect_sudo(is_root, run),
        package_managers=tuple(b for b in PACKAGE_MANAGER_BINARIES if shutil.which(b, path=path)),
        pythons=gather_pythons(path_dirs, None if run is _run else run),
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


def _pipx_home() -> str:
    """pipx's default home (pipx >= 1.3 uses platformdirs' user data dir; an older ~/.local/pipx is still honoured by it)."""
    import platformdirs

    legacy = os.path.expanduser(os.path.join("~", ".local", "pipx"))
    return legacy if os.path.isdir(legacy) else platformdirs.user_data_dir("pipx")
