"""The rules, as data: patterns in pip / venv / compiler output -> category and need.

A rule is a regular expression tried on every line (``within``: the line must also
match that, e.g. a DNS error only counts on pip's own retry lines, not inside a build
script's traceback). A rule either names its need, or takes it from one of the name
tables below through its first group (a header, a pkg-config module, a tool, Pillow's
dependency name). Output from pip 20 to the newest, verbose or not, is scanned whole:
the real error often sits deep in a compiler log.

Findings are then ordered by ``CATEGORIES`` (root cause first) and derivative noise is
dropped (``DERIVED``): "No matching distribution" after a certificate failure, "Failed
building wheel" (never a category), and so on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from . import CATEGORIES

# -------------------------------------------------------------------------- name tables

#: C header (as in ``#include <...>``) -> need. ``Python.h`` is its own category.
HEADERS: Mapping[str, str] = {
    "cairo.h": "cairo",
    "cairo/cairo.h": "cairo",
    "libpq-fe.h": "postgres-client",
    "pg_config.h": "postgres-client",
    "libxml/xmlversion.h": "xml",
    "libxml/parser.h": "xml",
    "libxml/*": "xml",
    "libxslt/*": "xml",
    "libexslt/*": "xml",
    "ffi.h": "ffi",
    "ffitarget.h": "ffi",
    "openssl/*": "ssl",
    "jpeglib.h": "jpeg",
    "turbojpeg.h": "jpeg",
    "zlib.h": "zlib",
    "yaml.h": "yaml",
    "mysql.h": "mysql-client",
    "mysql/mysql.h": "mysql-client",
    "mariadb/mysql.h": "mysql-client",
    "png.h": "png",
    "ft2build.h": "freetype",
    "bzlib.h": "bz2",
    "lzma.h": "lzma",
    "sqlite3.h": "sqlite",
    "readline/readline.h": "readline",
    "ncurses.h": "ncurses",
    "curses.h": "ncurses",
    "gdbm.h": "gdbm",
    "tk.h": "tk",
    "tcl.h": "tk",
    "uuid/uuid.h": "uuid",
}

#: pkg-config module (also meson's dependency name) -> need.
PKGCONFIG: Mapping[str, str] = {
    "cairo": "cairo",
    "libpq": "postgres-client",
    "libxml-2.0": "xml",
    "libxml2": "xml",
    "libxslt": "xml",
    "libexslt": "xml",
    "libffi": "ffi",
    "openssl": "ssl",
    "libssl": "ssl",
    "libcrypto": "ssl",
    "libjpeg": "jpeg",
    "zlib": "zlib",
    "yaml-0.1": "yaml",
    "mysqlclient": "mysql-client",
    "mariadb": "mysql-client",
    "libmariadb": "mysql-client",
    "perconaserverclient": "mysql-client",
    "libpng": "png",
    "freetype2": "freetype",
    "sqlite3": "sqlite",
    "uuid": "uuid",
}

#: helper programs a build runs -> need.
TOOLS: Mapping[str, str] = {
    "pg_config": "postgres-client",
    "mysql_config": "mysql-client",
    "mariadb_config": "mysql-client",
    "xslt-config": "xml",
    "xml2-config": "xml",
    "pkg-config": "pkg-config",
}

#: Pillow's "The headers or library files could not be found for NAME" -> need.
PILLOW: Mapping[str, str] = {
    "jpeg": "jpeg",
    "zlib": "zlib",
    "freetype": "freetype",
    "png": "png",
}

TABLES: Mapping[str, Mapping[str, str]] = {"header": HEADERS, "pkgconfig": PKGCONFIG, "tool": TOOLS, "pillow": PILLOW}


def lookup(table: str, name: str) -> str | None:
    """The need for ``name`` in a table; ``dir/*`` entries match any header below dir."""
    names = TABLES[table]
    name = name.strip("'\"<>`")
    if name in names:
        return names[name]
    if table == "header" and "/" in name:
        return names.get(name.split("/")[0] + "/*")
    if table == "pkgconfig":
        return names.get(name.lower())
    return None


# -------------------------------------------------------------------------- the rules


@dataclass(frozen=True)
class Rule:
    name: str
    category: str
    pattern: re.Pattern[str]
    need: str | None = None
    need_from: str | None = None  # a table in TABLES, applied to group 1
    within: re.Pattern[str] | None = None


def _r(text: str) -> re.Pattern[str]:
    return re.compile(text)


_PIP_NET = _r(r"Retrying \(|Could not fetch URL|Max retries exceeded|NewConnectionError|ProxyError|ConnectTimeoutError|ReadTimeoutError"
              r"|Could not install packages due to an (OSError|EnvironmentError)")
_HEADER = r"fatal error: '?([A-Za-z0-9_./+-]+\.h)'?(?::)? (?:No such file or directory|file not found)"

RULES: tuple[Rule, ...] = (
    # --- the tool itself ------------------------------------------------------------
    Rule("pip-command-not-found", "pip-not-found", _r(r"(?:^|[\s:/])pip(?:3(?:\.\d+)?)?: (?:command )?not found")),
    Rule("pip-module-missing", "pip-not-found", _r(r"No module named '?pip'?\s*$")),
    Rule("pip-not-recognized", "pip-not-found", _r(r"'pip3?' is not recognized as an internal or external command")),
    Rule("pip-bad-interpreter", "wrong-interpreter",
         _r(r"/pip[0-9.]*: (?:bad interpreter: No such file or directory|cannot execute: required file not found)")),
    Rule("script-bad-interpreter", "wrong-interpreter", _r(r"bad interpreter: No such file or directory")),
    Rule("externally-managed", "externally-managed", _r(r"externally-managed-environment|This environment is externally managed")),
    Rule("venv-no-ensurepip", "venv-unavailable", _r(r"ensurepip is not\s*$|ensurepip is not available|No module named '?(?:venv|ensurepip)'?"
                                                   r"|The virtual environment was not created successfully")),
    Rule("permission-denied", "permission-denied", _r(r"\[Errno 13\] Permission denied")),
    # --- TLS and network (pip's own requests) -------------------------------------------
    Rule("ssl-module-missing", "ssl-module-missing", _r(r"ssl module in Python is not available|because the SSL module is not available"
                                                        r"|No module named '?_ssl'?")),
    Rule("ssl-verify-failed", "ssl-certificate", _r(r"CERTIFICATE_VERIFY_FAILED|certificate verify failed|SSLCertVerificationError")),
    Rule("dns-failure", "network-unreachable", _r(r"Temporary failure in name resolution|Name or service not known|nodename nor servname"
                                                  r"|getaddrinfo failed|No address associated with hostname"), within=_PIP_NET),
    Rule("proxy-unreachable", "network-unreachable", _r(r"Cannot connect to proxy|Tunnel connection failed|ProxyError")),
    Rule("connection-failed", "network-unreachable", _r(r"Connection refused|Network is unreachable|No route to host|timed out"
                                                        r"|Connection reset by peer"), within=_PIP_NET),
    # --- building from source -------------------------------------------------------
    Rule("compiler-enoent", "missing-compiler",
         _r(r"(?:command|No such file or directory:) '(?:[^']*/)?(?:[\w.+-]*-)?(?:gcc|cc|clang|g\+\+|c\+\+)(?:-[\d.]+)?'(?: failed: No such file)?"),
         within=_r(r"No such file or directory")),
    Rule("compiler-not-found", "missing-compiler", _r(r"(?:^|[\s:'])(?:[\w.+-]*-)?(?:gcc|cc|clang)(?:-[\d.]+)?: (?:command )?not found")),
    Rule("compiler-unable-to-execute", "missing-compiler", _r(r"unable to execute '?[^']*(?:gcc|cc|clang)'?: No such file or directory")),
    Rule("meson-no-compiler", "missing-compiler", _r(r"ERROR: Unknown compiler\(s\)")),
    Rule("msvc-missing", "missing-compiler", _r(r"Microsoft Visual C\+\+ [\d.]+ or greater is required")),
    Rule("xcode-missing", "missing-compiler", _r(r"xcrun: error: invalid active developer path")),
    Rule("python-headers", "missing-python-headers", _r(r"fatal error: '?Python\.h'?:? (?:No such file or directory|file not found)")),
    Rule("rust-missing", "missing-rust",
         _r(r"Rust not found|can't find Rust compiler|This package requires Rust|Cargo, the Rust package manager, is not installed"
                                            r"|(?:^|[\s:'])(?:cargo|rustc): (?:command )?not found|No such file or directory: '(?:cargo|rustc)'")),
    Rule("missing-header", "missing-native-library", _r(_HEADER), need_from="header"),
    Rule("pkgconfig-missing", "missing-native-library",
         _r(r"Package '?([A-Za-z0-9_.+-]+)'? was not found in the pkg-config search path"), need_from="pkgconfig"),
    Rule("pkgconfig-required", "missing-native-library", _r(r"Package '([A-Za-z0-9_.+-]+)', required by '[^']*', not found"), need_from="pkgconfig"),
    Rule("meson-dependency", "missing-native-library", _r(r"Dependency \"?([A-Za-z0-9_.+-]+)\"? not found"), need_from="pkgconfig"),
    Rule("pkgconfig-exists", "missing-native-library", _r(r"Command 'pkg-config --exists ([A-Za-z0-9_.+-]+)' returned non-zero"), need_from="pkgconfig"),
    Rule("tool-not-found", "missing-native-library",
         _r(r"(pg_config|mysql_config|mariadb_config|xslt-config|xml2-config) (?:executable )?(?:not found|is required)"),
         need_from="tool"),
    Rule("tool-enoent", "missing-native-library",
         _r(r"(?:^|\s)(pg_config|mysql_config|mariadb_config|xslt-config|xml2-config): (?:command )?not found"), need_from="tool"),
    Rule("pillow-dependency", "missing-native-library", _r(r"The headers or library files could not be found for (\w+)"), need_from="pillow"),
    Rule("lxml-dev-packages", "missing-native-library", _r(r"make sure the libxml2 and libxslt development packages are installed"), need="xml"),
    Rule("mysqlclient-pkgconfig", "missing-native-library", _r(r"Can not find valid pkg-config name"), need="mysql-client"),
    Rule("pkg-config-missing", "missing-native-library",
         _r(r"(?:^|\s)pkg-config: (?:command )?not found|Did not find pkg-config|Pkg-config binary .* not found"),
         need="pkg-config"),
    # --- resolution ---------------------------------------------------------------------
    Rule("requires-python", "python-version-mismatch", _r(r"require a different python version|requires a different Python|Requires-Python [<>=!~]")),
    Rule("resolution-impossible", "resolution-impossible", _r(r"ResolutionImpossible|because these package versions have conflicting dependencies"
                                                              r"|The conflict is caused by:")),
    Rule("no-matching-distribution", "no-matching-distribution",
         _r(r"No matching distribution found for (\S+)|Could not find a version that satisfies the requirement")),
)

