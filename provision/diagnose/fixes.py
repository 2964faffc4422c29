"""Explanation and fix per category, rendered for one machine's profile.

The words and commands are data (``profiles/diagnose/fixes.toml``); this module reads
the log's facts into flags and placeholders, picks the steps whose conditions hold, and
renders them for the target platform. System packages come from the profile's needs map
(``profile.packages(need)``) and the install argv from the package-manager adapter
(``provision.platforms.pkgmgr``), without the options that are only there for unattended runs. The
safe choice comes first: a venv before ``--user``; never ``--break-system-packages``,
``sudo pip``, ``--trusted-host`` or turning verification off.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ProvisionError
from ..machine.facts import Facts
from ..paths import data_dir
from ..platforms.pkgmgr import adapter
from ..platforms.profiles import Profile, fill_version
from . import Finding, conflicts, fileindex
from .rules import LIBC_HEADERS, Hit, LogFacts

FIXES_FILE = data_dir() / "diagnose" / "fixes.toml"


@lru_cache(maxsize=2)
def data(path: str = str(FIXES_FILE)) -> Mapping[str, Any]:
    from .. import toml

    return toml.load(Path(path))


@dataclass(frozen=True)
class Machine:
    """What a fix is rendered for: facts (root or not) and the resolved profile."""

    facts: Facts
    profile: Profile | None

    @property
    def root(self) -> bool:
        return self.facts.is_root and not self.facts.preset

    @property
    def windows(self) -> bool:
        return self.facts.system == "Windows"


@dataclass(frozen=True)
class Line:
    """One rendered fix line: a command (argv as typed, text) or prose."""

    text: str
    argv: tuple[str, ...] = ()

    @property
    def command(self) -> bool:
        return bool(self.argv)


def join(machine: Machine, argv: Sequence[str]) -> str:
    """argv as the target platform's shell takes it."""
    return subprocess.list2cmdline(list(argv)) if machine.windows else shlex.join(argv)


def typed_install(machine: Machine, packages: Sequence[str]) -> list[tuple[str, ...]]:
    """The adapter's install argv(s) in the form a person types: sudo when needed, without
    the options that only serve unattended runs (-y, -q, apt's -o …)."""
    prof = machine.profile
    if prof is None or not packages:
        return []
    pm = data()["package-manager"].get(prof.package_manager, {})
    drop, drop_value = set(pm.get("unattended", ())), set(pm.get("unattended-value", ()))
    out = []
    for cmd in adapter(prof.package_manager).install(tuple(packages)):
        argv: list[str] = []
        skip = False
        for a in cmd.argv:
            if skip:
                skip = False
            elif a in drop_value:
                skip = True
            elif a not in drop:
                argv.append(a)
        out.append((*(("sudo",) if cmd.sudo and not machine.root else ()), *argv))
    return out


def install_command(machine: Machine, packages: tuple[str, ...]) -> str:
    """The install command line for packages (several adapters' commands joined by &&)."""
    return " && ".join(join(machine, a) for a in typed_install(machine, packages))


# ----------------------------------------------------------------------------- the context


@dataclass
class Context:
    """Flags (for ``when``) and placeholder values of one finding on one machine."""

    flags: set[str] = field(default_factory=set)
    values: dict[str, str] = field(default_factory=dict)
    ran: tuple[str, ...] = ()  # commands the log shows were run: never offered as the fix
    lists: dict[str, list[str]] = field(default_factory=dict)  # placeholders that are several argv items

    def argv(self, template: Iterable[str]) -> tuple[str, ...]:
        """argv with placeholders filled; an item holding a list placeholder becomes one item each."""
        out: list[str] = []
        for item in template:
            name = next((k for k in self.lists if "{" + k + "}" in item), None)
            if name:
                out += [self.fill(item.replace("{" + name + "}", x)) for x in self.lists[name]]
            else:
                out.append(self.fill(item))
        return tuple(out)

    def holds(self, when: Iterable[str]) -> bool:
        return all((w[4:] not in self.flags) if w.startswith("not-") else (w in self.flags) for w in when)

    def fill(self, text: str) -> str:
        return re.sub(r"\{([a-z_-]+)\}", lambda m: self.values.get(m.group(1), m.group(0)), text)


