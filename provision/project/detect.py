"""The project's own files are the configuration: what to install, with what, on which Python.

``detect(config)`` reads the project directory once (pyproject.toml, the lockfiles, Pipfile,
setup.py/setup.cfg, requirement files by convention, ``.python-version``) and returns a
frozen ``ProjectSpec``: the install source (a lock tool, or pip), the files it used and the
ones it ignored with the reason, the groups and extras selected, whether the project is
installed editable, and the interpreter constraints with where each came from. Whatever
``[tool.provision]`` says wins; whatever it leaves open is read from the project's files.

Nothing here runs a command: the steps turn the spec into commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .. import toml
from ..errors import ConfigError
from . import lockref, versions
from .config import ProjectConfig, plain_requirement
from .lockref import LOCK_FILES, LockRef

if TYPE_CHECKING:  # imported where requirement files exist: a locked project's no-op run needs neither
    from .requirements import Closure, Line

# the versions of the lock tools the kit installs (pipx), unless the project asks for others
TOOL_PINS = {"uv": "0.13.9", "poetry": "2.5.1", "pdm": "2.29.4", "pipenv": "2026.10.3"}
# what a pinned tool needs beside it (pipx inject): its own dependencies' later releases that break it
TOOL_WITH = {"pdm": ("hishel<2",)}  # hishel 2 dropped an API PDM 2.29 uses
# which tool installs which kind of project (a PEP 751 lock is installed with uv's pip interface)
TOOL_OF = {"uv": "uv", "poetry": "poetry", "pdm": "pdm", "pipenv": "pipenv", "pylock": "uv"}
# auto: the order in which lockfiles are tried when a project has several (a [tool.X] table wins first)
LOCK_ORDER = ("uv", "poetry", "pdm", "pylock", "pipenv")
DEV_EXTRAS = ("dev", "test", "tests", "testing")
REQUIREMENT_FILES = ("requirements.txt", "requirements-dev.txt", "dev-requirements.txt", "requirements-test.txt",
                     "test-requirements.txt", "requirements_dev.txt", "requirements_test.txt")
# the refresh command each tool names for a lock that no longer matches its pyproject
REFRESH = {"uv": "uv lock", "poetry": "poetry lock", "pdm": "pdm lock --update-reuse", "pipenv": "pipenv lock",
           "pylock": "the command that wrote pylock.toml (e.g. uv export --format pylock.toml -o pylock.toml)"}


class FileUse(NamedTuple):
    """A file the detection looked at, and why it was used or ignored."""

    path: Path
    why: str


class PythonConstraint(NamedTuple):
    """One statement about the interpreter, as written, with where it was written."""

    text: str
    source: str
    alternatives: tuple[str, ...]  # valid PEP 440 ranges, satisfied when any is (Poetry's "||")

    def contains(self, version: str, *, remember: bool = True) -> bool:
        return any(versions.contains(s, version, prereleases=True, remember=remember) for s in self.alternatives)


@dataclass(frozen=True)
class ProjectSpec:
    """What the project declares, resolved: the single input the venv steps plan from."""

    project: Path
    kind: str  # uv | poetry | pdm | pipenv | pylock | pip | none
    name: str | None = None
    used: tuple[FileUse, ...] = ()
    ignored: tuple[FileUse, ...] = ()
    lock: LockRef | None = None
    groups: tuple[str, ...] = ()  # selected groups (the tool's own defaults when groups_default)
    groups_default: bool = True  # no override: the tool's default selection (uv: dev, Poetry: non-optional)
    all_groups: bool = False
    extras: tuple[str, ...] = ()
    install_project: bool = False
    requirements: tuple[Closure, ...] = ()  # pip: requirement files with their includes
    group_requirements: tuple[str, ...] = ()  # pip: PEP 735 groups and virtual projects' dependencies, resolved
    python: tuple[PythonConstraint, ...] = ()  # in the order they are honoured
    deciding: tuple[Path, ...] = ()  # every file whose contents decide the install (the stamp covers them)
    tool: str | None = None  # uv | poetry | pdm | pipenv
    tool_requirement: str | None = None  # what pipx installs, e.g. "uv==0.13.9"
    notices: tuple[str, ...] = ()
    lock_written: bool = False  # the tool writes a lock the project did not have (Pipfile alone, Poetry without lock)
    editable_in_requirements: bool = False  # a requirement file already has "-e ." (requests' requirements-dev.txt)

    @property
    def nothing(self) -> bool:
        """The project declares nothing to install into its venv."""
        return self.kind == "none"

    @property
    def refresh(self) -> str:
        return REFRESH.get(self.kind, "")


def rel_path(project: Path, path: Path) -> str:
    """``path`` as shown and stamped: relative to the project when inside it, else as it is."""
    try:
        return str(path.relative_to(project))
    except ValueError:
        return str(path)


def _table(data: Any, *keys: str) -> dict[str, Any]:
    for k in keys:
        data = data.get(k, {}) if isinstance(data, dict) else {}
    return data if isinstance(data, dict) else {}


# -- interpreter constraints ---------------------------------------------------------------


def _spec(text: str, source: str, where: str) -> str:
    """``text`` when it is a PEP 440 range, else the error naming where it was written."""
    if (error := versions.specifier_error(text)) is not None:
        raise ConfigError(f"{source} = {text!r} is not a version range ({error}).",
                          'Write a PEP 440 range such as ">=3.10".', where=where)
    return text


def poetry_constraint(text: str, source: str, where: str) -> tuple[str, ...]:
    """Poetry's constraint syntax (``^3.10``, ``~3.10``, ``3.10.*``, ``||``) as PEP 440 ranges."""
    out = []
    for alt in text.split("||"):
        parts: list[str] = []
        for word in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", alt.strip()):
            word = word.strip()
            if not word or word == "*":
                continue
            m = re.match(r"^([\^~])(?!=)\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$", word)
            if m:
                major, minor, patch = int(m.group(2)), m.group(3), m.group(4)
                low = ".".join(x for x in (m.group(2), minor, patch) if x is not None)
                if m.group(1) == "^":
                    if major > 0 or minor is None:
                        high = f"{major + 1}.0"
                    elif int(minor) > 0 or patch is None:
                        high = f"0.{int(minor) + 1}"
                    else:
                        high = f"0.0.{int(patch) + 1}"
                else:
                    high = f"{major}.{int(minor) + 1}" if minor is not None else f"{major + 1}.0"
                parts += [f">={low}", f"<{high}"]
            elif re.match(r"^\d", word):
                parts.append(f"=={word}")
            else:
                parts.append(word)
        out.append(_spec(",".join(parts), source, where))
    return tuple(out)


