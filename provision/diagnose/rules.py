"""The rules, as data: patterns in pip / venv / compiler output -> category and need.

A rule is a regular expression tried on every line (``within``: the last few lines must
also match that, e.g. a DNS error only counts near pip's own retry lines, not inside a
build script's traceback). A rule either names its need, or takes it from one of the
name tables below through its first group (a header, a pkg-config module, a tool,
Pillow's dependency name). Rules match language-independent structure where the words
are translated (gcc's ``file:line:col: <fatal error>: <header>: <strerror>``, MSVC's
``C1083``, ``[Errno 13]``, ``[WinError 5]``) and pip's own English lines.

The log is streamed through a ``Scanner``: escape sequences are removed, a line wrapped
by a terminal is matched joined with the one before, and only bounded state is kept
(hits with a few evidence lines each, the facts the fixes need, the lines to show when
nothing matched), so memory does not grow with the log. Findings are then ordered by
``CATEGORIES`` (root cause first) and derivative noise is dropped (``DERIVED``).
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import CATEGORIES, conflicts
from .text import strip_escapes, text_lines

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
    "libpq/libpq-fs.h": "postgres-client",
    "lber.h": "ldap",
    "ldap.h": "ldap",
    "ldap_features.h": "ldap",
    "sasl/sasl.h": "sasl",
}

#: headers of the C library and compiler themselves: missing means the toolchain is
#: incomplete (Alpine's musl-dev, Debian's libc6-dev), not a library to add.
LIBC_HEADERS = frozenset({
    "limits.h", "stdio.h", "stdlib.h", "string.h", "stdint.h", "stddef.h", "stdarg.h", "errno.h", "time.h",
    "unistd.h", "features.h", "math.h", "assert.h", "signal.h", "ctype.h", "wchar.h", "fcntl.h", "dirent.h",
    "pthread.h", "locale.h", "float.h", "setjmp.h", "inttypes.h", "stdbool.h", "sys/types.h", "sys/cdefs.h",
    "sys/stat.h", "sys/socket.h", "sys/time.h", "bits/libc-header-start.h", "gnu/stubs.h", "gnu/stubs-32.h",
})

#: Python's own headers: missing means the interpreter's development files.
PYTHON_HEADERS = frozenset({"Python.h", "pyconfig.h", "structmember.h"})

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
    "ldap": "ldap",
    "lber": "ldap",
    "libsasl2": "sasl",
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

#: a library the linker could not find (``-lNAME``) -> need.
LIBRARIES: Mapping[str, str] = {
    "pq": "postgres-client",
    "ssl": "ssl",
    "crypto": "ssl",
    "ffi": "ffi",
    "xml2": "xml",
    "xslt": "xml",
    "exslt": "xml",
    "z": "zlib",
    "jpeg": "jpeg",
    "png": "png",
    "png16": "png",
    "yaml": "yaml",
    "sqlite3": "sqlite",
    "bz2": "bz2",
    "lzma": "lzma",
    "cairo": "cairo",
    "uuid": "uuid",
    "freetype": "freetype",
    "mysqlclient": "mysql-client",
    "mariadb": "mysql-client",
    "curl": "curl",
    "ldap": "ldap",
    "lber": "ldap",
    "sasl2": "sasl",
    "ffi_pic": "ffi",
    "sodium": "sodium",
}

TABLES: Mapping[str, Mapping[str, str]] = {"header": HEADERS, "pkgconfig": PKGCONFIG, "tool": TOOLS, "pillow": PILLOW,
                                           "library": LIBRARIES}

#: what a rule's subject is, by the table it is looked up in: the kind of file the
#: distro's file index is searched for when no table knows it (``fileindex``)
SUBJECT_KIND: Mapping[str, str] = {"header": "header", "tool": "command", "pkgconfig": "pkgconfig", "library": "library"}


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



def classify_header(name: str) -> tuple[str, str | None]:
    """A missing header -> (category, need): Python's own, the C library's, or a library's."""
    name = name.strip("'\"<>`“”‘’").replace("\\", "/")
    base = name.rsplit("/", 1)[-1]
    if base in PYTHON_HEADERS:
        return "missing-python-headers", None
    if name in LIBC_HEADERS or name.startswith(("bits/", "gnu/")):
        return "missing-compiler", None
    return "missing-native-library", lookup("header", name)


# -------------------------------------------------------------------------- build needs

#: the knowledge table of build needs per distribution (``[packages.<name>] build = [...]``)
def build_needs(name: str, path: Path | None = None) -> tuple[str, ...]:
    """The needs a distribution's build from source has, from the knowledge table (``profiles/build-needs.toml``)."""
    from ..project.build_needs import needs_for

    return needs_for(name, built_from_source=True, path=path)


# -------------------------------------------------------------------------- the rules


@dataclass(frozen=True)
class Rule:
    name: str
    category: str
    pattern: re.Pattern[str]
    need: str | None = None
    need_from: str | None = None  # a table in TABLES (or "header": classify_header), applied to group 1
    within: re.Pattern[str] | None = None  # the line (or, with near=True, the last few lines) must also match
    near: bool = False
    needles: tuple[str, ...] = ()  # literal text a matching line must contain (a cheap first look)