#: a category found -> the categories it makes derivative (dropped from the findings).
DERIVED: Mapping[str, tuple[str, ...]] = {
    "ssl-module-missing": ("ssl-certificate", "network-unreachable", "no-matching-distribution"),
    "ssl-certificate": ("no-matching-distribution",),
    "network-unreachable": ("no-matching-distribution",),
    "python-version-mismatch": ("no-matching-distribution",),
    "resolution-impossible": ("no-matching-distribution",),
    # pip 20-22 say "No matching distribution" after discarding an sdist whose build failed
    "missing-compiler": ("no-matching-distribution",),
    "missing-python-headers": ("no-matching-distribution",),
    "missing-rust": ("no-matching-distribution", "network-unreachable"),
    "missing-native-library": ("no-matching-distribution",),
    "wrong-interpreter": ("pip-not-found",),
}

#: Lines worth showing when nothing is recognised (what a human would look at first).
INTERESTING = re.compile(r"\b(ERROR|error|Error|fatal|FATAL|Traceback|Exception|exception|not found|No such file|failed|Failed|denied|refused)\b")


@dataclass
class Hit:
    category: str
    need: str | None
    rule: str
    lines: list[tuple[int, str]] = field(default_factory=list)  # (line number, text)
    subject: str | None = None  # the header/module/tool/requirement the rule named