def python_version_file(path: Path) -> PythonConstraint | None:
    """``.python-version`` (pyenv, uv): its first version line, "3.12" meaning any 3.12.x."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"^(?:cpython-|python)?(\d+\.\d+)(\.\d+)?([a-z0-9]*)?(?:-.*)?$", line, re.IGNORECASE)
        if not m:
            raise ConfigError(f"names {line!r}, which is not a CPython version.",
                              'Write a version such as "3.12" (any 3.12.x) or "3.12.4".', where=str(path))
        text_spec = f"=={m.group(1)}{m.group(2) or ''}{m.group(3) or ''}" if m.group(2) else f"=={m.group(1)}.*"
        return PythonConstraint(line, rel_path(path.parent, path), (text_spec,))
    return None


# -- dependency groups (PEP 735) -----------------------------------------------------------


def dependency_groups(pyproject: dict[str, Any], where: str) -> dict[str, list[Any]]:
    groups = pyproject.get("dependency-groups", {})
    if not isinstance(groups, dict):
        raise ConfigError("[dependency-groups] must be a table.", "See PEP 735.", where=where)
    return {versions.canonical_name(k): v for k, v in groups.items()}


def resolve_group(groups: dict[str, list[Any]], name: str, where: str, chain: tuple[str, ...] = ()) -> list[str]:
    """A PEP 735 group's requirements, ``include-group`` followed."""
    key = versions.canonical_name(name)
    if key in chain:
        raise ConfigError(f"[dependency-groups] includes form a loop: {' -> '.join((*chain, key))}.", "Remove one include-group.", where=where)
    out: list[str] = []
    entries = groups.get(key)
    if not isinstance(entries, list):
        raise ConfigError(f"[dependency-groups] {name} must be a list.", "See PEP 735.", where=where)
    for entry in entries:
        if isinstance(entry, str):
            if plain_requirement(entry) is None:  # more than a name and versions: packaging's full parser judges it
                from packaging.requirements import InvalidRequirement, Requirement

                try:
                    Requirement(entry)
                except InvalidRequirement as e:
                    raise ConfigError(f"[dependency-groups] {name} has an invalid requirement {entry!r} ({e}).",
                                      "Write PEP 508 requirements.", where=where) from e
            out.append(entry)
        elif isinstance(entry, dict) and isinstance(entry.get("include-group"), str):
            if versions.canonical_name(entry["include-group"]) not in groups:
                raise ConfigError(f"[dependency-groups] {name} includes the group {entry['include-group']!r}, which is not defined.",
                                  f"Defined: {', '.join(sorted(groups)) or 'none'}.", where=where)
            out += resolve_group(groups, entry["include-group"], where, (*chain, key))
        else:
            raise ConfigError(f"[dependency-groups] {name} has an entry {entry!r} that is neither a requirement nor an include-group.",
                              "See PEP 735.", where=where)
    return out