def _r(text: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(text, flags)


_PIP_NET = _r(r"Retrying \(|Could not fetch URL|Max retries exceeded|NewConnectionError|ProxyError|ConnectTimeoutError|ReadTimeoutError"
              r"|Could not install packages due to an (OSError|EnvironmentError)|Failed to establish a new connection")
_H = r"['\"<“‘]?([A-Za-z0-9_./+-]+\.h)['\">”’]?"
# gcc, any language: "file.c:1:10: <fatal error, translated>: header.h: <strerror, translated>"
# (full-width colons in CJK translations; French puts a space before the colon)
_GCC_HEADER = r"\S:\d+:(?:\d+:)?\s+[^:：'\"]{1,40}[:：]\s*" + _H + r"\s?[:：]\s*\S"
# clang, and gcc's English: "fatal error: 'header.h' file not found" / "header.h: No such file or directory"
_CLANG_HEADER = r"fatal error: " + _H + r"(?::)? (?:No such file or directory|file not found)"
# MSVC, any language: "fatal error C1083: Cannot open include file: 'header.h': ..."
_MSVC_HEADER = r"\bC1083\b[^'\"“‘]*" + _H
#: a configuration program's name (pg_config, mysql_config, curl-config, xml2-config, …)
_TOOL = r"[A-Za-z0-9][A-Za-z0-9.+]*(?:[-_][A-Za-z0-9.+]+)*[-_]config"
_SHELL = r"(?:^|\s)(?:-?(?:ba|z|da|k|c)?sh|sudo|[\w./~-]+\.sh)(?:: (?:line|linha|ligne|Zeile|riga|línea|строка) \d+)?: "

RULES: tuple[Rule, ...] = (
    # --- the tool itself ------------------------------------------------------------
    Rule("pip-command-not-found", "pip-not-found", _r(r"(?:^|[\s:/])pip(?:3(?:\.\d+)?)?: (?:command )?not found"), needles=('not found',)),
    Rule("pip-shell-not-found", "pip-not-found", _r(_SHELL + r"pip(?:3(?:\.\d+)?)?: (?!.*error)[^:/'\"]{3,60}$"),
         needles=('pip: ', 'pip3: ', 'pip3.')),
    Rule("zsh-not-found", "pip-not-found", _r(r"command not found: pip(?:3(?:\.\d+)?)?\s*$"), needles=('command not found',)),
    Rule("ubuntu-not-found", "pip-not-found", _r(r"^\s*Command 'pip(?:3(?:\.\d+)?)?' not found"), needles=("Command '",)),
    Rule("fish-not-found", "pip-not-found", _r(r"fish: Unknown command:? '?pip(?:3(?:\.\d+)?)?'?"), needles=('Unknown command',)),
    Rule("pip-module-missing", "pip-not-found", _r(r"No module named '?pip'?\s*$"), needles=('No module named',)),
    Rule("pip-not-recognized", "pip-not-found", _r(r"'pip(?:3(?:\.\d+)?)?(?:\.exe)?' is not recognized as an internal or external command"),
         needles=('not recognized',)),
    Rule("powershell-not-recognized", "pip-not-found",
         _r(r"The term 'pip(?:3(?:\.\d+)?)?(?:\.exe)?' is not recognized as (?:the )?name of a cmdlet|ObjectNotFound: \(pip(?:3(?:\.\d+)?)?:String\)"),
         needles=('not recognized', 'ObjectNotFound')),
    Rule("pip-bad-interpreter", "wrong-interpreter",
         _r(r"/pip[0-9.]*: (?:bad interpreter: No such file or directory|cannot execute: required file not found)", re.I),
         needles=('bad interpreter', 'required file not found')),
    Rule("script-bad-interpreter", "wrong-interpreter", _r(r"bad interpreter: [^:]*:? ?No such file or directory|: bad interpreter: /", re.I),
         needles=('bad interpreter',)),
    Rule("venv-python-gone", "wrong-interpreter",
         _r(r"[/\\](?:virtualenvs|\.venv|venv|\.virtualenvs|envs)[/\\]\S*?[/\\](?:bin|Scripts)[/\\]python[\d.]*"
            r"(?:\.exe)?:? (?:No such file or directory|not found)"), needles=('No such file', 'not found')),
    Rule("externally-managed", "externally-managed", _r(r"externally-managed-environment|This environment is externally managed"),
         needles=('externally', 'Externally')),
    Rule("venv-no-ensurepip", "venv-unavailable", _r(r"ensurepip is not\s*$|ensurepip is not available|No module named '?(?:venv|ensurepip)'?"
                                                   r"|The virtual environment was not created successfully"),
         needles=('ensurepip', 'No module named', 'not created successfully')),
    Rule("venv-ensurepip-failed", "venv-unavailable", _r(r"'ensurepip', '--upgrade', '--default-pip'\]'? returned non-zero exit status"),
         needles=('ensurepip',)),
    Rule("permission-denied", "permission-denied", _r(r"\[Errno 13\]|\[WinError 5\]|\bPermissionError: |\bEACCES\b"),
         needles=('Errno 13', 'WinError 5', 'PermissionError', 'EACCES')),
    # --- TLS and network (pip's own requests) -------------------------------------------
    Rule("ssl-module-missing", "ssl-module-missing", _r(r"ssl module in Python is not available|because the SSL module is not available"
                                                        r"|No module named '?_ssl'?"), needles=('SSL module', 'ssl module', '_ssl')),
    Rule("ssl-verify-failed", "ssl-certificate", _r(r"CERTIFICATE_VERIFY_FAILED|certificate verify failed|SSLCertVerificationError"),
         needles=('CERTIFICATE_VERIFY', 'certificate verify', 'SSLCertVerification')),
    Rule("dns-failure", "network-unreachable", _r(r"Temporary failure in name resolution|Name or service not known|nodename nor servname"
                                                  r"|getaddrinfo failed|No address associated with hostname|\[Errno -[235]\]|\[Errno 1100[14]\]"),
         within=_PIP_NET, near=True,
         needles=('name resolution', 'Name or service', 'nodename', 'getaddrinfo', 'address associated', 'Errno -', 'Errno 1100')),
    Rule("proxy-unreachable", "network-unreachable", _r(r"Cannot connect to proxy|Tunnel connection failed|ProxyError"),
         needles=('proxy', 'Tunnel connection', 'ProxyError')),
    Rule("connection-failed", "network-unreachable", _r(r"Connection refused|Network is unreachable|No route to host|timed out"
                                                        r"|Connection reset by peer"), within=_PIP_NET, near=True,
         needles=('Connection re', 'unreachable', 'No route', 'timed out')),
    # --- building from source -------------------------------------------------------
    Rule("compiler-enoent", "missing-compiler",
         _r(r"(?:command|No such file or directory:) '(?:[^']*/)?(?:[\w.+-]*-)?(?:gcc|cc|clang|g\+\+|c\+\+)(?:-[\d.]+)?'(?: failed: No such file)?"),
         within=_r(r"No such file or directory"), needles=('No such file',)),
    Rule("compiler-not-found", "missing-compiler", _r(r"(?:^|[\s:'])(?:[\w.+-]*-)?(?:gcc|cc|clang)(?:-[\d.]+)?: (?:command )?not found"),
         needles=('not found',)),
    Rule("compiler-unable-to-execute", "missing-compiler", _r(r"unable to execute '?[^']*(?:gcc|cc|clang)'?: No such file or directory"),
         needles=('unable to execute',)),
    Rule("compiler-gcc-not-installed", "missing-compiler", _r(r"because gcc is not installed|C compiler cannot create executables"),
         needles=('gcc is not installed', 'cannot create executables')),
    Rule("redhat-rpm-config", "missing-compiler", _r(r"redhat-(?:hardened|annobin)-(?:cc1|ld|plugin-select)[\w.-]*: No such file or directory"),
         needles=('redhat-',)),
    Rule("meson-no-compiler", "missing-compiler", _r(r"ERROR: Unknown compiler\(s\)"), needles=('Unknown compiler',)),
    Rule("msvc-missing", "missing-compiler", _r(r"Microsoft Visual C\+\+ [\d.]+(?: or greater)? is required|Unable to find vcvarsall\.bat"),
         needles=('Visual C++', 'vcvarsall')),
    Rule("xcode-missing", "missing-compiler", _r(r"xcrun: error: invalid active developer path"), needles=('xcrun',)),
    Rule("python-headers-words", "missing-python-headers", _r(r"Python header files are not installed|Python\.h: No such file"),
         needles=('header files', 'Python.h')),
    Rule("rust-missing", "missing-rust",
         _r(r"Rust not found|can't find Rust compiler|This package requires Rust|Cargo, the Rust package manager, is not installed"
            r"|(?:^|[\s:'])(?:cargo|rustc): (?:command )?not found|No such file or directory: '(?:cargo|rustc)'"),
         needles=('Rust', 'cargo', 'rustc')),
    Rule("header-gcc", "missing-native-library", _r(_GCC_HEADER), need_from="header", needles=('.h:', '.h :', '.h\xa0:', '.h：', '.h”', ".h'")),
    Rule("header-clang", "missing-native-library", _r(_CLANG_HEADER), need_from="header", needles=('file not found', 'No such file')),
    Rule("header-msvc", "missing-native-library", _r(_MSVC_HEADER), need_from="header", needles=('C1083',)),
    Rule("pkgconfig-missing", "missing-native-library",
         _r(r"Package '?([A-Za-z0-9_.+-]+)'? was not found in the pkg-config search path|No package '([A-Za-z0-9_.+-]+)' found"),
         need_from="pkgconfig", needles=('pkg-config search path', "No package '")),
    Rule("pkgconfig-required", "missing-native-library", _r(r"Package '([A-Za-z0-9_.+-]+)', required by '[^']*', not found"), need_from="pkgconfig",
         needles=('required by',)),
    Rule("meson-dependency", "missing-native-library", _r(r"Dependency \"?([A-Za-z0-9_.+-]+)\"? not found"), need_from="pkgconfig",
         needles=('Dependency',)),
    Rule("pkgconfig-exists", "missing-native-library", _r(r"Command 'pkg-config --exists ([A-Za-z0-9_.+-]+)' returned non-zero"), need_from="pkgconfig",
         needles=('pkg-config --exists',)),
    Rule("pkgconfig-argv", "missing-native-library", _r(r"\['pkg-config', (?:'--[\w-]+', )*'([A-Za-z0-9_.+-]+)(?: [<>=!]=?[^']*)?'\]"),
         need_from="pkgconfig", needles=("'pkg-config',",)),
    # a library's configuration program (pg_config, curl-config, …): known ones name their need,
    # others are looked up in the distro's file index by install --fix
    Rule("tool-not-found", "missing-native-library",
         _r(r"(?<![\w.+-])(" + _TOOL + r") (?:executable )?(?:not found|is required)"),
         need_from="tool", needles=('_config', '-config')),
    Rule("tool-enoent", "missing-native-library",
         _r(r"(?:^|\s)(" + _TOOL + r"): (?:command )?not found|No such file or directory: '(" + _TOOL + r")'"), need_from="tool",
         needles=('_config', '-config')),
    # GNU ld (and lld, and Apple's ld): a library given as -lNAME is not there
    Rule("linker-library", "missing-native-library", _r(r"(?:cannot find|library not found for) -l([A-Za-z0-9_.+-]+)"),
         need_from="library", needles=('cannot find -l', 'not found for -l')),
    Rule("pillow-dependency", "missing-native-library", _r(r"The headers or library files could not be found for (\w+)"), need_from="pillow",
         needles=('headers or library files',)),
    Rule("lxml-dev-packages", "missing-native-library", _r(r"make sure the libxml2 and libxslt development packages are installed"), need="xml",
         needles=('development packages',)),
    Rule("mysqlclient-pkgconfig", "missing-native-library", _r(r"Can not find valid pkg-config name"), need="mysql-client",
         needles=('valid pkg-config name',)),
    Rule("pkg-config-missing", "missing-native-library",
         _r(r"(?:^|\s)pkg-config: (?:command )?not found|Did not find pkg-config|Pkg-config binary .* not found|'pkg-config' not found"),
         need="pkg-config", needles=('pkg-config', 'Pkg-config')),
    # --- resolution ---------------------------------------------------------------------
    # pip >= 21.2's "Ignored the following versions that require a different python version: 6.0 Requires-Python >=3.12",
    # and pip's UnsupportedPythonVersion "Package 'x' requires a different Python: 3.9.2 not in '>=3.10'" (the
    # debug line "Link requires a different Python (" is not a cause by itself: see LogFacts.python_skips)
    Rule("requires-python", "python-version-mismatch", _r(r"require a different python version|requires a different Python: |Requires-Python [<>=!~]"),
         needles=('python version', 'Python version', 'Requires-Python', 'different Python: ')),
    # pip's own line (not resolvelib's exception class in a verbose traceback, which pip 20.3 also
    # raises for a requirement that nothing satisfies)
    Rule("resolution-impossible", "resolution-impossible", _r(r"(?<![.\w])ResolutionImpossible(?!\(|: \[RequirementInformation)"
                                                              r"|because these package versions have conflicting dependencies"
                                                              r"|The conflict is caused by:"),
         needles=('ResolutionImpossible', 'conflicting dependencies', 'conflict is caused')),
    Rule("no-matching-distribution", "no-matching-distribution",
         _r(r"No matching distribution found for (\S+)|Could not find a version that satisfies the requirement"),
         needles=('No matching distribution', 'satisfies the requirement')),
)

#: words, as the scanner cuts a line into them (one C-level pass per line)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def _keyword(needle: str) -> str:
    words = _WORD.findall(needle)
    return max(words, key=len) if words else needle


def _index(rules: Iterable[Rule]) -> dict[str, tuple[Rule, ...]]:
    """keyword -> the rules one of whose needles has it: a line's words pick the rules to try."""
    out: dict[str, list[Rule]] = {}
    for r in rules:
        for k in {_keyword(n) for n in r.needles}:
            out.setdefault(k, []).append(r)
    return {k: tuple(v) for k, v in out.items()}


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
    # a venv made without ensurepip has no pip: "No module named pip" follows
    "venv-unavailable": ("pip-not-found",),
}

