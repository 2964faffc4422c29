"""ProjectVenv: the project's virtual environment, built per source, verified, then moved in.

The source is what ``project.detect`` found: a lock installed with its own tool (uv,
Poetry, PDM, Pipenv; a PEP 751 lock with uv's pip interface), or pip (requirement files,
dependency groups, the project itself editable). A new venv is built aside
(``<venv>.partial``), verified, and promoted; a venv the kit built (its stamp says so)
that no longer matches the project is brought to match in place — the tools' sync and
pip change only what differs — then verified and re-stamped.

The kit's own additions stay out of the project's way: the venv gets pip (run from
ensurepip's wheel first), never the newest setuptools or wheel, and hashed requirement
files are installed in a call of their own with hash checking on.

A stamp of the inputs (interpreter, the contents of every file that decided the install,
groups, extras, tool, index, certificate) lets an unchanged venv be skipped without any
tool or pip call at all. The stamp also records what the kit's install put in the venv
(``name-version`` of each distribution, from its ``.dist-info`` directory): one listing of
site-packages then shows, without any process, a distribution uninstalled or changed by
hand since (the tool's sync, or pip with the recorded versions, puts it back); and when a
pip project's requirements drop a distribution, what the kit installed and nothing requires
any more is uninstalled. What was installed by hand is never recorded, so never removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .. import venvsafety
from ..atomic import INSTALLED, KIT_TOOLS, STAMP, dist_entry, dist_key, file_digest, inputs_digest
from ..command import Command
from ..errors import ProvisionError
from ..paths import PACKAGE
from ..project.detect import ProjectSpec, rel_path
from ..redact import fingerprint, has_credentials
from . import ATOMIC, Change, Step, StepEnv
from .locktool import tool_exe

if TYPE_CHECKING:  # parsed requirement files: only a pip project's update reads them here
    from ..project.requirements import Closure, Line

RECIPE = 2  # bump when the way venvs are built changes (2: per source; no setuptools/wheel)
CHECKS = PACKAGE / "checks"
VENVOPS = str(PACKAGE / "steps" / "venvops.py")
PIP_QUIET = ("--disable-pip-version-check", "--no-input", "--progress-bar", "off")
# where each tool keeps the project's venv, and how it is told to use the one the kit builds
IN_PROJECT = {"uv": (), "poetry": (("POETRY_VIRTUALENVS_IN_PROJECT", "true"), ("POETRY_NO_INTERACTION", "1")),
              "pdm": (("PDM_CHECK_UPDATE", "false"), ("PDM_IGNORE_SAVED_PYTHON", "1"), ("PDM_NON_INTERACTIVE", "1")),
              "pipenv": (("PIPENV_VENV_IN_PROJECT", "1"), ("PIPENV_YES", "1"), ("PIPENV_NOSPIN", "1"),
                         ("PIPENV_IGNORE_VIRTUALENVS", "0"))}


def inputs(env: StepEnv) -> dict[str, object]:
    """What the venv is made from; any change means an update (or a rebuild, for the interpreter)."""
    cfg, spec = env.config, env.project
    real = env.python.path if env.options.preset else os.path.realpath(env.python.path)
    return {
        "recipe": RECIPE,
        "python": real,
        "python_version": env.python.minor,
        "source": spec.kind,
        "files": {rel_path(cfg.project, p): file_digest(p) for p in deciding(spec)},
        "groups": "all" if spec.all_groups else (None if spec.groups_default else list(spec.groups)),
        "extras": list(spec.extras),
        "project": spec.install_project,
        "tool": spec.tool_requirement,
        "index_url": fingerprint(cfg.index_url) if cfg.index_url else None,  # never the secret itself
        "proxy": hashlib.sha256(proxy.encode()).hexdigest()[:16] if (proxy := pip_proxy(env)) else None,
        "ca_bundle": file_digest(cfg.ca_bundle) if cfg.ca_bundle else None,
    }


def deciding(spec: ProjectSpec) -> tuple[Path, ...]:
    """The files whose contents decide the install, with the lock a tool is about to write."""
    if spec.lock_written:
        lock = spec.project / ("Pipfile.lock" if spec.kind == "pipenv" else f"{spec.kind}.lock")
        return tuple(dict.fromkeys((*spec.deciding, lock)))
    return spec.deciding


def venv_python(env: StepEnv, venv: str) -> str:
    if env.windows:
        return venv + "\\Scripts\\python.exe"
    return posixpath.join(venv, "bin", "python")


def pip_proxy(env: StepEnv) -> str | None:
    """The proxy the venv's pip.conf keeps: the config's, else HTTPS_PROXY of this run.

    A proxy URL with credentials is not written to a file: pip reads it from the
    environment at run time instead.
    """
    if env.config.proxy:
        return env.config.proxy
    value = env.facts.env.get("https_proxy") or env.facts.env.get("HTTPS_PROXY")
    return value if value and "@" not in value else None


def describe_difference(old: dict[str, object], new: dict[str, object]) -> str:
    keys = [k for k in new if old.get(k) != new.get(k)]
    files = new.get("files"), old.get("files")
    if "files" in keys and isinstance(files[0], dict) and isinstance(files[1], dict):
        changed = [f for f in files[0] if files[1].get(f) != files[0][f]] + [f for f in files[1] if f not in files[0]]
        keys[keys.index("files")] = "contents of " + ", ".join(changed)
    return ", ".join(keys) if keys else "recipe"


def tool_env(env: StepEnv, venv: str) -> tuple[tuple[str, str], ...]:
    """The environment a lock tool runs with: the venv to use, the interpreter, CA, index, proxy.

    uv does not read pip.conf: the certificate, index and proxy reach it (and Poetry, PDM,
    Pipenv) through their own variables, credentials included (a private index with a token).
    They are never shown: ``Command`` masks every argument it renders (plan, dry run, JSON,
    log), and the stamp keeps a fingerprint. Poetry takes no index from the environment: it
    reads the project's ``[[tool.poetry.source]]``, and the index's credentials go to the
    source they belong to as ``POETRY_HTTP_BASIC_<SOURCE>_USERNAME``/``_PASSWORD``.
    """
    spec, cfg = env.project, env.config
    tool = spec.tool or ""
    out: list[tuple[str, str]] = []
    if tool == "uv":
        out += [("UV_PROJECT_ENVIRONMENT", venv), ("UV_PYTHON", env.python.path), ("UV_PYTHON_DOWNLOADS", "never"),
                ("UV_NO_PROGRESS", "1")]
    else:
        out += [("VIRTUAL_ENV", venv), *IN_PROJECT.get(tool, ())]
    if env.pip_cert:
        out += [("SSL_CERT_FILE", env.pip_cert), ("REQUESTS_CA_BUNDLE", env.pip_cert), ("PIP_CERT", env.pip_cert)]
    index = cfg.index_url
    if index and tool == "poetry":
        out += poetry_credentials(spec.project, index)
        if not has_credentials(index):
            out.append(("PIP_INDEX_URL", index))  # as before; Poetry itself does not read it
    elif index:
        out += {"uv": [("UV_DEFAULT_INDEX", index)], "pdm": [("PDM_PYPI_URL", index)],
                "pipenv": [("PIPENV_PYPI_MIRROR", index)]}.get(tool, [])
        out.append(("PIP_INDEX_URL", index))
    if cfg.proxy:
        out += [("HTTPS_PROXY", cfg.proxy), ("HTTP_PROXY", cfg.proxy)]
    return tuple(out)


def _url_key(url: str) -> tuple[str, str]:
    """(host[:port], path without a trailing slash) of an index URL, credentials left out."""
    from urllib.parse import urlsplit

    u = urlsplit(url)
    host = (u.hostname or "") + (f":{u.port}" if u.port else "")
    return host, u.path.rstrip("/")


def poetry_sources(project: Path) -> list[tuple[str, str]]:
    """(name, url) of the project's ``[[tool.poetry.source]]`` entries."""
    from .. import toml

    try:
        data = toml.load(project / "pyproject.toml")
    except ProvisionError:
        return []
    sources = data.get("tool", {}).get("poetry", {}).get("source", [])
    return [(s["name"], s["url"]) for s in sources if isinstance(s, dict)
            and isinstance(s.get("name"), str) and isinstance(s.get("url"), str)] if isinstance(sources, list) else []


