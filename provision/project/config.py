"""The project's wishes: ``[tool.provision]`` in pyproject.toml, or provision.toml.

Validated before anything runs: every error names the file, the key, what was found
and what was expected. An unknown key is an error (a typo must not be ignored).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import toml
from ..errors import ConfigError
from ..venvsafety import validate_venv_path
from . import versions

KEYS = ("python", "venv", "requirements", "extras", "groups", "lock", "python-downloads", "pipx", "needs", "ca-bundle",
        "index-url", "proxy")
LOCK_CHOICES = ("auto", "uv", "poetry", "pdm", "pipenv", "pylock", "none")
NEED_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
EXTRA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
URL = re.compile(r"^(https|http|file)://[^\s'\"\\]+$")
# a name and version specifiers, nothing else (no spaces, extras, URL or markers): how pipx tools and lock
# tools are written, read with packaging.specifiers alone; anything else goes to packaging's full PEP 508
# parser (whose tokenizer compiles many regexes: a no-op run with plain requirements never imports it)
_VERSION = r"(?:~=|==|!=|<=|>=|<|>)[A-Za-z0-9.*+!_-]+"
PLAIN_REQUIREMENT = re.compile(rf"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)((?:{_VERSION})(?:,{_VERSION})*)?")

if TYPE_CHECKING:
    from packaging.requirements import Requirement


@dataclass(frozen=True)
class ProjectConfig:
    """What the project asks for, with paths made absolute against the project."""

    project: Path
    source: str  # the file the settings came from ("" when defaults)
    python: str  # a valid PEP 440 range
    venv: Path
    requirements: tuple[Path, ...] = ()
    extras: tuple[str, ...] = ()
    install_project: bool = False
    pipx: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    ca_bundle: Path | None = None
    index_url: str | None = None
    proxy: str | None = None
    # what the config itself says (the project's own files decide whatever it leaves open)
    python_given: bool = False
    requirements_given: bool = False
    groups: tuple[str, ...] | None = None  # None: the project's default dev groups
    all_groups: bool = False
    lock: str = "auto"
    python_downloads: bool = False

    @property
    def where(self) -> str:
        return self.source or str(self.project)


class PlainRequirement:
    """A requirement that is a name and version specifiers: what the kit reads of packaging's
    ``Requirement`` (name, specifier, extras, url, marker, str), from packaging's specifiers."""

    url = None
    marker = None

    def __init__(self, name: str, specifier: versions.Range) -> None:
        self.name, self.specifier, self.extras = name, specifier, set()

    def __str__(self) -> str:
        return f"{self.name}{self.specifier}"

    def __repr__(self) -> str:
        return f"<PlainRequirement({str(self)!r})>"


def plain_requirement(text: str) -> PlainRequirement | None:
    """``text`` when it is a plain requirement (``ruff``, ``uv==0.13.9``, ``poetry>=2,<3``); None for
    any other shape, and for specifiers packaging rejects (its full parser words the error)."""
    m = PLAIN_REQUIREMENT.fullmatch(text)
    if m is None:
        return None
    if m[2] and versions.specifier_error(m[2]) is not None:
        return None
    return PlainRequirement(m[1], versions.Range(m[2] or ""))


def requirement(text: str) -> PlainRequirement | Requirement:
    """``text`` as a PEP 508 requirement (packaging's ``InvalidRequirement`` when it is none)."""
    plain = plain_requirement(text)
    if plain is not None:
        return plain
    from packaging.requirements import Requirement  # more than a name and versions: the full parser

    return Requirement(text)


def pipx_requirement(spec: str) -> PlainRequirement | Requirement | None:
    """A pipx tool as a PEP 508 requirement: a name, extras and a version range, nothing else."""
    req: PlainRequirement | Requirement | None = plain_requirement(spec)
    if req is None:
        from packaging.requirements import InvalidRequirement, Requirement  # extras, spaces or worse: the full parser

        try:
            req = Requirement(spec)
        except InvalidRequirement:
            return None
    return None if req.url or req.marker else req


def pipx_package_name(spec: str) -> str:
    """The distribution name pipx files a tool under (``ruff==0.6`` -> ``ruff``)."""
    req = pipx_requirement(spec)
    return versions.canonical_name(req.name if req else spec)


def _expect(cond: bool, where: str, key: str, problem: str, expected: str) -> None:
    if not cond:
        raise ConfigError(f"key '{key}' {problem}", f"Expected {expected}.", where=where)


def _str_list(value: Any, where: str, key: str) -> list[str]:
    _expect(isinstance(value, list) and all(isinstance(v, str) for v in value), where, key,
            f"must be a list of strings, not {value!r}.", f'for example {key} = ["…"]')
    return list(value)


def find_settings(project: Path) -> tuple[dict[str, Any], str]:
    """The raw settings and the file they came from; provision.toml wins over pyproject."""
    own = project / "provision.toml"
    pyproject = project / "pyproject.toml"
    from_pyproject: dict[str, Any] | None = None
    if pyproject.is_file():
        data = toml.load(pyproject)
        tool = data.get("tool", {})
        if isinstance(tool, dict) and "provision" in tool:
            from_pyproject = tool["provision"]
            if not isinstance(from_pyproject, dict):
                raise ConfigError("[tool.provision] must be a table.", "See README.md, 'Project config'.", where=str(pyproject))
    if own.is_file():
        if from_pyproject is not None:
            raise ConfigError(
                f"both {own.name} and [tool.provision] in pyproject.toml configure the kit.",
                "Keep one of them: the kit will not guess which is meant.",
                where=str(project),
            )
        return toml.load(own), str(own)
    if from_pyproject is not None:
        return from_pyproject, f"{pyproject} [tool.provision]"
    return {}, ""