# -------------------------------------------------------------------------- the platform a log shows

#: (pattern, platform ID) -- marks a log leaves of the machine it came from
PLATFORM_MARKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_r(r"\b[A-Za-z]:\\\\?(?:Users|Program Files|Python\d|ProgramData|Windows)|\\AppData\\|\[WinError \d+\]|\bwin-amd64\b|\bwin32\b"
        r"|is not recognized as an internal or external command|name of a cmdlet|\bC1083\b|Microsoft Visual C\+\+|vcvarsall|\bcl\.exe\b",
        re.I), "windows"),
    (_r(r"/opt/homebrew/|/usr/local/Cellar/|/usr/local/opt/|/Library/Frameworks/Python\.framework|/private/var/folders/"
        r"|\bmacosx-\d+|/Applications/Python\\? \d|\bxcrun\b|/Users/[^/\s]+/|isn't in Homebrew|try brew install"), "macos"),
    (_r(r"\bmusl\b|package manager \(apk\)|\bapk add\b|\blinux-musl\b|-alpine\d|\balpine:\d"), "alpine"),
    (_r(r"\.fc\d\d\b|/usr/lib/rpm/redhat/|\bdnf install\b"), "fedora"),
    (_r(r"\.el[789](?:_\d+)?\b|\bCentOS\b|\bRocky\b|\bAlmaLinux\b"), "rocky"),
    (_r(r"^\s*Command '[\w.-]+' not found, but|ppa:deadsnakes|~ubuntu\d|\bUbuntu \d\d\.\d\d"), "ubuntu"),
    (_r(r"package manager \(pacman\)|\bpacman -S\b|\barchlinux\b"), "arch"),
    (_r(r"\bzypper\b|\bopenSUSE\b"), "opensuse"),
    (_r(r"/usr/lib/python3/dist-packages|On Debian/Ubuntu systems|\bDebian\b"), "debian"),
)
#: weak marks: only decide when nothing else does (Debian's wording is also Ubuntu's)
WEAK_PLATFORMS = ("debian",)
#: a line must have one of these words (or a Windows drive) before the marks are tried
_PLATFORM_WORDS = frozenset({
    "WinError", "win", "win32", "recognized", "cmdlet", "C1083", "Visual", "vcvarsall", "exe", "opt", "homebrew", "Cellar",
    "Frameworks", "private", "macosx", "Applications", "xcrun", "Users", "Homebrew", "brew", "musl", "apk", "alpine", "alpine3", "rpm", "redhat",
    "dnf", "CentOS", "Rocky", "AlmaLinux", "Command", "deadsnakes", "ubuntu", "Ubuntu", "pacman", "archlinux", "zypper",
    "openSUSE", "dist", "Debian",
    *(f"fc{n}" for n in range(20, 60)), "el7", "el8", "el9",
})

