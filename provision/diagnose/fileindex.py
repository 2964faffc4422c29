"""The distro's own file index: which package has a header, command, library or .pc file.

For a file no table knows (``rules.HEADERS``, the profiles' needs, the build-needs table),
``install --fix`` asks the platform's own index — ``apt-file``, ``dnf provides``, ``zypper
search --provides``, ``pacman -F``, Alpine's ``cmd:``/``so:``/``pc:`` provides — and
installs the package it names. What to run and how its output reads is data
(``[package-manager.PM.file-index]`` in ``profiles/diagnose/fixes.toml``); here are the
small parsers, one per tool, and the rule that picks one package among several:

1. the path: where a compiler, a shell or the linker looks first (``/usr/include``, its
   multiarch directory, ``/usr/bin``, ``/usr/lib``) beats a subdirectory of it, which beats
   anywhere else (a cross toolchain, kernel sources, a vendored copy);
2. a package the profile already names for a need (the team's checked choice);
3. a development package (``-dev``, ``-devel``): headers and ``.so`` links live there;
4. the name, alphabetically, so the same index always gives the same answer.

Every name parsed from a tool's output is validated before it can reach an argv.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..command import valid_package_name
from ..machine.probe import Probe

KINDS = ("header", "command", "library", "pkgconfig")
#: what each kind is called in a sentence
KIND_WORDS = {"header": "header", "command": "command", "library": "library", "pkgconfig": "pkg-config module"}


@dataclass(frozen=True)
class Missing:
    """A file a build could not find: what kind it is and its name as the build gave it."""

    kind: str
    name: str

    @property
    def file(self) -> str:
        """The file searched for: ``gmp.h``, ``protoc``, ``libgmp.so``, ``gmp.pc``."""
        if self.kind == "pkgconfig":
            return f"{self.name}.pc"
        if self.kind == "library" and not re.match(r"lib.*\.(?:so|a|dylib)\b", self.name):
            return f"lib{self.name}.so"
        return self.name

    @property
    def words(self) -> str:
        return f"the {KIND_WORDS[self.kind]} {self.name}"

    def values(self) -> dict[str, str]:
        """Placeholders of the search templates."""
        base = self.file.rsplit("/", 1)[-1]
        return {"file": self.file, "file_re": re.escape(self.file), "name": self.name, "basename": base,
                "stem": re.sub(r"\.(?:h|pc|so)$", "", base)}

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "file": self.file}


#: a name as a build prints it: a header path, a program, a library, a pkg-config module
_NAME = re.compile(r"^[A-Za-z0-9_+][A-Za-z0-9_.+/-]{0,200}$")


def missing(kind: str | None, name: str | None) -> Missing | None:
    """A ``Missing`` for a rule's subject, or None when it cannot be searched for safely."""
    if kind not in KINDS or not name:
        return None
    name = name.strip("'\"<>`“”‘’").replace("\\", "/")
    if not _NAME.match(name) or ".." in name.split("/") or name.startswith("/"):
        return None
    if kind == "pkgconfig" and name.endswith(".pc"):
        name = name[:-3]
    return Missing(kind, name)


def infer_kind(name: str) -> str:
    """The kind of a bare name (a fix rendered without a rule's kind): by its look."""
    if name.endswith(".h") or name.endswith(".hpp"):
        return "header"
    if re.search(r"\.so(?:\.|$)|\.a$|\.dylib$", name):
        return "library"
    if name.endswith(".pc"):
        return "pkgconfig"
    return "command"


# ----------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Index:
    """One package manager's file index, from ``[package-manager.PM.file-index]``."""

    pm: str
    searches: Mapping[str, tuple[str, ...]]
    parse: str = ""
    package: str = ""
    update: tuple[str, ...] = ()
    index: str = ""
    say: Mapping[str, str] = field(default_factory=dict)
    note: str = ""
    no_match_exit: tuple[int, ...] = ()  # the exit codes of "nothing matched" (not a failure)
    no_match: tuple[str, ...] = ()  # the words the tool says it with, when it says something

    @property
    def tool(self) -> str:
        """The search as people name it: ``apt-file search``, ``dnf provides``, ``pacman -F``."""
        argv = next(iter(self.searches.values()), (self.pm,))
        return " ".join([argv[0], *[a for a in argv[1:] if not a.startswith("--") and a != "-q"][:1]])

    @property
    def runnable(self) -> bool:
        """install --fix can run it (a parser exists); otherwise it is only offered."""
        return self.parse in PARSERS

    def argv(self, item: Missing) -> tuple[str, ...] | None:
        template = self.searches.get(item.kind)
        if not template:
            return None
        values = item.values()
        return tuple(re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), a) for a in template)

    def cannot(self, item: Missing) -> str | None:
        """Why this index cannot search for the item (its say text), or None when it can."""
        if item.kind in self.searches:
            return None
        values = item.values()
        text = self.say.get(item.kind)
        if text:
            return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)
        return f"{self.pm}'s file index cannot search for a {KIND_WORDS[item.kind]}"