def _default_minor(machine: Machine) -> str:
    py = machine.facts.default_python
    return py.minor if py else ""


def _os_python(machine: Machine, minor: str) -> bool:
    return any(p.minor == minor and p.os_managed for p in machine.facts.pythons)


def context(hit: Hit, machine: Machine, log: LogFacts) -> Context:
    ctx = Context(ran=tuple(log.ran))
    f, prof = machine.facts, machine.profile
    system = {"Windows": "windows", "Darwin": "macos"}.get(f.system, "linux")
    ctx.flags |= {system, *(("profile", f"pm:{prof.package_manager}") if prof else ()), *(("root",) if machine.root else ())}
    if log.kit_fix_ran:
        ctx.flags.add("fix-ran")  # the kit's own install --fix is what failed: it is not the fix
    pkg = log.failing_package or hit.subject if hit.category == "missing-native-library" and hit.likely else log.failing_package
    evidence = " ".join(ln for _, ln in hit.lines)
    v = ctx.values
    v.update(
        package=pkg or "PACKAGE", package_or=pkg or "the package", python="py" if system == "windows" else "python3",
        venv_python=r".venv\Scripts\python.exe" if system == "windows" else ".venv/bin/python",
        subject=hit.subject or "", subject_or=hit.subject or "see the evidence", need=hit.need or "",
        profile=prof.name if prof else "", pm=prof.package_manager if prof else "", index_host=log.index_host or "INDEX-HOST",
    )
    if hit.index:  # the package index was asked (explain): its answer picks the words
        ctx.flags |= {"index", f"index-{hit.index['kind']}"}
        v.update(index_says=hit.index["says"], nearest=", ".join(hit.index.get("nearest") or ()),
                 index_where=hit.index.get("platform") or "this platform")
    c = hit.category
    if c == "wrong-interpreter":
        if hit.rule == "venv-python-gone" or "virtualenvs" in evidence:
            ctx.flags.add("pipenv" if "virtualenvs" in evidence or "pipenv" in evidence else "moved")
        if re.search(r"bad interpreter|required file not found", evidence, re.I):
            ctx.flags.add("moved")
            m = re.search(r"(\S+): bad interpreter", evidence)
            if m and not re.search(r"/pip[\d.]*:?$", m.group(1)):
                ctx.flags.add("tool")
        m = re.search(r"bad interpreter: ([^:]+):|(\S+python[\d.]*): No such file", evidence, re.I)
        v["path"] = next((g for g in m.groups() if g), "") if m else ""
    elif c == "permission-denied":
        m = re.search(r"(?:denied|\[WinError 5\][^:]*|\[Errno 13\][^:]*): '([^']+)'", evidence)
        v["path"] = m.group(1) if m else ""
        v["path_in"] = f" ({v['path']})" if v["path"] else ""
        if re.search(r"pip3?(?:\.\d+)?\.exe'?$", v["path"], re.I):
            ctx.flags.add("pip-exe")
    elif c == "ssl-certificate":
        flavor = log.python_flavor or (f.default_python.framework if f.default_python and system == "macos" and not log.platforms else "")
        if system == "macos" and flavor == "python.org":
            ctx.flags.add("python-org")
        v["version"] = log.framework_minor or (f.default_python.minor if f.default_python else "3.X")
        if "self" in evidence and "signed" in evidence:
            v["why"] = "a self-signed certificate is in the chain: a proxy or TLS-inspection appliance re-signs HTTPS with its own CA"
        elif "expired" in evidence:
            v["why"] = "a certificate has expired: the clock is wrong or the CA bundle is stale"
        else:
            v["why"] = "the issuer is not in the CA bundle pip uses: a TLS-inspecting proxy, or a stale/missing CA bundle"
    elif c == "network-unreachable":
        if "proxy" in evidence.lower():
            ctx.flags.add("proxy")
        elif re.search(r"name resolution|Name or service|getaddrinfo|nodename|address associated|\[Errno -[235]\]|\[Errno 1100[14]\]", evidence):
            ctx.flags.add("dns")
    elif c == "missing-compiler":
        if hit.subject and (hit.subject in LIBC_HEADERS or hit.subject.startswith(("bits/", "gnu/"))):
            ctx.flags.add("libc")
        if hit.rule == "redhat-rpm-config":
            ctx.flags.add("rpm-config")
            v["subject"] = "redhat-hardened-cc1"
    elif c == "missing-python-headers":
        # the Python the extension was built for, when the log shows it and it is a chosen one
        # (run as python3.X, a tox py3XX env) or one of the target's OS Pythons: its own -dev package
        minor = log.header_minor
        if prof and prof.versioned_headers and minor and minor != _default_minor(machine) and (
                minor in log.explicit_minors or _os_python(machine, minor)):
            ctx.flags.add("versioned")
            v["version"] = minor
            v["headers"] = fill_version(prof.versioned_headers, minor)
    elif c == "venv-unavailable":
        minor = log.venv_minor
        v["version"] = minor or ""
        # only where the platform ships venv apart from the interpreter (Debian's pythonX.Y-venv);
        # elsewhere a failing venv is a broken installation, not a missing package
        if prof and prof.versioned_venv and prof.needs.get("venv"):
            if minor and minor != _default_minor(machine):
                ctx.flags.add("versioned")
                v["venv"] = fill_version(prof.versioned_venv, minor)
            # Debian/Ubuntu's own message names the package: that one, when it is this platform's name for it
            named = log.venv_package
            if named and (named in prof.needs["venv"] or (minor and named == fill_version(prof.versioned_venv, minor))):
                v["venv"] = named
    elif c == "missing-native-library":
        needs = hit.needs or ([hit.need] if hit.need else [])
        if needs:
            ctx.flags.add("known")
        if hit.likely:
            ctx.flags.add("likely")
        v["needs"] = " ".join(needs)
        parts = [f"the '{n}' development files" for n in needs if n != "pkg-config"] + (["pkg-config to find them"] if "pkg-config" in needs else [])
        what = " and ".join(parts) if needs else f"a native library ({hit.subject or 'unknown'})"
        v["what"] = what
        ports = [p for n in needs for p in data().get("vcpkg", {}).get(n, ())]
        if ports:
            ctx.flags.add("vcpkg")
            v["vcpkg"] = " ".join(ports)
            ctx.lists["vcpkg"] = ports
        if "postgres-client" in needs and (pkg or "").lower() == "psycopg2":
            ctx.flags.add("psycopg2")
    return ctx