# -------------------------------------------------------------------------- scanning


@dataclass
class Hit:
    category: str
    need: str | None
    rule: str
    lines: list[tuple[int, str]] = field(default_factory=list)  # (line number, text)
    subject: str | None = None  # the header/module/tool/requirement the rule named
    needs: list[str] = field(default_factory=list)  # every need (pkg-config and the library it hides)
    likely: bool = False  # inferred from the package name alone (a truncated log)
    index: dict[str, Any] = field(default_factory=dict)  # what the package index said (explain's lookup)
    kind: str | None = None  # header | command | library | pkgconfig: what the subject is (SUBJECT_KIND)


@dataclass
class LogFacts:
    """What the fixes need to know about the log besides the hits (all bounded)."""

    lines: int = 0
    failed_builds: list[str] = field(default_factory=list)  # distributions whose build failed, in order
    requested: str | None = None  # the first "Collecting X"
    collected: str | None = None  # the latest "Collecting X"
    failed_step: str | None = None  # the one being collected when its metadata / build requirements step failed
    include_minor: str | None = None  # -I/usr/include/python3.X: an OS Python's headers were asked for
    build_minor: str | None = None  # build/temp.linux-x86_64-cpython-3XX: the Python that ran the build
    env_minor: str | None = None  # .tox/py3XX: a tox env made for that Python
    venv_minor: str | None = None  # python3.X of a failed venv (its ensurepip)
    venv_package: str | None = None  # the package Debian/Ubuntu's venv message names ("apt install python3.11-venv")
    python_skips: dict[str, list[tuple[str, str, int, str]]] = field(default_factory=dict)  # name -> (version, spec, n, line)
    python_skipped: int = 0  # entries in python_skips (bounded by SKIPS_MAX)
    python_running: str | None = None  # the interpreter version pip's "Link requires a different Python" names
    pip_python: str | None = None  # the "(python 3.X)" of pip's own version line ("pip 20.3.4 from … (python 3.9)")
    kit_fix_ran: bool = False  # the log is the kit's own "./bootstrap install … --fix" (its command or its banner)
    from_versions: str | None = None
    requires_python: str | None = None
    platforms: Counter[str] = field(default_factory=Counter)
    platform_evidence: dict[str, str] = field(default_factory=dict)
    python_flavor: str = ""  # python.org | homebrew (macOS)
    verbose: bool = False
    build_failed: bool = False  # "Failed building wheel" / a compiler exit code: a build from source failed
    framework_minor: str | None = None  # macOS python.org: Python.framework/Versions/3.X
    build_dir_name: str | None = None  # the distribution pip's temporary build directory is named after
    explicit_minors: set[str] = field(default_factory=set)  # python3.X run by path or name (/usr/bin/python3.8)
    index_host: str | None = None  # the host pip talked to (from its own messages)
    ran: list[str] = field(default_factory=list)  # command lines the log shows being run (normalised)
    conflict_rows: list[conflicts.Requirement] = field(default_factory=list)

    @property
    def failing_package(self) -> str | None:
        """The distribution whose build failed (the last one named; else the one pip's build
        directory is named after; else the one being collected when a build step failed),
        else the one requested."""
        return self.failed_builds[-1] if self.failed_builds else (self.build_dir_name or self.failed_step or self.requested)

    @property
    def header_minor(self) -> str | None:
        """The minor of the Python a C extension was built for: the compiler's -I, else the
        build directory's tag, else the tox env's name."""
        return self.include_minor or self.build_minor or self.env_minor

    def skipped_for_python(self, requirement: str) -> tuple[str, str, int, str] | None:
        """A release satisfying ``requirement`` that pip skipped for its Requires-Python
        (pip's debug line), if the log shows one: (version, Requires-Python, line number, line)."""
        from packaging.requirements import InvalidRequirement, Requirement
        from packaging.utils import canonicalize_name

        try:
            req = Requirement(requirement)
        except InvalidRequirement:
            return None
        for version, spec, n, line in self.python_skips.get(canonicalize_name(req.name), ()):
            if req.specifier.contains(version, prereleases=True):
                return version, spec, n, line
        return None

    @property
    def platform(self) -> tuple[str, str] | None:
        """(platform ID, the line that shows it), the most marked first; None when nothing does
        (weak marks, such as Debian's wording that Ubuntu shares, never decide)."""
        strong = [(n, p) for p, n in self.platforms.items() if p not in WEAK_PLATFORMS]
        if not strong:
            return None
        _, best = max(strong)
        return best, self.platform_evidence[best]