def index_for(pm: str, data: Mapping[str, Any] | None = None) -> Index | None:
    """The file index of a package manager, or None when the data has none."""
    if data is None:
        from .fixes import data as fixes_data

        data = fixes_data()
    spec = data.get("package-manager", {}).get(pm, {}).get("file-index")
    if not spec:
        return None
    return Index(
        pm=pm,
        searches={k: tuple(spec[k]) for k in KINDS if k in spec},
        parse=spec.get("parse", ""),
        package=spec.get("package", ""),
        update=tuple(spec.get("update", ())),
        index=spec.get("index", ""),
        say={k: spec[f"{k}-say"] for k in KINDS if f"{k}-say" in spec},
        note=spec.get("note", ""),
        no_match_exit=tuple(spec.get("no-match-exit", ())),
        no_match=tuple(spec.get("no-match", ())),
    )


# ----------------------------------------------------------------------------- parsers

#: (package, path) pairs a search found; the path is None when the tool names only packages
Found = list[tuple[str, "str | None"]]


def parse_apt_file(out: str) -> Found:
    """``apt-file search``: ``libgmp-dev: /usr/include/x86_64-linux-gnu/gmp.h`` per line."""
    found: Found = []
    for line in out.splitlines():
        m = re.match(r"^([^\s:]+): (/\S.*)$", line.strip())
        if m:
            found.append((m.group(1), m.group(2).strip()))
    return found


def _rpm_name(nevra: str) -> str:
    """``gmp-devel-1:6.2.1-5.fc40.x86_64`` -> ``gmp-devel``."""
    parts = nevra.rsplit("-", 2)
    return parts[0] if len(parts) == 3 else nevra


def parse_dnf(out: str) -> Found:
    """``dnf provides`` (dnf 4 and 5): a ``NEVRA : summary`` line opens each block, whose
    ``Filename :`` (or ``Provide :``) line says what matched."""
    found: Found = []
    current: str | None = None
    matched = False
    for line in out.splitlines():
        head = re.match(r"^(\S+-[^-\s]+-[^-\s]+) : ", line)
        if head:
            if current and not matched:
                found.append((current, None))
            current, matched = _rpm_name(head.group(1)), False
            continue
        m = re.match(r"^\s*(Filename|Provide)\s*: (.+)$", line)
        if m and current:
            found.append((current, m.group(2).strip() if m.group(1) == "Filename" else None))
            matched = True
    if current and not matched:
        found.append((current, None))
    return found


def parse_zypper(out: str) -> Found:
    """``zypper search --provides``: a table ``S | Name | Summary | Type``; packages only."""
    found: Found = []
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) >= 4 and cells[1] and cells[1] != "Name" and cells[-1] == "package":
            found.append((cells[1], None))
    return found


def parse_pacman(out: str) -> Found:
    """``pacman -F``: ``usr/include/gmp.h is owned by core/gmp 6.3.0-1`` for a path, or a
    ``repo/name version`` line followed by indented paths for a bare name."""
    found: Found = []
    current: str | None = None
    for line in out.splitlines():
        m = re.match(r"^(\S+) is owned by [^/\s]+/(\S+) \S+", line)
        if m:
            found.append((m.group(2), "/" + m.group(1).lstrip("/")))
            current = None
            continue
        m = re.match(r"^[^/\s]+/(\S+) \S+", line)
        if m:
            current = m.group(1)
            continue
        if current and line.startswith((" ", "\t")) and line.strip():
            found.append((current, "/" + line.strip().lstrip("/")))
    return found


def parse_apk(out: str) -> Found:
    """``apk search``: ``gmp-dev-6.3.0-r1`` per line (name, version, release)."""
    found: Found = []
    for line in out.splitlines():
        word = line.strip().split(" ", 1)[0]
        m = re.match(r"^(.+?)-\d[^-]*-r\d+$", word)
        if m:
            found.append((m.group(1), None))
    return found


PARSERS: Mapping[str, Callable[[str], Found]] = {
    "apt-file": parse_apt_file, "dnf": parse_dnf, "zypper": parse_zypper, "pacman": parse_pacman, "apk": parse_apk,
}


# ----------------------------------------------------------------------------- the choice