def _clean(line: str) -> str:
    return line.rstrip("\r\n").rstrip()


def _shape(line: str) -> str:
    return re.sub(r"0x[0-9a-f]+|\d+", "N", line.strip())


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _installed_then_missing(lines: list[str]) -> list[tuple[int, str]]:
    """``Successfully installed X`` then ``No module named 'x'`` for the same X: the pip
    that installed it belongs to another interpreter than the python that imports it."""
    installed: dict[str, int] = {}
    for i, line in enumerate(lines):
        m = re.search(r"Successfully installed (.+)$", line)
        if m:
            for item in m.group(1).split():
                name = re.sub(r"-\d[^-]*$", "", item)
                installed[_norm(name)] = i
            continue
        m = re.search(r"ModuleNotFoundError: No module named '([\w.]+)'", line)
        if m and installed:
            mod = _norm(m.group(1).split(".")[0])
            for name, j in installed.items():
                if name == mod or name.replace("python_", "") == mod:
                    return [(j, lines[j].strip()), (i, line.strip())]
    return []


def scan(text: str, rules: Iterable[Rule] = RULES) -> list[Hit]:
    """Every rule on every line; hits merged by (category, need), root cause first."""
    lines = [_clean(x) for x in text.splitlines()]
    hits: dict[tuple[str, str | None], Hit] = {}
    rules = tuple(rules)
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        for rule in rules:
            m = rule.pattern.search(line)
            if not m or (rule.within is not None and not rule.within.search(line)):
                continue
            need = rule.need
            subject = m.group(1) if m.groups() and m.group(1) else None
            if rule.need_from:
                need = lookup(rule.need_from, subject or "")
                if rule.need_from == "header" and subject and subject.endswith("Python.h"):
                    continue  # its own rule
            key = (rule.category, need)
            hit = hits.setdefault(key, Hit(rule.category, need, rule.name, subject=subject))
            same = _shape(line)  # pip's five retries differ only in numbers: one is evidence enough
            if all(_shape(x) != same for _, x in hit.lines):
                hit.lines.append((i, line.strip()))
    other = _installed_then_missing(lines)
    if other:
        hits.setdefault(("wrong-interpreter", None), Hit("wrong-interpreter", None, "installed-then-missing")).lines.extend(other)
    # a native library with a known need makes the same rule's unknown-need hit redundant
    known_native = [h for (c, n), h in hits.items() if c == "missing-native-library" and n]
    if known_native and ("missing-native-library", None) in hits:
        del hits[("missing-native-library", None)]
    found = {c for c, _ in hits}
    dropped = {d for c in found for d in DERIVED.get(c, ())}
    out = [h for (c, _), h in hits.items() if c not in dropped]
    order = {c: i for i, c in enumerate(CATEGORIES)}
    out.sort(key=lambda h: (order.get(h.category, 99), h.lines[0][0] if h.lines else 0))
    return out


def considered(text: str, limit: int = 15) -> list[str]:
    """The lines looked at when nothing matched: the error-looking ones, else the tail."""
    lines = [_clean(x).strip() for x in text.splitlines() if x.strip()]
    picked = [ln for ln in lines if INTERESTING.search(ln)]
    chosen = picked if picked else lines
    return list(dict.fromkeys(chosen))[-limit:]