def load(project: Path | str, *, ca_bundle: str | None = None, python_downloads: bool = False) -> ProjectConfig:
    """Read and validate the project's config. ``ca_bundle`` (from --ca-bundle) and
    ``python_downloads`` (--python-downloads) override."""
    project = Path(project).resolve()
    if not project.is_dir():
        raise ConfigError(f"the project directory {project} does not exist.", "Pass --project with an existing directory.")
    raw, source = find_settings(project)
    where = source or str(project)
    for key in raw:
        if key not in KEYS:
            raise ConfigError(
                f"unknown key '{key}'.", f"Allowed keys: {', '.join(KEYS)} (see README.md, 'Project config').", where=where
            )
    spec_text = raw.get("python", ">=3.9")
    _expect(isinstance(spec_text, str), where, "python", f"must be a string, not {spec_text!r}.", 'a version range such as ">=3.9"')
    if (error := versions.specifier_error(spec_text)) is not None:
        raise ConfigError(f"key 'python' = {spec_text!r}: {error}.", 'Expected a version range such as ">=3.9" or "==3.11.*".', where=where)
    python = versions.normal(spec_text)

    venv = validate_venv_path(project, raw.get("venv", ".venv"), where)  # inside the project, no symlink, a venv or nothing

    requirements = []
    for r in _str_list(raw.get("requirements", []), where, "requirements"):
        path = (project / r).resolve()
        if not path.is_file():
            raise ConfigError(f"key 'requirements' names {r!r}, but {path} does not exist.", "Fix the file name or create the file.", where=where)
        requirements.append(path)

    extras = _str_list(raw.get("extras", []), where, "extras")
    for e in extras:
        _expect(bool(EXTRA_NAME.match(e)), where, "extras", f"has an invalid extra name {e!r}.", "names like \"dev\" or \"test\"")
    install_project = "extras" in raw
    has_metadata = any((project / f).is_file() for f in ("pyproject.toml", "setup.py", "setup.cfg"))
    if install_project and not has_metadata:
        raise ConfigError("key 'extras' asks to install the project itself, but it has no pyproject.toml or setup.py.",
                          "Use 'requirements' instead, or add the project's metadata.", where=where)

    groups: tuple[str, ...] | None = None
    all_groups = raw.get("groups") == "all"
    if "groups" in raw and not all_groups:
        groups = tuple(_str_list(raw["groups"], where, "groups"))
        for g in groups:
            _expect(bool(EXTRA_NAME.match(g)), where, "groups", f"has an invalid group name {g!r}.", 'names like "dev" or "test", or "all"')
    lock = raw.get("lock", "auto")
    _expect(lock in LOCK_CHOICES, where, "lock", f"= {lock!r} is not one of {', '.join(LOCK_CHOICES)}.",
            '"auto" (the default: the lockfile the project has), a tool name, or "none" (ignore lockfiles)')
    downloads = raw.get("python-downloads", False)
    _expect(isinstance(downloads, bool), where, "python-downloads", f"must be true or false, not {downloads!r}.",
            "true to let uv download a missing interpreter")

    pipx = _str_list(raw.get("pipx", []), where, "pipx")
    for tool in pipx:
        _expect(pipx_requirement(tool) is not None, where, "pipx", f"has an invalid tool {tool!r}.",
                'a package name, optionally pinned: "ruff" or "ruff==0.6.9"')

    needs = _str_list(raw.get("needs", []), where, "needs")
    for n in needs:
        _expect(bool(NEED_NAME.match(n)), where, "needs", f"has an invalid need {n!r}.", 'need names such as "postgres-client" (see profiles/)')

    ca: Path | None = None
    ca_text = ca_bundle if ca_bundle else raw.get("ca-bundle")
    if ca_text is not None:
        _expect(isinstance(ca_text, str) and ca_text != "", where, "ca-bundle", f"must be a path, not {ca_text!r}.", "a PEM file")
        ca = Path(ca_text) if ca_bundle else project / ca_text
        ca = ca.expanduser().resolve()
        if ca.is_dir():
            origin = "--ca-bundle" if ca_bundle else f"key 'ca-bundle' in {where}"
            raise ConfigError(f"{origin}: {ca} is a directory, not a file.", "Give the PEM file of your organisation's CA certificate.")
        if not ca.is_file():
            origin = "--ca-bundle" if ca_bundle else f"key 'ca-bundle' in {where}"
            raise ConfigError(f"{origin}: {ca} does not exist.", "Give the path of your organisation's CA certificate (PEM).")

    index_url = raw.get("index-url")
    if index_url is not None:
        _expect(isinstance(index_url, str) and bool(URL.match(index_url)) and not index_url.startswith("http://"),
                where, "index-url", f"= {index_url!r} is not an https:// (or file://) URL.",
                "an https URL: plain http would need --trusted-host, which the kit never uses")
    proxy = raw.get("proxy")
    if proxy is not None:
        _expect(isinstance(proxy, str) and bool(re.match(r"^https?://[^\s'\"\\]+$", proxy)), where, "proxy",
                f"= {proxy!r} is not a proxy URL.", 'a URL such as "http://proxy.example:3128"')

    return ProjectConfig(
        project=project,
        source=source,
        python=python,
        venv=venv,
        requirements=tuple(requirements),
        extras=tuple(extras),
        install_project=install_project,
        pipx=tuple(pipx),
        needs=tuple(needs),
        ca_bundle=ca,
        index_url=index_url,
        proxy=proxy,
        python_given="python" in raw,
        requirements_given="requirements" in raw,
        groups=groups,
        all_groups=all_groups,
        lock=lock,
        python_downloads=downloads or python_downloads,
    )