def poetry_source_for(project: Path, index: str) -> list[str]:
    """The Poetry sources the index URL is: the same URL, else the same host."""
    sources = poetry_sources(project)
    want = _url_key(index)
    return [n for n, u in sources if _url_key(u) == want] or [n for n, u in sources if _url_key(u)[0] == want[0]]


def poetry_credentials(project: Path, index: str) -> list[tuple[str, str]]:
    """``POETRY_HTTP_BASIC_<SOURCE>_USERNAME``/``_PASSWORD`` from the index URL's credentials."""
    from urllib.parse import unquote, urlsplit

    if not has_credentials(index):
        return []
    u = urlsplit(index)
    user, password = unquote(u.username or ""), unquote(u.password or "")
    out: list[tuple[str, str]] = []
    for name in poetry_source_for(project, index):
        if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
            continue  # Poetry finds the variables by the name upper-cased, '-' as '_'; a '.' would split its key
        var = "POETRY_HTTP_BASIC_" + name.upper().replace("-", "_")
        out += [(f"{var}_USERNAME", user), (f"{var}_PASSWORD", password)]
    return out


def _group_flags(spec: ProjectSpec) -> list[str]:
    """The tool's own flags for the selected groups and extras (nothing: the tool's defaults)."""
    tool, out = spec.kind, []
    if tool == "pylock" and spec.groups_default and not spec.all_groups:
        return out  # a PEP 751 lock is often single-use (pip lock): what it holds is the selection
    if tool in ("uv", "pylock"):
        if spec.all_groups:
            out.append("--all-groups")
        elif not spec.groups_default:
            out.append("--no-default-groups")
            for g in spec.groups:
                out += ["--group", g]
        for e in spec.extras:
            out += ["--extra", e]
    elif tool == "poetry":
        if spec.all_groups:
            out.append("--all-groups")
        elif not spec.groups_default:  # exactly the config's groups, beside the main dependencies
            out += ["--only", ",".join(("main", *spec.groups))]
        if spec.extras:
            out += ["--extras", " ".join(spec.extras)]
    elif tool == "pdm":
        if spec.all_groups:
            out += ["-G", ":all"]
        else:
            for g in (() if spec.groups_default else spec.groups):
                out += ["-G", g]
            for e in spec.extras:
                out += ["-G", e]
    elif tool == "pipenv" and not spec.groups_default and spec.groups != ("dev",):
        out += ["--categories", " ".join(["packages", *("dev-packages" if g == "dev" else g for g in spec.groups)])]
    return out