# -- the detection -------------------------------------------------------------------------


@dataclass
class _Files:
    project: Path
    pyproject: dict[str, Any]
    setup_cfg: Any  # configparser.RawConfigParser | None (imported only when a setup.cfg exists)

    @property
    def where(self) -> str:
        return str(self.project / "pyproject.toml")

    def has(self, name: str) -> bool:
        return (self.project / name).is_file()


def _read(project: Path) -> _Files:
    pyproject = toml.load(project / "pyproject.toml") if (project / "pyproject.toml").is_file() else {}
    cfg = None
    if (project / "setup.cfg").is_file():
        import configparser

        cfg = configparser.RawConfigParser()
        try:
            cfg.read(project / "setup.cfg", encoding="utf-8")
        except configparser.Error as e:
            raise ConfigError(f"cannot be read ({e}).", "Fix its syntax.", where=str(project / "setup.cfg")) from e
    return _Files(project, pyproject, cfg)


def project_name(f: _Files) -> str | None:
    for name in (_table(f.pyproject, "project").get("name"), _table(f.pyproject, "tool", "poetry").get("name")):
        if isinstance(name, str) and name:
            return versions.canonical_name(name)
    if f.setup_cfg is not None and f.setup_cfg.has_option("metadata", "name"):
        return versions.canonical_name(f.setup_cfg.get("metadata", "name"))
    return None


def is_package(f: _Files) -> bool:
    """Whether the project itself installs (editable): it has a build system, or setup.py/cfg,
    and does not say it is not a package (uv ``package = false``, Poetry ``package-mode = false``,
    PDM ``distribution = false``)."""
    tool = _table(f.pyproject, "tool")
    if _table(tool, "uv").get("package") is False or _table(tool, "poetry").get("package-mode") is False:
        return False
    if _table(tool, "pdm").get("distribution") is False:
        return False
    if _table(tool, "uv").get("package") is True:
        return True
    return "build-system" in f.pyproject or f.has("setup.py") or f.has("setup.cfg") or (
        bool(_table(tool, "poetry")) and "project" not in f.pyproject)


def extras_defined(f: _Files) -> list[str]:
    names = list(_table(f.pyproject, "project", "optional-dependencies"))
    names += list(_table(f.pyproject, "tool", "poetry", "extras"))
    if f.setup_cfg is not None and f.setup_cfg.has_section("options.extras_require"):
        names += f.setup_cfg.options("options.extras_require")
    if f.has("setup.py"):  # setup.py is code: the kit reads its extras_require keys, never runs it
        text = (f.project / "setup.py").read_text(encoding="utf-8", errors="replace")
        m = re.search(r"extras_require\s*=\s*\{(.*?)\}\s*[,)]", text, re.DOTALL)
        if m:
            names += re.findall(r"[\"']([A-Za-z0-9][A-Za-z0-9._-]*)[\"']\s*:", m.group(1))
    return list(dict.fromkeys(versions.canonical_name(n) for n in names))