# ----------------------------------------------------------------------------- steps


def _install(machine: Machine, ctx: Context, what: str, hit: Hit) -> list[Line]:
    """The install line(s) for needs (or a versioned package): one transaction for all."""
    prof = machine.profile
    if what == "{needs}":
        needs = hit.needs or ([hit.need] if hit.need else [])
    elif what == "{venv}":
        needs = [ctx.values["venv"]] if "venv" in ctx.values else ["venv"]
    elif what == "{headers}":
        needs = [ctx.values["headers"]] if "headers" in ctx.values else ["python-headers"]
    else:
        needs = [ctx.fill(what)]
    if prof is None:
        return [Line(f"install the development files for {', '.join(needs)} with your system's package manager "
                     "(no profile matches this platform)")]
    packages: list[str] = []
    out: list[Line] = []
    for need in needs:
        if need.startswith("python") and need not in prof.needs:  # a versioned package name from the profile's template
            packages.append(need)
            continue
        try:
            pkgs = prof.packages(need)
        except ProvisionError:
            if hit.subject:
                out += _search(machine, ctx, hit.subject, hit.kind)
            else:
                out.append(Line(f"the '{prof.name}' profile has no packages for '{need}': this platform does not provide it "
                                f"through {prof.package_manager}"))
            continue
        if not pkgs:
            out.append(Line(f"'{need}' comes with the base system on {prof.name}: reinstall or repair it"
                            + (" (xcode-select --install)" if "xcode-command-line-tools" in prof.extra_steps else "")))
        packages += [p for p in pkgs if p not in packages]
    lines = [Line(join(machine, a), a) for a in typed_install(machine, packages)]
    return lines + out