_NAME = r"([A-Za-z0-9][A-Za-z0-9._-]*)"
_FACTS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = (  # (what, its words, pattern)
    ("failed", ("Failed", "Could", "Running", "Building"),
     _r(r"Failed building wheel for " + _NAME + r"|Could not build wheels for " + _NAME + r"|Failed to build '?" + _NAME
        + r"'?(?: when|\s*$)|Running setup\.py install for " + _NAME + r" \.\.\. error|Building wheel for " + _NAME
        + r" \([^)]*\)(?: \.\.\.|: finished with status) '?error")),
    ("collecting", ("Collecting",), _r(r"^\s*Collecting " + _NAME)),
    ("step-error", ("Preparing", "Getting", "Installing"),
     _r(r"^\s*(?:Preparing (?:wheel )?metadata|Getting requirements to build \w+|Installing build dependencies)\b.*?"
        r"(?:\.\.\. error|finished with status 'error')")),
    # pip's build directory names the distribution: pip-install-XXXX/<name>_<32 hex> (pip >= 20), pip-build-XXXX/<name>/
    ("builddir", ("pip",), _r(r"pip-(?:install|req-build|build)-[A-Za-z0-9_]+[\\/]+([A-Za-z0-9][A-Za-z0-9._-]*?)(?:_[0-9a-f]{32})?[\\/]")),
    ("include", ("include",), _r(r"-I/usr/include/python(3\.\d+)")),
    ("buildtag", ("build",), _r(r"\bbuild[/\\](?:temp|lib)\.[\w.-]+?-(?:cpython-3(\d+)|3\.(\d+))\b")),
    ("tox", ("tox",), _r(r"[/\\]\.tox[/\\]py3(\d+)\b")),
    ("venv", ("venv", "ensurepip"), _r(r"apt(?:-get)? install (?:-y )?python(3\.\d+)-venv|bin/python(3\.\d+)', '-I?m', 'ensurepip'")),
    ("venv-package", ("venv",), _r(r"^\s*(?:sudo )?apt(?:-get)? install (?:-y )?(python3(?:\.\d+)?-venv)\s*$")),
    ("skip-python", ("Link",), _r(r"Link requires a different Python \((\S+) not in: '([^']*)'\): (\S+)")),
    ("versions", ("versions",), _r(r"\(from versions: ([^)]*)\)")),
    ("pip-python", ("python",), _r(r"\bpip \S+ from \S.* \(python (3\.\d+)\)")),
    ("requires", ("different",), _r(r"require a different python version: (.+)")),
    ("explicit", ("python3",), _r(r"(?:/usr/(?:local/)?bin/|\s|^)python(3\.\d+)(?:\s+-|\b')")),
    ("host", ("HTTPSConnectionPool", "Could"), _r(r"HTTPSConnectionPool\(host='([^']+)'|Could not fetch URL https?://([^/:]+)")),
    ("framework", ("framework", "Applications"), _r(r"Python\.framework/Versions/(3\.\d+)|/Applications/Python\\? (3\.\d+)/")),
    ("compiler-exit", ("failed", "Compile"),
     _r(r"error: command '[^']*(?:gcc|cc|clang|cl\.exe)[^']*' failed with exit (?:status|code) \d+|Compile failed")),
)
_FACT_WORDS: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _key, _words, _pattern in _FACTS:
    for _w in _words:
        _FACT_WORDS.setdefault(_w, []).append((_key, _pattern))