def groups_defined(f: _Files, kind: str) -> list[str]:
    names = list(dependency_groups(f.pyproject, f.where))
    tool = _table(f.pyproject, "tool")
    if kind in ("uv", "pip") and _table(tool, "uv").get("dev-dependencies"):
        names.append("dev")
    if kind in ("pdm", "pip"):
        names += list(_table(tool, "pdm", "dev-dependencies"))
    if kind == "poetry":
        names += list(_table(tool, "poetry", "group"))
        if _table(tool, "poetry").get("dev-dependencies"):
            names.append("dev")
    if kind == "pipenv":
        names = ["dev"]  # dev-packages; custom categories are Pipfile tables, read below
    return list(dict.fromkeys(versions.canonical_name(n) for n in names))


def _select(asked: tuple[str, ...], defined: list[str], what: str, key: str, where: str, hint: str) -> tuple[str, ...]:
    out = []
    for name in asked:
        if versions.canonical_name(name) not in defined:
            raise ConfigError(
                f"key '{key}' asks for the {what} {name!r}, which the project does not define{hint}.",
                f"Defined {what}s: {', '.join(defined) or 'none'}. (pip would only warn and install without it.)", where=where)
        out.append(versions.canonical_name(name))
    return tuple(out)


def _requirement_files(project: Path) -> tuple[list[Path], list[FileUse]]:
    """Requirement files by convention, and the ``.in`` files left out for their compiled ``.txt``."""
    found: list[Path] = [project / n for n in REQUIREMENT_FILES if (project / n).is_file()]
    found += sorted(p for p in (project / "requirements").glob("*.txt") if p.is_file()) if (project / "requirements").is_dir() else []
    ignored = []
    ins = [project / "requirements.in", project / "requirements-dev.in", project / "dev-requirements.in"]
    ins += sorted((project / "requirements").glob("*.in")) if (project / "requirements").is_dir() else []
    for src in ins:
        if not src.is_file():
            continue
        compiled = src.with_suffix(".txt")
        if compiled.is_file():
            ignored.append(FileUse(src, f"its compiled {compiled.name} is used instead"))
        else:
            found.append(src)
    return list(dict.fromkeys(found)), ignored


def found_requirements(project: Path) -> bool:
    """Any requirement file by convention here (cheap: a few stat calls)."""
    return any((project / n).is_file() for n in (*REQUIREMENT_FILES, "requirements.in", "requirements-dev.in",
                                                 "dev-requirements.in")) or (project / "requirements").is_dir()


def _roots(closures: list[Closure]) -> list[Closure]:
    """Requirement files no other file includes: the others come in through them."""
    included = {p for c in closures for p in c.paths[1:]}
    return [c for c in closures if c.root not in included]


def _pick_lock(f: _Files, cfg: ProjectConfig) -> tuple[str | None, list[FileUse]]:
    """(kind, ignored lockfiles) for lock = auto/tool/none."""
    present = [k for k in LOCK_ORDER if f.has(LOCK_FILES[k])]
    pipfile = f.has("Pipfile")
    where = cfg.where
    if cfg.lock == "none":
        return None, [FileUse(f.project / LOCK_FILES[k], "lock = \"none\" in the config") for k in present]
    if cfg.lock != "auto":
        if cfg.lock not in present and not (cfg.lock == "pipenv" and pipfile):
            raise ConfigError(f"key 'lock' = {cfg.lock!r}, but the project has no {LOCK_FILES[cfg.lock]}.",
                              f"Lockfiles present: {', '.join(LOCK_FILES[k] for k in present) or 'none'}. "
                              f"Create it with '{REFRESH[cfg.lock]}', or set lock = \"auto\".", where=where)
        return cfg.lock, [FileUse(f.project / LOCK_FILES[k], f"lock = \"{cfg.lock}\" in the config") for k in present if k != cfg.lock]
    if cfg.requirements_given:
        return None, [FileUse(f.project / LOCK_FILES[k], f"'requirements' in {where} says what to install") for k in present]
    if not present:
        return None, []
    tool = _table(f.pyproject, "tool")
    hinted = [k for k in present if k in tool]
    chosen = hinted[0] if hinted else present[0]
    why = f"[tool.{chosen}] in pyproject.toml" if hinted else "order " + " > ".join(LOCK_FILES[k] for k in LOCK_ORDER)
    return chosen, [FileUse(f.project / LOCK_FILES[k], f"{LOCK_FILES[chosen]} wins ({why})") for k in present if k != chosen]