def _search(machine: Machine, ctx: Context, subject: str, kind: str | None = None) -> list[Line]:
    """The distro's own file index, for a file or command no table knows (the same search
    ``install --fix`` runs, as a person types it)."""
    prof = machine.profile
    index = fileindex.index_for(prof.package_manager) if prof else None
    name = subject.strip("'\"<>")
    item = fileindex.missing(kind or fileindex.infer_kind(name), name)
    if item is None or index is None:
        return [Line(f"install the package that provides {name} with the system's package manager")]
    argv = index.argv(item)
    if argv is None:
        return [Line(index.cannot(item) or "")]
    typed = typed_argv(machine, argv)
    out = [Line(join(machine, typed) + f"   (which package provides {name}; install that one)", typed)]
    if index.note:
        out.append(Line(index.note))
    return out


def typed_argv(machine: Machine, argv: Sequence[str]) -> tuple[str, ...]:
    """An argv without the options that only serve unattended runs (as a person types it)."""
    prof = machine.profile
    pm = data()["package-manager"].get(prof.package_manager, {}) if prof else {}
    drop = set(pm.get("unattended", ()))
    return tuple(a for a in argv if a not in drop)


def _steps(machine: Machine, ctx: Context, steps: Iterable[Mapping[str, Any]], hit: Hit) -> list[Line]:
    out: list[Line] = []
    for step in steps:
        if not ctx.holds(step.get("when", ())):
            continue
        if "include" in step:
            out += _steps(machine, ctx, data()["group"][step["include"]], hit)
        elif "install" in step:
            out += _install(machine, ctx, step["install"], hit)
        elif "search" in step:
            out += _search(machine, ctx, ctx.fill(step["search"]), hit.kind) if hit.subject else []
        elif "run" in step:
            argv = ctx.argv(step["run"])
            if step.get("sudo") and not machine.root:
                argv = ("sudo", *argv)
            text = join(machine, argv)
            if _already_ran(text, ctx.ran):
                continue  # the log shows this very command failing: it is not the fix
            note = ctx.fill(step.get("note", ""))
            out.append(Line(f"{text}   ({note})" if note else text, argv))
        elif "say" in step:
            out += [Line(x) for x in ctx.fill(step["say"]).split("\n") if x.strip()]
    return out


def _norm_cmd(text: str) -> str:
    return re.sub(r"\s+|\\ ", " ", text.replace("'", "").replace('"', "")).strip().lower()


def _already_ran(text: str, ran: Sequence[str]) -> bool:
    key = _norm_cmd(text)
    return any(key and (r == key or r.endswith(" " + key) or r.endswith("/" + key)) for r in ran)


def _explanation(spec: Any, ctx: Context) -> str:
    if isinstance(spec, str):
        return ctx.fill(spec)
    for item in spec:
        if ctx.holds(item.get("when", ())):
            return ctx.fill(item["text"])
    return ""