def pip_runner(env: StepEnv, py: str, fresh: bool) -> tuple[str, ...]:
    """How pip runs for the first install of a new venv: straight from ensurepip's wheel."""
    wheel = None if env.windows else env.python.pip_wheel
    return (py, posixpath.join(wheel, "pip")) if (fresh and wheel) else (py, "-m", "pip")


def create_commands(env: StepEnv, stage: str, *, with_pip: bool) -> list[Command]:
    """A new venv at ``stage``: without ensurepip's install (pip comes from its wheel), and its pip.conf."""
    wheel = None if env.windows else env.python.pip_wheel
    cfg, kit = env.config, env.options.kit_python
    purpose = f"new venv with Python {env.python.version}, built aside"
    cmds = [Command((env.python.path, "-m", "venv", "--without-pip", stage) if wheel else (env.python.path, "-m", "venv", stage),
                    purpose=purpose)]
    proxy = pip_proxy(env)
    if cfg.ca_bundle or cfg.index_url or proxy:
        conf = [kit, ATOMIC, "pip-conf", stage]
        if env.pip_cert:
            conf += ["--cert", env.pip_cert]
        # the index and proxy may hold a token or password: through the environment, never on the command line
        conf_env = tuple((k, v) for k, v in (("PROVISION_PIP_INDEX_URL", cfg.index_url), ("PROVISION_PIP_PROXY", proxy)) if v)
        cmds.append(Command(tuple(conf), env=conf_env, purpose="the venv's pip.conf (certificate, index, proxy)"))
    if with_pip:
        py = venv_python(env, stage)
        cmds.append(Command((*pip_runner(env, py, True), "install", *PIP_QUIET, "--upgrade", "pip"),
                            purpose="pip into the venv (only pip: the kit adds no setuptools or wheel)"
                            + (" (run from ensurepip's wheel)" if wheel else "")))
    return cmds