#: facts only the first occurrence of which counts (the attribute that holds it)
_ONCE = {"builddir": "build_dir_name", "include": "include_minor", "venv": "venv_minor", "requires": "requires_python",
         "host": "index_host", "framework": "framework_minor", "buildtag": "build_minor", "tox": "env_minor", "step-error": "failed_step",
         "venv-package": "venv_package", "pip-python": "pip_python"}
#: a command the log shows being run: after a shell prompt, Docker's RUN, set -x's "+ ", or a
#: macOS .command file (the way the Finder runs it)
_RAN = _r(r"^\s*(?:[A-Za-z]:\\[^>]*>\s*|PS [^>]*> |\S*[$#%>] |\+ |(?:Step \d+/\d+ : )?RUN |=> \[[^\]]*\] RUN )(.+)$|^\s*(\S.*\.command)(?: ; exit;)?\s*$")
#: the kit's own install --fix having run: its command line (after a prompt), or the banners it prints
#: (provision/install.py; not its hint "run again with --fix", which says it did not run)
_KIT_FIX_RAN = _r(r"(?:^|[\s/])(?:bootstrap|provision) install\b.*\s--fix\b")
_KIT_FIX_BANNER = _r(r"^\s*install --fix: |^\s*install: pip still fails after the fix")
#: lines worth showing when nothing is recognised (what a human would look at first)
INTERESTING = re.compile(r"\b(ERROR|error|Error|fatal|FATAL|Traceback|Exception|exception|not found|No such file|failed|Failed|denied|refused)\b")
WINDOW = 6  # lines kept for "within" and for joining a wrapped line
SKIPS_MAX = 2000  # releases skipped for their Requires-Python kept (pip -v lists every one)
EVIDENCE = 8  # evidence lines kept per hit
INSTALLED_MAX = 5000


def _shape(line: str) -> str:
    return re.sub(r"0x[0-9a-f]+|\d+", "N", line.strip())


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


_INTERESTING_WORDS = frozenset({"ERROR", "error", "Error", "fatal", "FATAL", "Traceback", "Exception", "exception", "found", "such",
                                "failed", "Failed", "denied", "refused"})


def interesting(line: str) -> bool:
    """The one test of "would a human look at this line first?" (for the lines considered)."""
    return bool(INTERESTING.search(line))