def render(hit: Hit, machine: Machine, log: LogFacts | str | None = None) -> Finding:
    """One scanner hit -> a finding with its explanation and fix for this machine."""
    facts = log if isinstance(log, LogFacts) else LogFacts()
    c = hit.category
    f = Finding(c, hit.need, [ln for _, ln in hit.lines[:8]])
    f.details["needs"] = list(hit.needs or ([hit.need] if hit.need else []))
    if hit.likely:
        f.details["likely"] = True
    if hit.index:
        f.details["index"] = dict(hit.index)
    if c == "missing-native-library" and not f.details["needs"]:
        item = fileindex.missing(hit.kind, hit.subject)
        if item is not None:  # no table knows it: install --fix asks the distro's file index
            f.details["missing"] = item.to_json()
    ctx = context(hit, machine, facts)
    _category_values(c, hit, facts, ctx, f)
    spec = data()["category"].get(c)
    if spec is None:
        return f
    f.explanation = _explanation(spec["explanation"], ctx)
    lines = _steps(machine, ctx, spec.get("fix", ()), hit)
    f.fix = [ln.text for ln in lines]
    f.commands = {ln.text: ln.argv for ln in lines if ln.command}
    return f


def _category_values(c: str, hit: Hit, log: LogFacts, ctx: Context, f: Finding) -> None:
    """Values only some categories have (the conflict table, the newest release, …)."""
    v = ctx.values
    if c == "python-version-mismatch":
        newest = _newest_allowed(log.from_versions)
        v["newest"] = f" (newest offered: {newest})" if newest else ""
        if hit.index.get("newest_for_python"):
            v["newest"] = f" (the newest on the index for Python {hit.index['python']}: {hit.index['newest_for_python']})"
        if log.requires_python:
            f.details["ignored"] = log.requires_python
        v["python_needed"] = _python_needed(log.requires_python or "")
    elif c == "no-matching-distribution":
        req = hit.subject or log.requested or "PACKAGE"
        v["requirement"] = req
        v["requirement_name"] = re.split(r"[<>=!~;\[ ]", req)[0]
        v["old_pip"] = "" if log.from_versions is not None else (
            " This pip does not list the versions it saw, so a Requires-Python mismatch looks the same.")
        if log.from_versions is None:
            ctx.flags.add("old-pip")
    elif c == "resolution-impossible":
        analyses = conflicts.analyse(log.conflict_rows)
        f.details["conflicts"] = [a.to_json() for a in analyses]
        f.details["table"] = conflicts.table(log.conflict_rows)
        lines = []
        for a in analyses:
            if a.agreed is None:
                for r, allow in a.relax:
                    if r.who.startswith("you"):
                        lines.append(f"loosen your pin {a.package}{r.spec}: every other requirement allows {a.package} {allow}")
                    else:
                        pkg_name, _, ver = r.who.partition(" ")
                        lines.append(f"or use another release of {pkg_name} than {ver}: one whose {a.package} requirement allows {allow} "
                                     f"(this one needs {a.package}{r.spec})")
                if not a.relax:
                    lines.append(f"no single change reconciles {a.package}: loosen several pins or upgrade the packages that depend on it")
            else:
                lines.append(f"{a.package}: the requirements agree on {a.agreed}")
        v["conflict_fixes"] = "\n".join(lines)


def _python_needed(ignored: str) -> str:
    """A Python every skipped release takes: the highest bare lower bound ("Requires-Python
    >=3.12"; a clause with an upper bound says nothing sure), else "3.X"."""
    if len(ignored) >= 500:  # the fact is cut at 500 characters: its last clause may be cut too
        ignored = ignored.rsplit(";", 1)[0]
    bounds = re.findall(r"Requires-Python\s*>=\s*3\.(\d+)(?:\.\d+)*\s*(?=[;(]|$)", ignored)
    return f"3.{max(map(int, bounds))}" if bounds else "3.X"


def _newest_allowed(versions: str | None) -> str | None:
    if not versions:
        return None
    final = [x.strip() for x in versions.split(",") if re.fullmatch(r"[\d.]+", x.strip())]
    return final[-1] if final else None