_STANDARD = {
    "header": ("/usr/include", "/usr/local/include"),
    "command": ("/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"),
    "library": ("/usr/lib", "/lib", "/usr/lib64", "/lib64", "/usr/local/lib"),
    "pkgconfig": ("/usr/lib/pkgconfig", "/usr/lib64/pkgconfig", "/usr/share/pkgconfig", "/usr/local/lib/pkgconfig"),
}
_MULTIARCH = re.compile(r"^[a-z0-9_]+-(?:[a-z0-9_]+-)?linux-[a-z0-9_]+$")  # x86_64-linux-gnu, arm-linux-gnueabihf
PLACES = ("the standard directory", "a subdirectory of it", "elsewhere")


def placement(kind: str, path: str, file: str) -> int | None:
    """Where a path puts the file: 0 where the build looks first, 1 a subdirectory of that,
    2 anywhere else it could be; None when the path is not the file at all."""
    if not path.endswith("/" + file):
        return None
    where = path[: -len(file) - 1]
    standard = _STANDARD[kind]
    if kind == "pkgconfig":
        standard = (*standard, *(d for d in ("/usr/lib", "/usr/lib64") if where.startswith(d + "/") and where.endswith("/pkgconfig")
                                   and _MULTIARCH.match(where[len(d) + 1: -len("/pkgconfig")])))
    if where in standard:
        return 0
    for base in standard:
        if where.startswith(base + "/"):
            rest = where[len(base) + 1:]
            return 0 if _MULTIARCH.match(rest) else 1
    inside = {"header": "/include", "command": "/bin", "library": "/lib", "pkgconfig": "/pkgconfig"}[kind]
    return 2 if inside in where else None


#: a package name as the distros' indexes print it (no repository prefix, no option, no shell syntax)
_PACKAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+._-]*$")


def _dev(name: str) -> bool:
    return bool(re.search(r"-(?:dev|devel)(?:$|-)|-headers$", name))


@dataclass(frozen=True)
class Choice:
    """The package picked for a missing file, the others that have it, and why this one."""

    package: str
    path: str | None
    others: tuple[str, ...] = ()
    why: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"package": self.package, "path": self.path, "others": list(self.others), "why": self.why}


def choose(item: Missing, found: Iterable[tuple[str, str | None]], preferred: Iterable[str] = ()) -> Choice | None:
    """One package per the rule in the module's docstring; None when nothing valid matched."""
    known = set(preferred)
    best: dict[str, tuple[int, str | None]] = {}
    for name, path in found:
        if not valid_package_name(name) or not _PACKAGE.match(name):
            continue  # never an argv item from a line that is not a package name
        place = 0 if path is None else placement(item.kind, path, item.file)
        if place is None:
            continue
        if name not in best or place < best[name][0]:
            best[name] = (place, path)
    if not best:
        return None

    def key(name: str) -> tuple[int, bool, bool, str]:
        return best[name][0], name not in known, not _dev(name), name

    ranked = sorted(best, key=key)
    pick = ranked[0]
    place, path = best[pick]
    others = tuple(ranked[1:])
    why = ""
    if others:
        rival = ranked[1]
        if best[rival][0] > place:
            why = f"its {item.file} is in {PLACES[place]}, {rival}'s in {PLACES[best[rival][0]]}"
        elif (pick in known) != (rival in known):
            why = "the profile already names it for a need"
        elif _dev(pick) != _dev(rival):
            why = "it is the development package"
        else:
            why = "the first by name among equals"
    return Choice(pick, path, others, why)


# ----------------------------------------------------------------------------- the search


@dataclass(frozen=True)
class Lookup:
    """One search: what was missing, the argv run, what it found and the package chosen."""

    item: Missing
    argv: tuple[str, ...]
    choice: Choice | None = None
    error: str | None = None  # the tool failed (not: found nothing)

    def to_json(self) -> dict[str, Any]:
        return {**self.item.to_json(), "argv": list(self.argv), "choice": self.choice.to_json() if self.choice else None,
                "error": self.error}


def search(probe: Probe, index: Index, item: Missing, preferred: Sequence[str] = ()) -> Lookup:
    """Run the search (a read-only query: a probe, run even in a dry run) and choose."""
    argv = index.argv(item)
    if argv is None:
        raise ValueError(f"{index.pm} cannot search for {item.kind}")
    res = probe.run(argv)
    found = PARSERS[index.parse](res.stdout)
    if not found and res.code != 0:
        said = (res.stderr + res.stdout).strip()
        quiet = res.code in index.no_match_exit and (not said or any(w.lower() in said.lower() for w in index.no_match))
        if not quiet:
            msg = (said or f"exit {res.code}").splitlines()[-1][:300]
            return Lookup(item, argv, None, f"{msg} (exit {res.code})")
    return Lookup(item, argv, choose(item, found, preferred))
