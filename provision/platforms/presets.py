"""Built-in fact presets: what a freshly installed machine of a platform looks like.

``--platform debian:12`` plans against these instead of this machine, so a team lead
can see what onboarding will do on a colleague's machine, and tests can cover
platforms this machine cannot run. Each preset is a directory under
``provision/presets/``: the platform's real os-release files plus ``preset.toml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import toml
from ..errors import PlatformError
from ..machine.facts import Facts, PythonInstall, TagFacts, Tool
from ..machine.identity import read_identity

# pipx's default home on a fresh machine of each system (platformdirs' user data dir)
PIPX_HOMES = {"Darwin": "{home}/Library/Application Support/pipx", "Windows": "{home}\\AppData\\Local\\pipx\\pipx"}
PRESETS_DIR = Path(__file__).resolve().parent / "presets"


def index(directory: Path = PRESETS_DIR) -> dict[str, Path]:
    """Every key and alias users may type, mapped to its preset directory."""
    out: dict[str, Path] = {}
    for d in sorted(p for p in directory.iterdir() if (p / "preset.toml").is_file()):
        data = toml.load(d / "preset.toml")
        for key in (data["key"], *data.get("aliases", [])):
            out[key.lower()] = d
    return out


def keys(directory: Path = PRESETS_DIR) -> list[str]:
    return sorted({toml.load(d / "preset.toml")["key"] for d in index(directory).values()})


def find(key: str, directory: Path = PRESETS_DIR) -> Path:
    presets = index(directory)
    wanted = key.strip().lower()
    if wanted in presets:
        return presets[wanted]
    # "debian" alone: the newest preset of that id
    same_id = sorted((k for k in presets if k.split(":")[0] == wanted), key=_version_key)
    if same_id:
        return presets[same_id[-1]]
    raise PlatformError(
        f"unknown platform preset '{key}'.",
        f"Known presets: {', '.join(keys(directory))} (ID or ID:VERSION).",
    )


def _version_key(k: str) -> tuple[int, ...]:
    v = k.partition(":")[2]
    return tuple(int(x) for x in v.split(".") if x.isdigit())


def preset_tags(system: str, data: dict[str, Any], version: str) -> TagFacts:
    """What the wheel-tag computation needs, for a CPython on the preset's machine."""
    arch = str(data.get("arch", "x86_64"))
    nodot = "".join(version.split(".")[:2])
    libc, _, libc_version = str(data.get("libc", "")).partition(" ")
    if system == "Windows":
        plat = {"AMD64": "win-amd64", "ARM64": "win-arm64"}.get(arch, "win32")
    elif system == "Darwin":
        plat = f"macosx-{data.get('version', '11')}.0-{arch}"
    else:
        plat = f"linux-{arch}"
    return TagFacts("cpython", nodot, f"cp{nodot}", plat, libc, libc_version, True,
                    f"{data.get('version', '')}.0" if system == "Darwin" else "")


def load(key: str, directory: Path = PRESETS_DIR) -> Facts:
    """Facts of a fresh install of the platform ``key`` (ID or ID:VERSION)."""
    d = find(key, directory)
    data: dict[str, Any] = toml.load(d / "preset.toml")
    system = data.get("system", "Linux")
    if system == "Linux":
        ident = read_identity(d, system="Linux")
        distro_id, version, codename, name, like = (
            ident.distro_id, ident.distro_version, ident.distro_codename, ident.distro_name, ident.id_like
        )
    else:
        distro_id = data["key"].split(":")[0]
        version, codename, name, like = data.get("version", ""), data.get("codename", ""), data.get("name", ""), ()
    py = data.get("python", {})
    tools = data.get("tools", {})
    home = "C:\\Users\\dev" if system == "Windows" else ("/Users/dev" if system == "Darwin" else "/home/dev")
    python = PythonInstall(
        path=py["path"],
        version=py["version"],
        os_managed=py.get("os-managed", False),
        externally_managed="EXTERNALLY-MANAGED" if py.get("externally-managed") else None,
        has_venv=py.get("has-venv", False),
        has_ensurepip=py.get("has-ensurepip", False),
        has_pip=tools.get("pip", False),
        has_ssl=py.get("has-ssl", True),
        headers="Python.h" if py.get("headers") else None,
        framework=py.get("framework", ""),
        is_default=py.get("os-managed", False),
        tags=preset_tags(system, data, py["version"]),
    )
    return Facts(
        system=system,
        distro_id=distro_id,
        distro_version=version,
        distro_codename=codename,
        distro_name=name,
        id_like=like,
        arch=data.get("arch", "x86_64"),
        user="dev",
        home=home,
        is_root=False,
        sudo="password" if system == "Linux" else "absent",
        pythons=(python,),
        pip=Tool("pip", "pip" if tools.get("pip") else None),
        pipx=Tool("pipx", "pipx" if tools.get("pipx") else None),
        compiler="cc" if tools.get("compiler") else None,
        preset=data["key"],
        pipx_home=PIPX_HOMES.get(system, "{home}/.local/share/pipx").format(home=home),
    )