def pip_install_commands(env: StepEnv, py: str, pins: tuple[str, ...] = ()) -> list[Command]:
    """The project's requirements with pip: hashed files in a call of their own, with hash checking.

    ``pins``: recorded versions to put back (what was changed by hand), with the plain call."""
    spec = env.project
    cmds: list[Command] = []
    hashed = [c for c in spec.requirements if c.hashed]
    plain = [c for c in spec.requirements if not c.hashed]
    if hashed:
        argv: list[str] = []
        for c in hashed:
            argv += ["-r", str(c.root)]
        cmds.append(Command(in_project(env, (py, "-m", "pip", "install", *PIP_QUIET, "--require-hashes", *argv)),
                            purpose="hashed requirement files, hash checking on (a call of their own)"))
    argv = []
    for c in plain:
        argv += ["-r", str(c.root)]
    argv += list(spec.group_requirements)
    if spec.install_project and not spec.editable_in_requirements:
        extras = f"[{','.join(spec.extras)}]" if spec.extras else ""
        argv += ["-e", f"{spec.project}{extras}"]
    if argv:
        purpose = "the project's requirements" + (f", and back at their recorded versions: {', '.join(pins)}" if pins else "")
        cmds.append(Command(in_project(env, (py, "-m", "pip", "install", *PIP_QUIET, *argv, *pins)), purpose=purpose))
    return cmds


def in_project(env: StepEnv, argv: tuple[str, ...]) -> tuple[str, ...]:
    """Run pip from the project's directory when requirement files are read: pip takes their
    relative paths ("-e .") relative to its working directory, not to the file."""
    if not env.project.requirements:
        return argv
    return (env.options.kit_python, VENVOPS, "in-dir", str(env.project.project), "--", *argv)


def lock_check_commands(env: StepEnv, venv: str) -> list[Command]:
    """The lock tool's own freshness check: it runs before anything is built, so a stale lock
    leaves nothing behind (the kit never silently re-resolves a locked project)."""
    spec = env.project
    tool = spec.tool or ""
    if spec.kind == "pylock" or not spec.lock or spec.lock_written:
        return []
    exe, project, kit = tool_exe(env, tool), str(spec.project), env.options.kit_python
    tenv = tool_env(env, venv)
    checks = {"uv": (exe, "lock", "--check", "--directory", project), "poetry": (exe, "check", "--lock", "--directory", project),
              "pdm": (exe, "lock", "--check", "-p", project), "pipenv": (exe, "verify")}
    return [Command((kit, VENVOPS, "lock-check", "--lock", str(spec.lock.path), "--refresh", spec.refresh, "--", *checks[tool]),
                    env=(*tenv, ("PIPENV_PIPFILE", str(spec.project / "Pipfile"))) if tool == "pipenv" else tenv,
                    purpose=f"{spec.lock.path.name} matches pyproject.toml (the tool's own check; nothing is re-resolved)")]