def _tool_requirement(tool: str, f: _Files) -> str:
    """The kit's pin, unless the project asks for a version the pin does not satisfy."""
    pin = TOOL_PINS[tool]
    asked = None
    if tool == "uv":
        asked = _table(f.pyproject, "tool", "uv").get("required-version")
    elif tool == "poetry":
        asked = _table(f.pyproject, "tool", "poetry").get("requires-poetry")
    if not isinstance(asked, str) or not asked.strip():
        return f"{tool}=={pin}"
    where = f.where
    key = "[tool.uv] required-version" if tool == "uv" else "[tool.poetry] requires-poetry"
    alts = poetry_constraint(asked, key, where) if tool == "poetry" else (_spec(asked if asked[0] in "<>=!~" else f"=={asked}", key, where),)
    if any(versions.contains(a, pin) for a in alts):
        return f"{tool}=={pin}"
    return f"{tool}{versions.normal(alts[0])}"


def detect(cfg: ProjectConfig) -> ProjectSpec:
    """Read the project's files (whatever the config leaves open) into a ProjectSpec."""
    project = cfg.project
    f = _read(project)
    where_cfg = cfg.where
    used: list[FileUse] = []
    notices: list[str] = []
    deciding: list[Path] = [p for p in (project / n for n in ("pyproject.toml", "setup.py", "setup.cfg", ".python-version")) if p.is_file()]
    if cfg.source and cfg.source.endswith("provision.toml"):
        deciding.append(project / "provision.toml")
    kind, ignored = _pick_lock(f, cfg)
    lock: LockRef | None = None
    lock_written = False
    if kind is None and cfg.lock == "auto" and not cfg.requirements_given:
        if f.has("Pipfile"):
            kind, lock_written = "pipenv", True
        elif _table(f.pyproject, "tool", "poetry", "dependencies") and not _table(f.pyproject, "project").get("dependencies"):
            kind, lock_written = "poetry", True
    if kind and f.has(LOCK_FILES[kind]):
        lock = lockref.reference(kind, project / LOCK_FILES[kind])
        used.append(FileUse(lock.path, f"the lockfile: every distribution at its locked version, installed with {TOOL_OF[kind]}"))
        deciding.append(lock.path)
    if kind == "pipenv":
        if f.has("Pipfile"):
            used.append(FileUse(project / "Pipfile", "Pipfile: packages and dev-packages"))
            deciding.append(project / "Pipfile")
        if lock_written:
            notices.append("no Pipfile.lock: pipenv resolves the Pipfile and writes one (commit it)")
    if kind == "poetry" and lock_written:
        notices.append("no poetry.lock: poetry resolves pyproject.toml and writes one (commit it)")

    # requirement files: the config's, else by convention (a lock wins over them)
    closures: list[Closure] = []
    if cfg.requirements_given or found_requirements(project):
        from . import requirements
    if cfg.requirements_given:
        closures = [requirements.closure(p) for p in cfg.requirements]
        for c in closures:
            used.append(FileUse(c.root, f"'requirements' in {where_cfg}"))
    else:
        found, left = _requirement_files(project)
        ignored += left
        if kind:
            ignored += [FileUse(p, f"{LOCK_FILES[kind] if not lock_written else 'the ' + kind + ' project'} decides the install") for p in found]
        else:
            all_closures = [requirements.closure(p) for p in found]
            closures = _roots(all_closures)
            for c in closures:
                inc = [rel_path(project, p) for p in c.paths[1:]]
                used.append(FileUse(c.root, "requirement file by convention" + (f" (with {', '.join(inc)})" if inc else "")))
    for c in closures:
        deciding += [p for p in c.paths if p not in deciding]

    # groups and extras
    pkind = kind or "pip"
    gdefined = groups_defined(f, pkind)
    if pkind == "pipenv" and f.has("Pipfile"):
        pipfile = toml.load(project / "Pipfile")
        gdefined += [versions.canonical_name(k) for k in pipfile if k not in ("source", "requires", "packages", "dev-packages", "pipenv", "scripts")]
    edefined = extras_defined(f)
    hint_g = f" (in [dependency-groups]{', [tool.poetry.group]' if pkind == 'poetry' else ''})"
    if cfg.all_groups:
        groups, groups_default = tuple(gdefined), False
    elif cfg.groups is not None:
        groups, groups_default = _select(cfg.groups, gdefined, "group", "groups", where_cfg, hint_g), False
    elif pkind == "poetry":  # Poetry installs its non-optional groups by default
        poetry_groups = _table(f.pyproject, "tool", "poetry", "group")
        groups = tuple(g for g in gdefined if not _table(poetry_groups, g).get("optional", False))
        groups_default = True
    elif pkind == "uv" and isinstance(uv_default := _table(f.pyproject, "tool", "uv").get("default-groups"), (list, str)):
        # uv's own default selection, which `uv sync` applies by itself (a list of names, or "all")
        wanted = gdefined if uv_default == "all" else [versions.canonical_name(g) for g in uv_default if isinstance(g, str)]
        groups, groups_default = tuple(g for g in gdefined if g in wanted), True
    else:
        groups, groups_default = (("dev",) if "dev" in gdefined else ()), True
    if cfg.install_project and cfg.extras:
        extras = _select(cfg.extras, edefined, "extra", "extras", where_cfg, " ([project.optional-dependencies])")
    elif cfg.install_project:
        extras = ()
    else:
        extras = tuple(e for e in DEV_EXTRAS if e in edefined)

    package = is_package(f)
    if cfg.requirements_given:  # the config says what to install: the project itself only with 'extras'
        install_project = cfg.install_project
        extras = extras if install_project else ()
    else:
        install_project = cfg.install_project or (package and kind in (None, "pylock"))
    group_reqs: list[str] = []
    if kind is None:
        groups_pep735 = dependency_groups(f.pyproject, f.where)
        legacy = {"dev": _table(f.pyproject, "tool", "uv").get("dev-dependencies") or []}
        legacy.update({versions.canonical_name(k): v for k, v in _table(f.pyproject, "tool", "pdm", "dev-dependencies").items()})
        for g in groups:
            if g in groups_pep735:
                group_reqs += resolve_group(groups_pep735, g, f.where)
            else:
                group_reqs += [r for r in legacy.get(g, []) if isinstance(r, str) and not r.startswith("-")]
        if groups:
            used.append(FileUse(project / "pyproject.toml", f"dependency groups: {', '.join(groups)}"))
        project_table = _table(f.pyproject, "project")
        if not install_project and project_table.get("dependencies") and not cfg.requirements_given:
            deps = [d for d in project_table["dependencies"] if isinstance(d, str)]
            for e in extras:
                deps += [d for d in _table(project_table, "optional-dependencies").get(e, []) if isinstance(d, str)]
            group_reqs = deps + group_reqs
            used.append(FileUse(project / "pyproject.toml", "[project] dependencies (not a package: no [build-system])"))
        if install_project:
            names = {"pyproject.toml": "[project]", "setup.py": "setup.py", "setup.cfg": "setup.cfg"}
            meta = next((n for n in ("pyproject.toml", "setup.cfg", "setup.py") if f.has(n)), "pyproject.toml")
            ext = f" with extras {', '.join(extras)}" if extras else ""
            used.append(FileUse(project / meta, f"the project itself, editable ({names[meta]}){ext}"))
    self_editable = any(_is_project(project, line) for c in closures for line in c.lines if line.editable)
    # kind
    if kind is None:
        kind = "pip" if (closures or group_reqs or install_project) else "none"
    if kind == "none":
        notices.append("the project declares nothing to install (no lockfile, requirement file, dependencies or "
                       "package metadata): its venv gets only pip")
    tool = TOOL_OF.get(kind)
    if tool and kind != "pylock" and cfg.venv != project / ".venv":
        raise ConfigError(f"key 'venv' = {rel_path(project, cfg.venv)!r}, but the project is installed with {tool}, which keeps "
                          f"the project's venv at .venv ({tool} run would not find another).",
                          'Leave \'venv\' out (or set it to ".venv"), or set lock = "none" to install with pip.', where=where_cfg)
    python = _python_constraints(cfg, f, kind, lock)
    return ProjectSpec(
        project=project, kind=kind, name=project_name(f), used=tuple(used), ignored=tuple(ignored), lock=lock,
        groups=groups, groups_default=groups_default, all_groups=cfg.all_groups, extras=extras,
        install_project=install_project, requirements=tuple(closures), group_requirements=tuple(group_reqs),
        python=python, deciding=tuple(dict.fromkeys(deciding)), tool=tool,
        tool_requirement=_tool_requirement(tool, f) if tool else None, notices=tuple(notices), lock_written=lock_written,
        editable_in_requirements=self_editable,
    )