class Scanner:
    """Feed it lines; it keeps bounded state; ``finish`` returns the hits, root cause first."""

    def __init__(self, rules: Iterable[Rule] = RULES) -> None:
        self.rules = tuple(rules)
        self.keywords = _index(self.rules)
        self.always = tuple(r for r in self.rules if not r.needles)
        self.order = {id(r): i for i, r in enumerate(self.rules)}
        self.hits: dict[tuple[str, str | None], Hit] = {}
        self.facts = LogFacts()
        self.conflicts = conflicts.Parser()
        self.window: deque[str] = deque(maxlen=WINDOW)
        self.picked: deque[str] = deque(maxlen=15)
        self.tail: deque[str] = deque(maxlen=15)
        self.installed: dict[str, int] = {}
        self.installed_line: dict[str, str] = {}
        self.other_interpreter: list[tuple[int, str]] = []
        self.result: list[Hit] = []

    # -- per line ----------------------------------------------------------------------
    def feed(self, raw: str) -> None:
        line = strip_escapes(raw).rstrip()
        n = self.facts.lines
        self.facts.lines += 1
        prev = self.window[-1] if self.window else ""
        self.window.append(line)
        if not line.strip():
            return
        text = line.strip()
        self.tail.append(text)
        words = set(_WORD.findall(line))
        if not _INTERESTING_WORDS.isdisjoint(words) and interesting(text):
            self.picked.append(text)
        if self.conflicts.inside or "conflict" in line:
            self.conflicts.feed(line)
        self._facts(line, n, words)
        matched = self._match(line, n, text, words)
        if not matched and prev.strip() and (prev.endswith(":") or (60 <= len(prev) <= 400 and prev[-1].isalnum() and line[:1].isalnum())):
            # a terminal wrapped the message mid-word (or clang put "fatal error:" on a line of its
            # own): match the two lines joined, counting only a match that spans the join
            for glue in ("", " "):
                joined = prev.rstrip() + glue + line.lstrip()
                if self._match(joined, n, f"{prev.strip()} {text}", set(_WORD.findall(joined)), span=len(prev.rstrip())):
                    break

    def _match(self, line: str, n: int, shown: str, words: set[str], span: int | None = None) -> bool:
        found = False
        keys = words & self.keywords.keys()
        if not keys and not self.always:
            return False
        picked = {id(r): r for k in keys for r in self.keywords[k]}
        picked.update((id(r), r) for r in self.always)
        for rule in sorted(picked.values(), key=lambda r: self.order[id(r)]):
            if rule.needles and not any(x in line for x in rule.needles):
                continue
            m = rule.pattern.search(line)
            if not m or (span is not None and not (m.start() < span < m.end())):
                continue
            if rule.within is not None and not rule.within.search(" ".join(self.window) if rule.near else line):
                continue
            category, need = rule.category, rule.need
            subject = next((g for g in m.groups() if g), None) if m.groups() else None
            if rule.need_from == "header":
                category, need = classify_header(subject or "")
            elif rule.need_from:
                need = lookup(rule.need_from, subject or "")
            self._add(Hit(category, need, rule.name, subject=subject, kind=SUBJECT_KIND.get(rule.need_from or "")), n, shown)
            found = True
        return found

    def _add(self, new: Hit, n: int, shown: str) -> None:
        hit = self.hits.setdefault((new.category, new.need), new)
        if not hit.subject:
            hit.subject, hit.kind = new.subject, new.kind
        if len(hit.lines) >= EVIDENCE:
            return
        same = _shape(shown)  # pip's five retries differ only in numbers: one is evidence enough
        if all(_shape(x) != same for _, x in hit.lines):
            hit.lines.append((n, shown))

    def _facts(self, line: str, n: int, words: set[str]) -> None:
        f = self.facts
        if ":\\" in line or not _PLATFORM_WORDS.isdisjoint(words):
            for pattern, platform in PLATFORM_MARKS:
                if pattern.search(line):
                    f.platforms[platform] += 1
                    f.platform_evidence.setdefault(platform, line.strip()[:300])
            if "Python.framework" in line and "Cellar" not in line and "/Library/Frameworks/" in line:
                f.python_flavor = f.python_flavor or "python.org"
            elif "/opt/homebrew/" in line or "/usr/local/Cellar/" in line or "/usr/local/opt/python" in line:
                f.python_flavor = f.python_flavor or "homebrew"
        if "Running command" in line or "  Running setup.py" in line and "bdist_wheel" in line:
            f.verbose = True
        if "Successfully" in words and "Successfully installed" in line:
            for item in line.split("Successfully installed", 1)[1].split():
                if len(self.installed) < INSTALLED_MAX:
                    name = _norm(re.sub(r"-\d[^-]*$", "", item))
                    self.installed[name] = n
                    self.installed_line[name] = line.strip()
            return
        if "ModuleNotFoundError" in words and self.installed and not self.other_interpreter:
            m = re.search(r"ModuleNotFoundError: No module named '([\w.]+)'", line)
            if m:
                mod = _norm(m.group(1).split(".")[0])
                for name, j in self.installed.items():
                    if name == mod or name.replace("python_", "") == mod:
                        self.other_interpreter = [(j, self.installed_line[name]), (n, line.strip())]
                        break
        for key, pattern in {k: p for w in words & _FACT_WORDS.keys() for k, p in _FACT_WORDS[w]}.items():
            if key in _ONCE and getattr(f, _ONCE[key]):
                continue
            m = pattern.search(line)
            if not m:
                continue
            value = next((g for g in m.groups() if g), None) if m.groups() else None
            if key == "failed" and value:
                f.build_failed = True
                name = value.strip("'").rstrip(",")
                if name in f.failed_builds:
                    f.failed_builds.remove(name)
                f.failed_builds = [*f.failed_builds[-9:], name]
            elif key == "collecting":
                f.requested = f.requested or value
                f.collected = value
            elif key == "step-error":
                f.failed_step = f.collected
            elif key in ("buildtag", "tox"):
                minor = "3." + next(g for g in m.groups() if g).removeprefix("3.")
                if key == "tox":
                    f.env_minor = minor
                    if len(f.explicit_minors) < 20:
                        f.explicit_minors.add(minor)  # tox's py3XX env is a choice of interpreter
                else:
                    f.build_minor = minor
            elif key == "venv-package":
                f.venv_package = value
            elif key == "skip-python":
                self._skip(m, n, line)
            elif key == "builddir":
                f.build_dir_name = value
            elif key == "include" and f.include_minor is None:
                f.include_minor = value
            elif key == "venv" and f.venv_minor is None:
                f.venv_minor = value
            elif key == "versions":
                f.from_versions = (value or "")[:2000]
            elif key == "pip-python":
                f.pip_python = value
            elif key == "requires" and f.requires_python is None:
                f.requires_python = (value or "")[:500]
            elif key == "compiler-exit":
                f.build_failed = True
            elif key == "explicit" and value and len(f.explicit_minors) < 20:
                f.explicit_minors.add(value)
            elif key == "host" and f.index_host is None:
                f.index_host = value
            elif key == "framework" and f.framework_minor is None:
                f.framework_minor = value
        if ("--fix" in line or "after the fix" in line) and _KIT_FIX_BANNER.search(line):
            f.kit_fix_ran = True
        ran = _RAN.search(line) if len(f.ran) < 200 and ("$" in line or "#" in line or "%" in line or ">" in line or "+ " in line
                                                         or "RUN " in line or ".command" in line) else None
        if ran:
            f.ran.append(re.sub(r"\s+|\\ ", " ", ran.group(1) or ran.group(2)).strip().lower())
            f.kit_fix_ran = f.kit_fix_ran or bool(_KIT_FIX_RAN.search(f.ran[-1]))
            asked = re.search(r"\bpip[\d.]*(?:\.exe)? install (?:-\S+ )*([A-Za-z0-9][A-Za-z0-9._\[\]<>=!~,-]*)", ran.group(1) or "")
            if asked and f.requested is None and not asked.group(1).startswith("-"):
                f.requested = re.split(r"[<>=!~\[,]", asked.group(1))[0]

    def _skip(self, m: re.Match[str], n: int, line: str) -> None:
        """pip's debug line for a release it skipped for its Requires-Python: kept by project."""
        from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename

        f = self.facts
        filename = m.group(3).split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        try:
            name, version = (parse_wheel_filename(filename)[:2] if filename.endswith(".whl") else parse_sdist_filename(filename))
        except (InvalidWheelFilename, InvalidSdistFilename):
            return
        if f.python_skipped < SKIPS_MAX:
            f.python_skipped += 1
            f.python_running = f.python_running or m.group(1)
            f.python_skips.setdefault(name, []).append((str(version), m.group(2), n, line.strip()[:300]))

    # -- at the end ----------------------------------------------------------------------
    def finish(self, build_needs_file: Path | None = None) -> list[Hit]:
        self.facts.conflict_rows = self.conflicts.rows
        hits = dict(self.hits)
        if self.other_interpreter:
            hits.setdefault(("wrong-interpreter", None), Hit("wrong-interpreter", None, "installed-then-missing")).lines.extend(
                self.other_interpreter)
        for h in hits.values():
            h.needs = [h.need] if h.need else []
        native = [h for (c, n), h in hits.items() if c == "missing-native-library" and n and n != "pkg-config"]
        # pkg-config missing hides whether the library is there: install both, in one finding
        pkgconf = hits.get(("missing-native-library", "pkg-config"))
        if pkgconf and native:
            for h in native:
                h.needs.append("pkg-config")
                h.lines.extend(x for x in pkgconf.lines if x not in h.lines)
                h.lines.sort()
            del hits[("missing-native-library", "pkg-config")]
        # a native library with a known need makes an unknown-need hit of the same log redundant
        if native and ("missing-native-library", None) in hits:
            del hits[("missing-native-library", None)]
        found = {c for c, _ in hits}
        build = {"missing-compiler", "missing-python-headers", "missing-rust", "missing-native-library"}
        pkg = self.facts.failing_package
        if self.facts.build_failed and pkg and not (found & build):
            needs = build_needs(pkg, build_needs_file)
            # the library first: pkg-config only finds it
            native_needs = sorted((x for x in needs if x not in ("build-tools", "python-headers")), key=lambda x: x == "pkg-config")
            if native_needs:
                # a truncated log names only the package: its known build needs are the likely cause
                lines = [(0, f"the build of {pkg} failed (the log shows no compiler error, only the package name)")]
                hits[("missing-native-library", native_needs[0])] = Hit(
                    "missing-native-library", native_needs[0], "build-needs", lines, subject=pkg, needs=list(native_needs), likely=True)
                found.add("missing-native-library")
        nomatch = hits.get(("no-matching-distribution", None))
        skipped = self.facts.skipped_for_python(nomatch.subject) if nomatch and nomatch.subject and self.facts.python_skips else None
        if skipped and ("python-version-mismatch", None) not in hits:
            # pip (-v) skipped a release the requirement asks for because of its Requires-Python:
            # that, not a missing release, is why nothing matched
            version, spec, n, line = skipped
            self.facts.requires_python = self.facts.requires_python or (
                f"{version} Requires-Python {spec} (this Python is {self.facts.python_running})")
            hits[("python-version-mismatch", None)] = Hit("python-version-mismatch", None, "skipped-for-python",
                                                          [(n, line), *nomatch.lines[:2]], subject=nomatch.subject)
            found.add("python-version-mismatch")
        dropped = {d for c in found for d in DERIVED.get(c, ())}
        out = [h for (c, _), h in hits.items() if c not in dropped]
        order = {c: i for i, c in enumerate(CATEGORIES)}
        out.sort(key=lambda h: (order.get(h.category, 99), h.lines[0][0] if h.lines else 0))
        return out

    def considered(self) -> list[str]:
        """The lines looked at when nothing matched: the error-looking ones, else the tail."""
        return list(dict.fromkeys(self.picked or self.tail))


def scan(text: str, rules: Iterable[Rule] = RULES) -> list[Hit]:
    """Every rule on every line of ``text``; hits merged by (category, need), root cause first."""
    scanner = Scanner(rules)
    for line in text_lines(text):
        scanner.feed(line)
    return scanner.finish()


def considered(text: str, limit: int = 15) -> list[str]:
    """The lines looked at when nothing matched (see ``Scanner.considered``)."""
    scanner = Scanner(())
    for line in text_lines(text):
        scanner.feed(line)
    return scanner.considered()[-limit:]