def tool_commands(env: StepEnv, venv: str, *, update: bool) -> list[Command]:
    """The lock tool's sync into ``venv`` (after ``lock_check_commands``)."""
    spec = env.project
    tool = spec.tool or ""
    exe = tool_exe(env, tool)
    tenv = tool_env(env, venv)
    project = str(spec.project)
    cmds: list[Command] = []
    flags = _group_flags(spec)
    if spec.kind == "pylock":
        assert spec.lock
        py = venv_python(env, venv)
        cmds.append(Command((exe, "pip", "sync", "--python", py, *flags, str(spec.lock.path)), env=tenv,
                            purpose=f"every distribution of {spec.lock.path.name} at its locked version (uv pip sync)"))
        if spec.install_project:  # a lock may hold the project as a plain directory: editable for development
            cmds.append(Command((exe, "pip", "install", "--python", py, "--no-deps", "-e", project), env=tenv,
                                purpose="the project itself, editable (its dependencies are the lock's)"))
        return cmds
    sync = {"uv": (exe, "sync", "--frozen", "--directory", project),
            "poetry": (exe, "sync", "--directory", project) if spec.lock else (exe, "install", "--directory", project),
            "pdm": (exe, "sync", "-p", project) if spec.lock else (exe, "install", "-p", project),
            "pipenv": (exe, "sync", "--dev") if spec.lock else (exe, "install", "--dev")}[tool]
    what = f"every distribution of {spec.lock.path.name} at its locked version" if spec.lock else f"{tool} resolves and writes its lock"
    if update:
        what += ", changing only what differs"
    if tool == "poetry" and env.config.index_url and not poetry_source_for(spec.project, env.config.index_url):
        what += ("; index-url does not reach Poetry, which reads its sources only from pyproject.toml (no "
                 "[[tool.poetry.source]] there is that index)")
    extra_env = (("PIPENV_PIPFILE", str(spec.project / "Pipfile")),) if tool == "pipenv" else ()
    cmds.append(Command((*sync, *flags), env=(*tenv, *extra_env), purpose=f"{what} ({tool})"))
    return cmds


PIP_UNINSTALL = ("--disable-pip-version-check", "--no-input", "-y")


class Look(NamedTuple):
    """What the venv step found: why work is needed (None: none), and what it plans from."""

    why: str | None
    fresh: bool  # a new build aside (else: in place)
    want: dict[str, object]
    record: tuple[str, ...] | None = None  # the stamp's "key-version" record (None: no venv, or a stamp without one)
    listing: tuple[str, ...] = ()  # the names in the venv's site-packages
    drift: tuple[str, ...] = ()  # recorded entries the venv no longer holds as recorded
    inputs_changed: tuple[str, ...] = ()  # the inputs that changed (an update not only for drift)


def site_listing(env: StepEnv, venv: str, minor: str) -> tuple[str, ...]:
    """The names in the venv's site-packages: one directory read, no process."""
    sites = [posixpath.join(venv, "lib", f"{impl}{minor}", "site-packages") for impl in ("python", "pypy")]
    for site in [venv + "\\Lib\\site-packages"] if env.windows else sites:
        names = env.probe.listdir(site)
        if names is not None:
            return tuple(names)
    return ()


def drifted(record: tuple[str, ...], listing: tuple[str, ...]) -> tuple[str, ...]:
    """The recorded ``key-version`` entries the listing no longer holds (extras added by hand do not count)."""
    have = {f"{e[0]}-{e[1]}" for d in listing if (e := dist_entry(d))}
    return tuple(r for r in record if r not in have)