def _is_project(project: Path, line: Line) -> bool:
    """An editable line that names the project directory itself ("-e .", "-e .[socks]")."""
    path = re.sub(r"\[[^\]]*\]$", "", line.text.strip())
    return (project / path).resolve() == project or (line.file.parent / path).resolve() == project


def _python_constraints(cfg: ProjectConfig, f: _Files, kind: str, lock: LockRef | None) -> tuple[PythonConstraint, ...]:
    """Every statement about the interpreter, in the order of item 4 of issue #12:
    the config's ``python``, ``.python-version``, the lock's / Pipfile's / Poetry's, ``requires-python``."""
    out: list[PythonConstraint] = []
    if cfg.python_given:
        out.append(PythonConstraint(cfg.python, f"{cfg.where} python", (cfg.python,)))
    pv = python_version_file(f.project / ".python-version")
    if pv:
        out.append(pv)
    if lock is not None and isinstance(lock.requires_python, str) and lock.requires_python.strip():
        name = lock.path.name
        if kind == "poetry":
            out.append(PythonConstraint(lock.requires_python, f"{name} python-versions",
                                        poetry_constraint(lock.requires_python, "python-versions", str(lock.path))))
        else:
            out.append(PythonConstraint(lock.requires_python, f"{name} requires-python",
                                        (_spec(lock.requires_python, "requires-python", str(lock.path)),)))
    if kind == "pipenv" and lock is None and f.has("Pipfile"):
        spec = lockref.pipfile_python(_table(toml.load(f.project / "Pipfile"), "requires"))
        if spec:
            out.append(PythonConstraint(spec, "Pipfile [requires]", (_spec(spec, "[requires]", str(f.project / "Pipfile")),)))
    poetry_py = _table(f.pyproject, "tool", "poetry", "dependencies").get("python")
    if isinstance(poetry_py, str) and kind in ("poetry", "pip"):
        out.append(PythonConstraint(poetry_py, "pyproject.toml [tool.poetry.dependencies] python",
                                    poetry_constraint(poetry_py, "[tool.poetry.dependencies] python", f.where)))
    rp = _table(f.pyproject, "project").get("requires-python")
    if isinstance(rp, str) and rp.strip():
        out.append(PythonConstraint(rp, "pyproject.toml requires-python", (_spec(rp, "[project] requires-python", f.where),)))
    elif f.setup_cfg is not None and f.setup_cfg.has_option("options", "python_requires"):
        text = f.setup_cfg.get("options", "python_requires").strip()
        out.append(PythonConstraint(text, "setup.cfg python_requires", (_spec(text, "python_requires", str(f.project / "setup.cfg")),)))
    elif f.has("setup.py"):  # read, never run: a literal python_requires="..." only
        m = re.search(r"python_requires\s*=\s*[\"']([^\"']+)[\"']", (f.project / "setup.py").read_text(encoding="utf-8", errors="replace"))
        if m:
            out.append(PythonConstraint(m.group(1), "setup.py python_requires", (_spec(m.group(1), "python_requires", str(f.project / "setup.py")),)))
    return tuple(out)

