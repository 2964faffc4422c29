"""Per-platform knowledge as data: ``profiles/*.toml``, validated strictly.

A profile names its package manager and maps *needs* (``build-tools``, ``cairo``, …)
to package names. Resolution goes distro id, then each ``ID_LIKE`` entry (with a
visible notice), then the system (macOS, Windows); otherwise a clear error. The
package manager comes from the profile, never from whichever binaries happen to exist.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .. import toml
from ..command import valid_package_name
from ..errors import ConfigError, PlatformError
from ..machine.facts import Facts
from ..paths import data_dir

PROFILES_DIR = data_dir()
PACKAGE_MANAGERS = ("apt", "dnf", "zypper", "pacman", "apk", "brew", "winget")
PIPX_METHODS = ("package", "venv")
EXTRA_STEPS = ("xcode-command-line-tools", "python-org-certificates", "msvc-build-tools", "py-launcher")
# needs every profile must map (possibly to [] = provided by the base system)
CORE_NEEDS = ("build-tools", "python-headers", "venv")

SCHEMA: dict[str, Any] = {
    "name": str,
    "description": str,
    "package-manager": str,
    "extends": str,
    "python": {"versioned-headers": str, "versioned-venv": str, "packages": list, "note": str, "install": str, "path": str,
               "available": list, "repository": str, "repository-available": list, "repository-setup": list, "fix": str},
    "pipx": {"method": str, "path-fix": str},
    "ca": {"anchors": str, "suffix": str, "update": list, "bundle": str, "package": str},
    "extra-steps": {"steps": list},
    "needs": dict,
    "unavailable": dict,
    "repositories": dict,
    "release": dict,
}
# what a [release."X"] table may override
RELEASE_SCHEMA = {k: v for k, v in SCHEMA.items() if k in ("python", "pipx", "ca", "extra-steps", "needs", "unavailable", "repositories")}


class TrustStore(NamedTuple):
    """Where an extra CA certificate goes, the command that rebuilds the bundle, and the
    package that brings that command (installing it builds the bundle from the anchors)."""

    anchors: str
    suffix: str
    update: tuple[str, ...]
    bundle: str
    package: str = ""


def fill_version(template: str, minor: str) -> str:
    """A versioned package name: ``{version}`` = "3.12", ``{version_nodot}`` = "312" (openSUSE's naming)."""
    return template.replace("{version}", minor).replace("{version_nodot}", minor.replace(".", ""))


class PythonOffer(NamedTuple):
    """How this platform installs a Python the machine lacks (``[python]``, see profiles/README.md)."""

    install: str = ""  # package template: "python{version}", "python@{version}", "Python.Python.{version}"
    path: str = ""  # where it lands: "/usr/bin/python{version}"
    available: tuple[str, ...] = ()  # minors the platform's own repositories offer
    repository: str = ""  # an extra repository that offers more (Ubuntu: ppa:deadsnakes/ppa)
    repository_available: tuple[str, ...] = ()
    repository_setup: tuple[str, ...] = ()  # packages the repository step needs first
    fix: str = ""  # the platform's own way out, in words


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    package_manager: str
    needs: Mapping[str, tuple[str, ...]]
    versioned_headers: str = ""
    versioned_venv: str = ""
    python_packages: tuple[str, ...] = ()
    pipx_method: str = "package"
    trust_store: TrustStore | None = None
    extra_steps: tuple[str, ...] = ()
    unavailable: Mapping[str, str] = field(default_factory=dict)  # need -> why it cannot be installed here
    repositories: Mapping[str, str] = field(default_factory=dict)  # package -> repository it lives in (not enabled by default)
    files: tuple[str, ...] = field(default=(), compare=False)
    python: PythonOffer = PythonOffer()

    def packages(self, need: str, *, where: str = "") -> tuple[str, ...]:
        """Package names for a need; a need this platform does not map is an error."""
        if need not in self.needs:
            known = ", ".join(sorted(self.needs))
            if need in self.unavailable:
                raise ConfigError(
                    f"the need '{need}' is not available on the '{self.name}' platform: {self.unavailable[need]}",
                    "Install it by other means, or use a binary wheel.",
                    where=where,
                )
            raise ConfigError(
                f"the need '{need}' has no packages in the '{self.name}' profile ({self.files[-1] if self.files else ''}).",
                f"Use one of: {known}; or add '{need} = [\"package\", …]' under [needs] in profiles/{self.name}.toml.",
                where=where,
            )
        return self.needs[need]


class Resolution(NamedTuple):
    profile: Profile
    matched: str
    via: str  # id | id_like | system | forced
    notice: str | None = None


# data files beside the profiles that are not profiles
NOT_PROFILES = ("build-needs",)


def available(directory: Path = PROFILES_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.toml") if p.stem not in NOT_PROFILES)


def _check_table(data: Mapping[str, Any], schema: Mapping[str, Any], where: str, prefix: str = "") -> None:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in schema:
            raise ConfigError(
                f"unknown key '{dotted}'.",
                f"Allowed here: {', '.join(sorted(schema))}. See profiles/README.md.",
                where=where,
            )
        expected = schema[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"'{dotted}' must be a table.", "See profiles/README.md.", where=where)
            _check_table(value, expected, where, dotted + ".")
        elif not isinstance(value, expected):
            raise ConfigError(
                f"'{dotted}' must be a {expected.__name__}, not {type(value).__name__} ({value!r}).",
                "See profiles/README.md.",
                where=where,
            )


def _package_list(value: Any, where: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"'{key}' must be a list of package names.", 'For example: ["libpq-dev"].', where=where)
    for name in value:
        if not valid_package_name(name):
            raise ConfigError(
                f"'{key}' has an invalid package name {name!r}.",
                "Package names are letters, digits and + . _ @ / : - (no spaces, no leading '-').",
                where=where,
            )
    return tuple(value)


def _text(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"'{key}' must be a non-empty string.", "See profiles/README.md.", where=where)
    return value


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _overlay(base: dict[str, Any], over: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Merge ``over`` (a child profile or a release table) over ``base``; a need it maps or
    declares unavailable replaces the other kind from ``base``."""
    needs, unavailable = over.get("needs", {}), over.get("unavailable", {})
    both = sorted(set(needs) & set(unavailable))
    if both:
        raise ConfigError(f"{', '.join(both)} both in [needs] and in [unavailable].", "Keep one of them.", where=where)
    out = _merge(base, over)
    out["needs"] = {k: v for k, v in out.get("needs", {}).items() if k not in unavailable}
    out["unavailable"] = {k: v for k, v in out.get("unavailable", {}).items() if k not in needs}
    return out


def _raw(name: str, directory: Path, chain: tuple[str, ...] = ()) -> tuple[dict[str, Any], tuple[str, ...]]:
    path = directory / f"{name}.toml"
    if not path.is_file():
        raise PlatformError(
            f"there is no profile '{name}' ({path}).",
            f"Known profiles: {', '.join(available(directory))}.",
        )
    if name in chain:
        raise ConfigError(f"'extends' forms a loop: {' -> '.join((*chain, name))}.", "Remove one 'extends'.", where=str(path))
    data = toml.load(path)
    where = str(path)
    _check_table(data, SCHEMA, where)
    if data.get("name", name) != name:
        raise ConfigError(f"'name' is {data['name']!r} but the file is {name}.toml.", "Make them equal.", where=where)
    files = (*chain, name)
    if "extends" in data:
        parent, parent_files = _raw(data["extends"], directory, files)
        merged = _overlay(parent, {k: v for k, v in data.items() if k != "extends"}, where)
        return merged, (*parent_files, where)
    return data, (where,)


def _release_override(data: Mapping[str, Any], version: str) -> dict[str, Any]:
    """The ``[release."X"]`` table for ``version`` (already validated): the exact VERSION_ID first, then its major part."""
    releases = data.get("release", {})
    for key in (version, version.split(".")[0]) if version else ():
        if key in releases:
            return releases[key]
    return {}


def load(name: str, directory: Path = PROFILES_DIR, *, release: str = "") -> Profile:
    """Load and validate one profile (its ``extends`` chain, then the release override)."""
    data, files = _raw(name, directory)
    where = files[-1]
    for key, table in data.get("release", {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"'release.{key}' must be a table.", "See profiles/README.md.", where=where)
        _check_table(table, RELEASE_SCHEMA, where, f"release.{key}.")
    data = _overlay(_overlay({}, data, where), _release_override(data, release), where)
    pm = data.get("package-manager")
    if pm not in PACKAGE_MANAGERS:
        raise ConfigError(
            f"'package-manager' is {pm!r}.", f"Use one of: {', '.join(PACKAGE_MANAGERS)}.", where=where
        )
    needs_raw = data.get("needs", {})
    needs = {k: _package_list(v, where, f"needs.{k}") for k, v in needs_raw.items()}
    unavailable = {k: _text(v, where, f"unavailable.{k}") for k, v in data.get("unavailable", {}).items()}
    repositories = {}
    for pkg, repo in data.get("repositories", {}).items():
        _package_list([pkg], where, f"repositories.{pkg}")
        repositories[pkg] = _text(repo, where, f"repositories.{pkg}")
    pipx = data.get("pipx", {})
    method = pipx.get("method", "package")
    for core in (*CORE_NEEDS, "pipx") if method == "package" else CORE_NEEDS:
        if core not in needs:
            raise ConfigError(f"[needs] lacks '{core}'.", f"Add '{core} = [...]' ([] when the base system provides it).", where=where)
    py = data.get("python", {})
    for key in ("versioned-headers", "versioned-venv"):
        tmpl = py.get(key, "")
        if tmpl and not valid_package_name(fill_version(tmpl, "3.0")):
            raise ConfigError(f"'python.{key}' = {tmpl!r} is not a package name template.", 'For example: "python{version}-dev".', where=where)
    offer = _python_offer(py, where)
    if method not in PIPX_METHODS:
        raise ConfigError(f"'pipx.method' is {method!r}.", f"Use one of: {', '.join(PIPX_METHODS)}.", where=where)
    steps = tuple(data.get("extra-steps", {}).get("steps", ()))
    for s in steps:
        if s not in EXTRA_STEPS:
            raise ConfigError(f"'extra-steps.steps' has unknown step {s!r}.", f"Known: {', '.join(EXTRA_STEPS)}.", where=where)
    store = None
    ca = data.get("ca")
    if ca:
        missing = [k for k in ("anchors", "update", "bundle") if k not in ca]
        if missing:
            raise ConfigError(f"[ca] lacks {', '.join(missing)}.", "See profiles/README.md.", where=where)
        update = ca["update"]
        if not update or not all(isinstance(a, str) and a and not a.startswith("-") for a in update[:1]):
            raise ConfigError("'ca.update' must be a non-empty argv list.", 'For example: ["update-ca-certificates"].', where=where)
        package = ca.get("package", "")
        if package:
            _package_list([package], where, "ca.package")
        store = TrustStore(ca["anchors"], ca.get("suffix", ".crt"), tuple(update), ca["bundle"], package)
    return Profile(
        name=name,
        description=data.get("description", ""),
        package_manager=pm,
        needs=needs,
        versioned_headers=py.get("versioned-headers", ""),
        versioned_venv=py.get("versioned-venv", ""),
        python_packages=_package_list(py.get("packages", []), where, "python.packages"),
        pipx_method=method,
        trust_store=store,
        extra_steps=steps,
        unavailable=unavailable,
        repositories=repositories,
        files=files,
        python=offer,
    )


MINOR = re.compile(r"^3\.\d{1,2}$")


def _python_offer(py: Mapping[str, Any], where: str) -> PythonOffer:
    """``[python]``'s interpreter offer, validated: minors like "3.12", names from templates."""
    for key in ("available", "repository-available"):
        for m in py.get(key, []):
            if not isinstance(m, str) or not MINOR.match(m):
                raise ConfigError(f"'python.{key}' has {m!r}, not a minor version.", 'For example: ["3.11", "3.12"].', where=where)
    install = py.get("install", "")
    if install and not valid_package_name(install.replace("{version}", "3.0").replace("{version_nodot}", "30")):
        raise ConfigError(f"'python.install' = {install!r} is not a package name template.", 'For example: "python{version}".', where=where)
    if (py.get("available") or py.get("repository-available")) and not install:
        raise ConfigError("'python.available' needs 'python.install' (the package name template).", "See profiles/README.md.", where=where)
    repo = py.get("repository", "")
    if repo and not re.match(r"^ppa:[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$", repo):
        raise ConfigError(f"'python.repository' = {repo!r} is not a PPA name.", 'For example: "ppa:deadsnakes/ppa".', where=where)
    return PythonOffer(install, py.get("path", ""), tuple(py.get("available", [])), repo, tuple(py.get("repository-available", [])),
                       _package_list(py.get("repository-setup", []), where, "python.repository-setup"), py.get("fix", ""))


def resolve(facts: Facts, directory: Path = PROFILES_DIR, forced: str | None = None) -> Resolution:
    """Pick the profile for these facts: id, then ID_LIKE (noticed), then the system."""
    if forced:
        return Resolution(load(forced, directory, release=facts.distro_version), forced, "forced",
                          f"using the '{forced}' profile as asked (--profile).")
    names = set(available(directory))
    if facts.distro_id in names:
        return Resolution(load(facts.distro_id, directory, release=facts.distro_version), facts.distro_id, "id")
    for like in facts.id_like:
        if like in names:
            notice = (
                f"no profile for '{facts.distro_id}'; using the '{like}' profile because "
                f"{facts.distro_name or facts.distro_id} declares ID_LIKE=\"{' '.join(facts.id_like)}\"."
            )
            return Resolution(load(like, directory, release=facts.distro_version), like, "id_like", notice)
    system_profile = {"Darwin": "macos", "Windows": "windows"}.get(facts.system)
    if system_profile and system_profile in names:
        return Resolution(load(system_profile, directory, release=facts.distro_version), system_profile, "system")
    like = f" (ID_LIKE: {' '.join(facts.id_like)})" if facts.id_like else " (no ID_LIKE)"
    raise PlatformError(
        f"this platform is not supported: {facts.distro_name or facts.system} id '{facts.distro_id}'{like} matches no profile.",
        f"Known profiles: {', '.join(sorted(names))}. If your system is compatible with one of them, run again "
        f"with --profile NAME; to support it properly, add profiles/{facts.distro_id}.toml (see profiles/README.md).",
    )