def describe_drift(gone: tuple[str, ...], listing: tuple[str, ...]) -> str:
    now: dict[str, list[str]] = {}
    for d in listing:
        if e := dist_entry(d):
            now.setdefault(e[0], []).append(e[1])
    out = []
    for r in gone:
        key, _, version = r.partition("-")
        out.append(f"{key} {version} is now {', '.join(sorted(now[key]))}" if key in now else f"{key} {version} is gone")
    return "; ".join(out)


def listing_keys(listing: tuple[str, ...]) -> set[str]:
    return {e[0] for d in listing if (e := dist_entry(d))}


def not_ours(look: Look) -> list[str]:
    """Keys of what the venv holds that the kit did not install (by hand): never recorded, never removed.
    A stamp without a record proves nothing: then all that is there now counts as not the kit's."""
    keys = listing_keys(look.listing) - KIT_TOOLS
    if look.record is not None:
        keys -= {r.partition("-")[0] for r in look.record}
    return sorted(keys)


def _requirement_lines(closure: Closure) -> list[Line]:
    """A requirement file's lines and those of its ``-r`` includes (not its ``-c`` constraints)."""
    files = {f.path: f for f in closure.files}
    out: list[Line] = []
    seen: set[Path] = set()
    todo = [closure.root]
    while todo:
        path = todo.pop(0)
        if path in seen or path not in files:
            continue
        seen.add(path)
        out += files[path].lines
        todo += files[path].includes
    return out


def project_dependencies(spec: ProjectSpec, extras: set[str]) -> list[str]:
    """The project's own ``[project]`` dependencies (and its selected extras') as its pyproject.toml
    now declares them; none when they are dynamic (the installed metadata decides then)."""
    from .. import toml

    try:
        data = toml.load(spec.project / "pyproject.toml")
    except ProvisionError:
        return []
    proj = data.get("project")
    if not isinstance(proj, dict):
        return []
    dynamic = proj.get("dynamic") if isinstance(proj.get("dynamic"), list) else []
    deps = [] if "dependencies" in dynamic else list(proj.get("dependencies") or [])
    optional = proj.get("optional-dependencies") if isinstance(proj.get("optional-dependencies"), dict) else {}
    if "optional-dependencies" not in dynamic:
        for e in sorted(extras):
            deps += optional.get(e) or []
    return [d for d in deps if isinstance(d, str)]


def requirement_roots(env: StepEnv) -> tuple[list[str], bool]:
    """What the project's pip install now asks for by name (PEP 508 strings), and whether it also
    asks for a path or URL whose distribution's name the plan cannot know."""
    from packaging.requirements import InvalidRequirement, Requirement

    spec = env.project
    roots: list[str] = []
    unnamed = False
    extras = set(spec.extras)
    project = spec.install_project and not spec.editable_in_requirements
    for closure in spec.requirements:
        for line in _requirement_lines(closure):
            if line.requirement is not None:
                roots.append(str(line.requirement))
                continue
            path, _, rest = line.text.partition("[")
            if (spec.project / path).resolve() == spec.project.resolve():
                project = True  # "-e .[socks]": the project itself
                extras |= {e.strip() for e in rest.rstrip("]").split(",") if e.strip()}
            else:
                unnamed = True
    candidates = list(spec.group_requirements)
    if project:
        candidates += project_dependencies(spec, extras)
        if spec.name:
            roots.append(spec.name + (f"[{','.join(sorted(extras))}]" if extras else ""))
        else:
            unnamed = True
    for text in candidates:
        try:
            Requirement(text)
        except InvalidRequirement:
            unnamed = True
            continue
        roots.append(text)
    return roots, unnamed


def prune_commands(env: StepEnv, venv: str, look: Look) -> list[Command]:
    """After a pip project's update: uninstall what the kit installed that no requirement names any
    more, unless something left in the venv still needs it (``venvops prune`` decides that from the
    venv's own metadata, after the install)."""
    from packaging.requirements import Requirement

    if not set(look.inputs_changed) & {"files", "groups", "extras", "project"} or look.record is None or env.project.tool:
        return []  # what is asked for is the same (only drift, or the certificate, index or proxy changed)
    roots, unnamed = requirement_roots(env)
    named = {dist_key(Requirement(r).name) for r in roots}
    present = listing_keys(look.listing)
    going = sorted({r.partition("-")[0] for r in look.record} - named - KIT_TOOLS & present)
    if not going:
        return []
    py = venv_python(env, venv)
    argv = (py, VENVOPS, "prune", venv, *(a for r in roots for a in ("--root", r)), *(("--keep-direct",) if unnamed else ()),
            "--", py, "-m", "pip", "uninstall", *PIP_UNINSTALL, *going)
    return [Command(argv, purpose=f"uninstall what the kit installed and the project no longer requires ({', '.join(going)}): "
                                  "those that nothing left in the venv needs, read from the venv after the install")]


def restore_pins(env: StepEnv, look: Look) -> tuple[str, ...]:
    """``name==version`` for what was uninstalled or changed by hand since the kit installed it
    (inputs unchanged): pip puts back exactly what was recorded."""
    if not look.drift or look.inputs_changed:
        return ()
    own = dist_key(env.project.name) if env.project.name else None
    if requirement_roots(env)[1]:
        return ()  # a path or URL requirement: its distribution may not be on the index; pip's own install restores it
    return tuple(f"{k}=={v}" for k, _, v in (r.partition("-") for r in look.drift) if k != own)


class ProjectVenv(Step):
    name = "project-venv"
    title = "Project venv"

    def current(self, env: StepEnv) -> tuple[str | None, bool, dict[str, object]]:
        """(why work is needed or None, whether a fresh build is needed, the wanted inputs)."""
        look = self.look(env)
        return look.why, look.fresh, look.want

    def look(self, env: StepEnv) -> Look:
        """The venv against what the project wants. An unchanged venv costs file reads and one
        directory listing (the drift check): no process, no heavy import."""
        venv = str(env.config.venv)
        want = inputs(env)
        found = venvsafety.existing(env.probe, venv)
        if found.kind == "absent":
            return Look(f"no venv at {venv}", True, want)
        if found.kind == "foreign":
            return Look(f"{venv} was not built by provision (made by hand or another tool): a new one is built aside and "
                        f"the existing one is moved to {found.backup} and kept", True, want)
        text = env.probe.read_text(os.path.join(venv, STAMP))
        try:
            stamp = json.loads(text) if text else None
        except ValueError:
            stamp = None
        if not isinstance(stamp, dict):
            return Look(f"{venv} has no provision stamp (made by hand or by an interrupted build)", True, want)
        if not env.probe.exists(venv_python(env, venv)):
            return Look(f"the interpreter of {venv} is gone", True, want)
        if (why := venvsafety.broken(env.probe, venv, stamp, windows=env.windows)) is not None:
            return Look(why, True, want)
        have = stamp.get("inputs", {})
        if have.get("python_version") != want["python_version"]:
            where = "; ".join(f"{c.text} ({c.source})" for c in env.project.python) or f"python = \"{env.config.python}\""
            return Look(f"{venv} uses Python {have.get('python_version')}, the project needs {want['python_version']} ({where})",
                        True, want)
        raw = stamp.get(INSTALLED)
        record = tuple(raw) if isinstance(raw, list) and all(isinstance(r, str) for r in raw) else None
        if stamp.get("digest") == inputs_digest(want):
            if record is None:
                return Look(None, False, want)
            listing = site_listing(env, venv, str(want["python_version"]))
            if not (gone := drifted(record, listing)):
                return Look(None, False, want, record, listing)
            return Look(f"{venv} no longer holds what the kit installed: {describe_drift(gone, listing)}", False, want, record,
                        listing, gone)
        if any(have.get(k) != want.get(k) for k in ("recipe", "python", "source", "tool")):
            return Look(f"inputs changed since {venv} was built: {describe_difference(have, want)}", True, want)
        listing = site_listing(env, venv, str(want["python_version"]))
        return Look(f"inputs changed since {venv} was built: {describe_difference(have, want)}", False, want, record, listing,
                    drifted(record, listing) if record is not None else (), tuple(k for k in want if have.get(k) != want[k]))

    def check(self, env: StepEnv) -> Change:
        cfg, spec = env.config, env.project
        venv = str(cfg.venv)
        stage = venv + ".partial"
        leftovers = venvsafety.leftovers(env.probe, venv)
        look = self.look(env)
        why, fresh, want = look.why, look.fresh, look.want
        kit = env.options.kit_python
        cleanup = (Command((kit, ATOMIC, "discard", *leftovers), purpose="remove an interrupted build"),) if leftovers else ()
        if why is None:
            reason = f"up to date: {venv} (Python {env.python.minor}, {spec.kind}, stamp matches)"
            if leftovers:
                reason += f"; leftovers of an interrupted build: {', '.join(leftovers)}"
            return Change(reason, cleanup)
        stamp = json.dumps({"digest": inputs_digest(want), "inputs": want}, sort_keys=True)
        target = stage if fresh else venv
        py = venv_python(env, target)
        cmds: list[Command] = [*cleanup]
        tool = spec.tool if spec.kind != "pylock" else None
        if spec.tool:
            cmds += lock_check_commands(env, target)
        if fresh:
            # a marked directory first (the kit only ever promotes or discards what carries its mark), then
            # the venv with the chosen interpreter: uv syncs into it (UV_PYTHON names the same one); pip
            # goes in where the tool's users expect it (pip, Poetry, Pipenv)
            cmds.append(Command((kit, ATOMIC, "stage", stage), purpose="a marked directory to build the venv in"))
            cmds += create_commands(env, stage, with_pip=tool != "uv" and spec.kind in ("pip", "none", "poetry", "pipenv"))
        if spec.tool:
            cmds += tool_commands(env, target, update=not fresh)
        else:
            cmds += pip_install_commands(env, py, restore_pins(env, look))
            cmds += prune_commands(env, venv, look)
        wheel = None if env.windows else env.python.pip_wheel
        checker = ("--uv", tool_exe(env, "uv")) if spec.tool == "uv" else ()  # uv.lock, pylock.toml
        verify = (py, str(CHECKS / "verify_venv.py"), *(("--pip-wheel", wheel) if wheel else ()), *checker)
        cmds.append(Command(verify, purpose="verify: ssl/ctypes/sqlite3/venv, pip check, a C extension builds"))
        if fresh:
            backup = venvsafety.existing(env.probe, venv).backup
            cmds.append(Command((kit, ATOMIC, "promote", stage, venv, "--stamp", stamp, *(("--backup", backup) if backup else ())),
                                purpose="move the verified venv into place" + (f" (the existing one is kept at {backup})" if backup else "")))
            if spec.kind == "pdm":
                cmds.append(Command((kit, VENVOPS, "pdm-python", str(spec.project), stage, venv),
                                    purpose="PDM's remembered interpreter (.pdm-python) follows the venv"))
        else:
            hand = not_ours(look)
            cmds.append(Command((kit, VENVOPS, "stamp", venv, "--stamp", stamp, *(("--not-ours", *hand) if hand else ())),
                                purpose="record what the venv now matches" + (f" (installed by hand, not recorded: {', '.join(hand)})"
                                                                               if hand else "")))
        if spec.lock_written:
            cmds.append(Command((kit, VENVOPS, "restamp", venv, str(spec.project), *(rel_path(cfg.project, p) for p in deciding(spec))),
                                purpose="the stamp covers the lock the tool just wrote"))
        if spec.nothing:
            why += f"; {spec.notices[-1]}"
        return Change(why, tuple(cmds))
