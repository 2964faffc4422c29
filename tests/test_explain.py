"""explain against the real-failure corpus (tests/fixtures/piplogs/manifest.toml).

Every manifest entry is checked: the first (root-cause) finding's category, need and
needs, the platform ``--platform auto`` reads from the log, and a fix line for the
platform the log comes from (``fix``); for the captured Debian corpus also the exact
first command on a table of platform presets. The corpus size per platform and the
accuracy are printed (pytest -s).
"""

from __future__ import annotations

import io
import json
import shlex
import sys
from collections import Counter
from pathlib import Path

import pytest
from fakes import recorded_index
from invoke import Exit, MockContext

from provision.diagnose import conflicts
from provision.diagnose.explain import explain, log_platform, scan, text_report
from provision.diagnose.fixes import Machine
from provision.diagnose.text import text_lines
from provision.platforms import presets, profiles

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PIPLOGS = Path(__file__).resolve().parent / "fixtures" / "piplogs"
MANIFEST = PIPLOGS / "manifest.toml"
ENTRIES: list[dict] = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))["log"] if MANIFEST.exists() else []
#: the shared build-needs table when it is there, else the test-only stand-in
BUILD_NEEDS = None  # the real knowledge table, profiles/build-needs.toml

#: logs whose output cannot tell their category apart, with the reason (strict xfail:
#: when the engine or the corpus changes so they pass, this table must shrink). The last one,
#: debian11/requires-python-mismatch.log (pip 20.3 prints the same two lines as for a release
#: that does not exist), is told apart by asking the package index: the corpus runs with the
#: index's recorded answers (tests/fixtures/index/), as explain does by default.
KNOWN_MISSES: dict[str, str] = {}
#: logs whose fix differs from the expectation written before explain ran, with the reason
FIX_DISAGREEMENTS: dict[str, str] = {}
FORBIDDEN = ("--break-system-packages", "--trusted-host", "sudo pip", "verify=False", "--no-verify")
_MACHINES: dict[str, Machine] = {}


def machine_for(key: str) -> Machine:
    if key not in _MACHINES:
        facts = presets.load(key)
        _MACHINES[key] = Machine(facts, profiles.resolve(facts).profile)
    return _MACHINES[key]


MACHINES = {k: machine_for(k) for k in ("debian:12", "fedora:40", "macos:14", "alpine:3.20")}


def _text(entry: dict) -> str:
    return (PIPLOGS / entry["file"]).read_text(encoding="utf-8", errors="replace")


def target(entry: dict) -> str:
    """The preset a log's fix is checked for: fix_platform, else the detected platform, else
    the Debian release it was captured on, else Debian 12."""
    if entry.get("fix_platform"):
        return entry["fix_platform"]
    shown = log_platform(scan(text_lines(_text(entry))).facts) if entry.get("detect") else None
    if shown:
        return shown[0]
    return entry["platform"] if entry["platform"].startswith("debian:") else "debian:12"


def run(entry: dict, platform: str | None = None):
    """explain as ./bootstrap explain runs it: the log, the target platform, and the package
    index (its recorded answers; a project not recorded is an index that cannot be reached)."""
    return explain(_text(entry), machine_for(platform or target(entry)), build_needs_file=BUILD_NEEDS, index=recorded_index())


def _params(entries=ENTRIES):
    out = []
    for e in entries:
        marks = [pytest.mark.xfail(reason=KNOWN_MISSES[e["file"]], strict=True)] if e["file"] in KNOWN_MISSES else []
        out.append(pytest.param(e, id=e["file"], marks=marks))
    return out


def test_corpus_is_there():
    assert ENTRIES, f"no [[log]] entries in {MANIFEST}"
    for e in ENTRIES:
        assert (PIPLOGS / e["file"]).is_file(), e["file"]
        assert e["file"].startswith("debian") or e.get("source") or e.get("command"), f"{e['file']}: where it comes from"


@pytest.mark.parametrize("entry", _params())
def test_corpus_log_is_classified(entry):
    result = run(entry)
    assert result.findings, f"not recognised; considered: {result.considered}"
    first = result.findings[0]
    assert (first.category, first.need) == (entry["category"], entry.get("need") or None), [(f.category, f.need) for f in result.findings]
    if "needs" in entry:
        assert sorted(first.details["needs"]) == sorted(entry["needs"])
    assert first.evidence and first.explanation and first.fix
    assert not any(bad in line for line in first.fix for bad in FORBIDDEN if "never" not in line and "do not" not in line)


WORLD = [e for e in ENTRIES if "detect" in e]


@pytest.mark.parametrize("entry", WORLD, ids=[e["file"] for e in WORLD])
def test_platform_is_read_from_the_log(entry):
    shown = log_platform(scan(text_lines(_text(entry))).facts)
    got = presets.find(shown[0]).name.split("-")[0] if shown else ""
    assert got == entry["detect"], shown


WITH_FIX_TEXT = [e for e in ENTRIES if "fix" in e]


@pytest.mark.parametrize("entry", WITH_FIX_TEXT, ids=[e["file"] for e in WITH_FIX_TEXT])
def test_fix_names_the_platforms_command(entry):
    if entry["file"] in FIX_DISAGREEMENTS:
        pytest.xfail(FIX_DISAGREEMENTS[entry["file"]])
    first = run(entry).findings[0]
    assert any(entry["fix"] in line for line in first.fix), first.fix
    if target(entry).startswith("windows"):
        assert not any(w in line for line in first.fix for w in ("apt-get", "xcode-select", "sudo ", "brew ", "dnf ")), first.fix


def test_accuracy_is_reported():
    per: dict[str, Counter] = {}
    misses = []
    for e in ENTRIES:
        c = per.setdefault(e["platform"].split(":")[0], Counter())
        c["logs"] += 1
        found = run(e).findings
        first = found[0] if found else None
        got = (first.category, first.need) if first else None
        c["category"] += bool(first and first.category == e["category"])
        c["need"] += got == (e["category"], e.get("need") or None)
        if "fix" in e:
            c["with fix"] += 1
            c["fix"] += bool(first and any(e["fix"] in x for x in first.fix))
        if got != (e["category"], e.get("need") or None):
            misses.append(f"{e['file']}: expected {e['category']}/{e.get('need')}, got {got}")
    total = sum(per.values(), Counter())
    rows = [f"  {k:8} logs={c['logs']:3}  category {c['category']}/{c['logs']}  need {c['need']}/{c['logs']}  fix {c['fix']}/{c['with fix']}"
            for k, c in sorted(per.items())]
    report = (f"explain accuracy: {total['need']}/{total['logs']} logs classified correctly "
              f"({100 * total['need'] / max(1, total['logs']):.1f}%), fix {total['fix']}/{total['with fix']}\n" + "\n".join(rows) + "\n")
    report += "".join(f"  miss: {m}\n" for m in misses)
    print(report)  # shown with pytest -s, and in the summary when it fails
    assert len(misses) <= len(KNOWN_MISSES)


# --- fixes per platform ---------------------------------------------------------------

#: need (or the category's need) -> exact first fix line per platform preset (not root: sudo);
#: a value ending in "…" is a prefix (prose). Every pair must be here: a gap fails.
BASE = "comes with the base system on"
FIXES = {
    "debian:12": {
        "postgres-client": "sudo apt-get install libpq-dev", "cairo": "sudo apt-get install libcairo2-dev",
        "xml": "sudo apt-get install libxml2-dev libxslt1-dev", "mysql-client": "sudo apt-get install default-libmysqlclient-dev",
        "ffi": "sudo apt-get install libffi-dev", "ssl": "sudo apt-get install libssl-dev", "jpeg": "sudo apt-get install libjpeg-dev",
        "zlib": "sudo apt-get install zlib1g-dev", "missing-compiler": "sudo apt-get install build-essential",
        "missing-python-headers": "sudo apt-get install python3-dev", "missing-rust": "sudo apt-get install rustc cargo",
        "venv-unavailable": "sudo apt-get install python3-venv", "ldap": "sudo apt-get install libldap2-dev",
    },
    "fedora:40": {
        "postgres-client": "sudo dnf install libpq-devel", "cairo": "sudo dnf install cairo-devel",
        "xml": "sudo dnf install libxml2-devel libxslt-devel", "mysql-client": "sudo dnf install mariadb-connector-c-devel",
        "ffi": "sudo dnf install libffi-devel", "ssl": "sudo dnf install openssl-devel", "jpeg": "sudo dnf install libjpeg-turbo-devel",
        "zlib": "sudo dnf install zlib-devel", "missing-compiler": "sudo dnf install gcc gcc-c++ make redhat-rpm-config",
        "missing-python-headers": "sudo dnf install python3-devel", "missing-rust": "sudo dnf install rust cargo",
        "venv-unavailable": f"'venv' {BASE} fedora…", "ldap": "sudo dnf install openldap-devel",
    },
    "macos:14": {
        "postgres-client": "brew install libpq", "cairo": "brew install cairo", "xml": "brew install libxml2 libxslt",
        "mysql-client": "brew install mysql-client", "ffi": "brew install libffi", "ssl": "brew install openssl@3",
        "jpeg": "brew install jpeg", "zlib": f"'zlib' {BASE} macos…", "missing-compiler": "xcode-select --install",
        "missing-python-headers": "python.org and Homebrew Pythons ship Python.h…", "missing-rust": "brew install rust",
        "venv-unavailable": f"'venv' {BASE} macos…", "ldap": "brew install openldap",
    },
    "alpine:3.20": {
        "postgres-client": "sudo apk add libpq-dev", "cairo": "sudo apk add cairo-dev", "xml": "sudo apk add libxml2-dev libxslt-dev",
        "mysql-client": "sudo apk add mariadb-connector-c-dev", "ffi": "sudo apk add libffi-dev", "ssl": "sudo apk add openssl-dev",
        "jpeg": "sudo apk add libjpeg-turbo-dev", "zlib": "sudo apk add zlib-dev", "missing-compiler": "sudo apk add build-base",
        "missing-python-headers": "sudo apk add python3-dev", "missing-rust": "sudo apk add rust cargo",
        "venv-unavailable": f"'venv' {BASE} alpine…", "ldap": "sudo apk add openldap-dev",
    },
}
KEYED = {k for t in FIXES.values() for k in t}
#: Debian's venv message names the package ("apt install python3.11-venv"): on Debian that is the fix
NAMED_VENV = {
    "debian11/venv-no-ensurepip.log": "sudo apt-get install python3-venv",
    "debian12/venv-no-ensurepip.log": "sudo apt-get install python3.11-venv",
    "debian13/venv-no-ensurepip.log": "sudo apt-get install python3.13-venv",
}
CAPTURED = [e for e in ENTRIES if not e["file"].startswith("world/") and e["file"] not in KNOWN_MISSES
            and (e.get("need") or e["category"]) in KEYED]


def first_line(finding) -> str:
    """The first fix line as typed (a command without its note)."""
    line = finding.fix[0]
    return shlex.join(finding.commands[line]) if line in finding.commands else line


@pytest.mark.parametrize("platform", sorted(FIXES))
@pytest.mark.parametrize("entry", CAPTURED, ids=[e["file"] for e in CAPTURED])
def test_fix_is_rendered_for_the_platform(entry, platform):
    key = entry.get("need") or entry["category"]
    expected = FIXES[platform][key]  # a missing pair is a failure, not a skip
    if platform.startswith("debian") and entry["file"] in NAMED_VENV:
        expected = NAMED_VENV[entry["file"]]
    # a Debian log's fix for Debian is for the release it came from (as --platform auto does)
    where = entry["platform"] if platform.startswith("debian") and entry["platform"].startswith("debian") else platform
    first = run(entry, where).findings[0]
    got = first_line(first)
    assert got.startswith(expected[:-1]) if expected.endswith("…") else got == expected, first.fix


def test_every_needed_pair_is_in_the_table():
    keys = {e.get("need") or e["category"] for e in CAPTURED}
    for platform, table in FIXES.items():
        assert keys <= set(table), (platform, keys - set(table))


def test_root_gets_no_sudo():
    from dataclasses import replace

    m = MACHINES["debian:12"]
    root = Machine(replace(m.facts, is_root=True, preset=None), m.profile)
    e = next(e for e in ENTRIES if e.get("need") == "postgres-client")
    assert explain(_text(e), root).findings[0].fix[0] == "apt-get install libpq-dev"


def test_ssl_certificate_fix_is_the_ca_bundle_never_disabling_verification():
    e = next(e for e in ENTRIES if e["category"] == "ssl-certificate")
    f = explain(_text(e), MACHINES["debian:12"]).findings[0]
    assert f.fix[0].startswith("./bootstrap --ca-bundle /path/to/corporate-ca.pem")
    assert any("export" in x.lower() and "PEM" in x for x in f.fix)
    assert not any("--trusted-host" in x and "never" not in x for x in f.fix)


def test_externally_managed_fix_is_a_venv_first():
    e = next(e for e in ENTRIES if e["category"] == "externally-managed")
    f = explain(_text(e), MACHINES["debian:12"]).findings[0]
    assert "venv" in f.fix[0]
    assert not any("--break-system-packages" in x and "do not" not in x for x in f.fix)


# --- language, wrapping, terminals ----------------------------------------------------

LINES = [
    # (what, output, category, need)
    ("clang's fatal error split over two lines", "src/x.c:3:10: fatal error:\n'openssl/opensslv.h' file not found\n",
     "missing-native-library", "ssl"),
    ("DNS message wrapped mid-word", "WARNING: Retrying (Retry(total=4)) after connection broken by 'NewConnectionError(<x>: Failed to establ\n"
     "ish a new connection: [Errno -3] Temporary failure in name resolution')': /simple/six/\n", "network-unreachable", None),
    ("gcc coloured diagnostics", "\x1b[01m\x1b[Ka.c:1:10:\x1b[m\x1b[K \x1b[01;31m\x1b[Kfatal error: \x1b[m\x1b[KPython.h: No such file or directory\n",
     "missing-python-headers", None),
    ("Chinese Errno 13", "ERROR: Could not install packages due to an OSError: [Errno 13] 权限不够: '/usr/lib/python3/dist-packages/x'\n",
     "permission-denied", None),
    ("MSVC C1083, Chinese", "x.c(3): fatal error C1083: 无法打开包括文件: \u201cffi.h\u201d: No such file or directory\n", "missing-native-library", "ffi"),
    ("fish", "fish: Unknown command: pip\n", "pip-not-found", None),
    ("Ubuntu's command-not-found", "Command 'pip3' not found, but can be installed with:\n\nsudo apt install python3-pip\n", "pip-not-found", None),
    ("redhat-hardened-ld", "gcc: error: /usr/lib/rpm/redhat/redhat-hardened-ld: No such file or directory\n", "missing-compiler", None),
    ("pyconfig.h", "/usr/include/python3.12/Python.h:12:10: fatal error: pyconfig.h: No such file or directory\n", "missing-python-headers", None),
    ("psutil's own words", "psutil could not be installed from sources. Perhaps Python header files are not installed.\n",
     "missing-python-headers", None),
    ("old venv wording", "Error: Command '['/srv/v/bin/python3', '-Im', 'ensurepip', '--upgrade', '--default-pip']' returned non-zero exit status 1.\n",
     "venv-unavailable", None),
    ("poetry venv gone", "/bin/sh: /home/u/.cache/pypoetry/virtualenvs/app-x-py3.11/bin/python: No such file or directory\n",
     "wrong-interpreter", None),
    ("installed, then not importable",
     "Successfully installed requests-2.32.3\nTraceback (most recent call last):\nModuleNotFoundError: No module named 'requests'\n",
     "wrong-interpreter", None),
]


@pytest.mark.parametrize(("what", "output", "category", "need"), LINES, ids=[x[0] for x in LINES])
def test_structure_not_words(what, output, category, need):
    found = explain(output, MACHINES["debian:12"]).findings
    assert found and (found[0].category, found[0].need) == (category, need), [(f.category, f.need) for f in found]


def test_pkg_config_and_the_library_are_installed_together():
    e = next(e for e in ENTRIES if e["file"].endswith("pycairo-no-pkg-config.log"))
    expected = {"debian:12": "sudo apt-get install libcairo2-dev pkg-config", "fedora:40": "sudo dnf install cairo-devel pkgconf-pkg-config",
                "alpine:3.20": "sudo apk add cairo-dev pkgconf", "macos:14": "brew install cairo pkgconf"}
    for platform, line in expected.items():
        assert first_line(run(e, platform).findings[0]) == line


def test_retry_names_the_package_that_failed_to_build():
    text = ("Collecting myapp==1.0\nCollecting cffi>=1.12\n  Building wheel for cffi (setup.py) ... error\n"
            "  c/_cffi_backend.c:15:10: fatal error: ffi.h: No such file or directory\n  ERROR: Failed building wheel for cffi\n")
    f = explain(text, MACHINES["debian:12"]).findings[0]
    assert f.need == "ffi" and any("--no-cache-dir cffi" in x for x in f.fix), f.fix


def test_retry_names_the_dependency_that_failed_not_the_package_asked_for():
    """python-ldap fails to build under django-auth-ldap (pip 20.3, 23.0, 25.1): the retry is python-ldap."""
    for e in (e for e in ENTRIES if e["file"].endswith("python-ldap-via-django-auth-ldap.log")):
        f = run(e).findings[0]
        retry = [x for x in f.fix if "--no-cache-dir" in x]
        assert retry and retry[0].startswith("python3 -m pip install --no-cache-dir python-ldap"), (e["file"], f.fix)
        assert not any("django-auth-ldap" in x for x in f.fix), (e["file"], f.fix)


#: (what, pip's output) -> the package the retry names: the one being built when a step failed
FAILED_STEP = [
    ("pip 23, a dependency's metadata", "Collecting myapp==1.0\nCollecting psycopg2>=2.9 (from myapp==1.0)\n  Downloading psycopg2-2.9.10.tar.gz\n"
     "  Preparing metadata (setup.py) ... error\n  error: subprocess-exited-with-error\n  Error: pg_config executable not found.\n", "psycopg2"),
    ("pip 20.3, a dependency's build requirements", "Collecting myapp==1.0\nCollecting lxml\n  Getting requirements to build wheel: started\n"
     "  Getting requirements to build wheel: finished with status 'error'\n  Error: Please make sure the libxml2 and libxslt "
     "development packages are installed.\n", "lxml"),
    ("a later Collecting does not move it", "Collecting cffi\n  Preparing metadata (pyproject.toml) ... error\n"
     "  c/_cffi_backend.c:15:10: fatal error: ffi.h: No such file or directory\nCollecting other\n", "cffi"),
]


@pytest.mark.parametrize(("what", "text", "package"), FAILED_STEP, ids=[x[0] for x in FAILED_STEP])
def test_retry_names_the_package_whose_build_step_failed(what, text, package):
    f = explain(text, MACHINES["debian:12"]).findings[0]
    assert any(x.startswith(f"python3 -m pip install --no-cache-dir {package} ") for x in f.fix), f.fix


#: (what, the log, the command it must not offer)
KIT_FIX_RAN = [
    ("the prompt line", "$ ./bootstrap install python-ldap --fix\n", "./bootstrap install python-ldap --fix"),
    ("the kit's banner, piped without the prompt", "install --fix: installing the system packages for ldap\n",
     "./bootstrap install python-ldap --fix"),
    ("another package's --fix", "$ ./bootstrap install django-auth-ldap --fix\n", "./bootstrap install python-ldap --fix"),
]


def test_the_kits_hint_to_run_fix_is_not_a_run():
    e = next(e for e in ENTRIES if e["file"] == "debian12/python-ldap-via-django-auth-ldap.log")
    hint = "install: run again with --fix to install the system packages for: ldap (./bootstrap install django-auth-ldap --fix)\n"
    f = explain(_text(e) + hint, MACHINES["debian:12"]).findings[0]
    assert any(x.startswith("./bootstrap install python-ldap --fix") for x in f.fix), f.fix


@pytest.mark.parametrize(("what", "head", "never"), KIT_FIX_RAN, ids=[x[0] for x in KIT_FIX_RAN])
def test_the_kits_own_fix_is_not_offered_when_it_is_what_failed(what, head, never):
    e = next(e for e in ENTRIES if e["file"] == "debian12/python-ldap-via-django-auth-ldap.log")
    f = explain(head + _text(e), MACHINES["debian:12"]).findings[0]
    assert f.need == "ldap" and not any(never in x for x in f.fix), f.fix
    assert any(x.startswith("python3 -m pip install --no-cache-dir python-ldap") for x in f.fix), f.fix


# --- which Python: versioned packages from the log's evidence ----------------------------

_PYTHON_H = "x.c:1:10: fatal error: Python.h: No such file or directory\n"
#: (what, log, preset, first fix line): the Python a C extension was built for, when the log shows it
HEADERS_FOR = [
    ("tox py310 env on Fedora", "CMD: [/work/.tox/py310-cov/bin/python setup.py -q build]\n" + _PYTHON_H, "fedora:41",
     "sudo dnf install python3.10-devel"),
    ("-I of an OS Python run by name", "$ python3.11 -m pip install psutil\n gcc -I/usr/include/python3.11 -c x.c\n" + _PYTHON_H,
     "fedora:40", "sudo dnf install python3.11-devel"),
    ("build tag of a tox env's Python", "/home/u/p/.tox/py39/bin/python setup.py build\ncreating build/temp.linux-x86_64-cpython-39\n" + _PYTHON_H,
     "debian:12", "sudo apt-get install python3.9-dev"),
    ("the default Python's tag: unversioned", "creating build/temp.linux-x86_64-cpython-311\n" + _PYTHON_H, "debian:12",
     "sudo apt-get install python3-dev"),
    ("a minor nobody chose (another machine's log): unversioned", "creating build/temp.linux-x86_64-3.9\n" + _PYTHON_H, "fedora:40",
     "sudo dnf install python3-devel"),
]


@pytest.mark.parametrize(("what", "text", "platform", "line"), HEADERS_FOR, ids=[x[0] for x in HEADERS_FOR])
def test_python_headers_for_the_python_the_log_shows(what, text, platform, line):
    f = explain(text, machine_for(platform)).findings[0]
    assert f.category == "missing-python-headers" and first_line(f) == line, f.fix


_VENV_MSG = ("The virtual environment was not created successfully because ensurepip is not\navailable.  On Debian/Ubuntu systems, "
             "you need to install the python3-venv\npackage using the following command.\n\n    {cmd}\n\n")
#: (apt line in Debian/Ubuntu's venv message, preset, first fix line): the package it names is the fix
VENV_NAMED = [
    ("apt-get install python3-venv", "debian:11", "sudo apt-get install python3-venv"),
    ("apt install python3.11-venv", "debian:12", "sudo apt-get install python3.11-venv"),
    ("apt install python3.8-venv", "ubuntu:22.04", "sudo apt-get install python3.8-venv"),
    ("apt install python3.12-venv", "ubuntu:24.04", "sudo apt-get install python3.12-venv"),
    ("apt install python3.11-venv", "fedora:40", f"'venv' {BASE} fedora…"),
]


@pytest.mark.parametrize(("cmd", "platform", "line"), VENV_NAMED, ids=[f"{x[0]}@{x[1]}" for x in VENV_NAMED])
def test_venv_package_is_the_one_the_message_names(cmd, platform, line):
    f = explain(_VENV_MSG.format(cmd=cmd), machine_for(platform)).findings[0]
    got = first_line(f)
    assert f.category == "venv-unavailable" and (got.startswith(line[:-1]) if line.endswith("…") else got == line), f.fix


# --- Requires-Python ----------------------------------------------------------------------

_SKIP = "  Link requires a different Python (3.9.2 not in: '>=3.10'): https://<files-host>/packages/ab/{f}#sha256=00\n"
_NOMATCH = "ERROR: Could not find a version that satisfies the requirement {r}\nERROR: No matching distribution found for {r}\n"
#: (what, log, category): pip's debug skip line counts only for a release the requirement asks for
REQUIRES_PYTHON = [
    ("skipped wheel of the pinned release", _SKIP.format(f="Django-5.0-py3-none-any.whl") + _NOMATCH.format(r="django==5.0"),
     "python-version-mismatch"),
    ("skipped sdist, any release", _SKIP.format(f="foo_bar-2.0.tar.gz") + _NOMATCH.format(r="foo-bar"), "python-version-mismatch"),
    ("skipped releases, but not the pinned one", _SKIP.format(f="requests-2.32.0-py3-none-any.whl") + _NOMATCH.format(r="requests==0.0.999"),
     "no-matching-distribution"),
    ("skipped releases of another project", _SKIP.format(f="numpy-2.1.0.tar.gz") + _NOMATCH.format(r="nosuchpkg"), "no-matching-distribution"),
    ("a skip line in a log that failed otherwise", _SKIP.format(f="numpy-2.1.0.tar.gz") + _PYTHON_H, "missing-python-headers"),
    ("pip's UnsupportedPythonVersion", "ERROR: Package 'django' requires a different Python: 3.9.2 not in '>=3.10'\n", "python-version-mismatch"),
    ("resolvelib's exception in pip 20.3's -v traceback is no conflict",
     "resolvelib.resolvers.ResolutionImpossible: [RequirementInformation(requirement=SpecifierRequirement('x==9'), parent=None)]\n"
     "    raise ResolutionImpossible(e.criterion.information)\n" + _NOMATCH.format(r="x==9"), "no-matching-distribution"),
]


@pytest.mark.parametrize(("what", "text", "category"), REQUIRES_PYTHON, ids=[x[0] for x in REQUIRES_PYTHON])
def test_requires_python_from_structure(what, text, category):
    found = explain(text, MACHINES["debian:12"]).findings
    assert found and found[0].category == category, [(f.category, f.evidence) for f in found]


@pytest.mark.parametrize(("file", "line"), [
    ("debian11/requires-python-mismatch-verbose.log", "./bootstrap --python 3.10"),
    ("debian11/requires-python-mismatch.log", "./bootstrap --python 3.10"),  # the index's Requires-Python (recorded)
    ("debian12/requires-python-mismatch.log", "./bootstrap --python 3.12"),
    ("debian13/requires-python-mismatch.log", "./bootstrap --python 3.X"),  # <3.13,>=3.9: no bound says which
])
def test_the_python_a_skipped_release_needs(file, line):
    f = run(next(e for e in ENTRIES if e["file"] == file)).findings[0]
    assert f.category == "python-version-mismatch" and first_line(f) == line, f.fix


def test_old_pip_no_match_says_how_to_tell_requires_python_apart():
    """Offline (--offline, or an index that cannot be reached), the log alone cannot tell: the finding says how to."""
    e = next(e for e in ENTRIES if e["file"] == "debian11/requires-python-mismatch.log")
    f = explain(_text(e), machine_for(target(e))).findings[0]
    assert f.category == "no-matching-distribution" and "Requires-Python" in f.explanation
    assert any("-v" in x and "Link requires a different Python" in x for x in f.fix), f.fix


INSTALL = [
    # (preset, packages, the command a person types: the adapter's argv without the unattended options)
    ("debian:12", ("libpq-dev",), "sudo apt-get install libpq-dev"),
    ("fedora:40", ("libpq-devel",), "sudo dnf install libpq-devel"),
    ("opensuse-tumbleweed", ("libpq5-devel",), "sudo zypper install libpq5-devel"),
    ("arch", ("postgresql-libs",), "sudo pacman -S --needed postgresql-libs"),
    ("alpine:3.20", ("libpq-dev",), "sudo apk add libpq-dev"),
    ("macos:14", ("libpq",), "brew install libpq"),
    ("windows:11", ("Git.Git", "Rustlang.Rustup"), "winget install --id Git.Git --exact && winget install --id Rustlang.Rustup --exact"),
]


@pytest.mark.parametrize(("platform", "packages", "typed"), INSTALL, ids=[x[0] for x in INSTALL])
def test_install_line_comes_from_the_adapter(platform, packages, typed):
    from provision.diagnose.fixes import install_command

    assert install_command(machine_for(platform), packages) == typed


def test_truncated_log_is_likely_with_the_verbose_hint():
    e = next(e for e in ENTRIES if e["file"].endswith("pycairo-truncated.log"))
    f = run(e, "debian:12").findings[0]
    assert f.details.get("likely") and "likely" in f.explanation.lower()
    assert any("-v" in x for x in f.fix)
    assert any("pycairo" in x for x in f.fix if "--no-cache-dir" in x)


def test_unknown_header_uses_the_distros_file_index():
    text = "x.c:1:10: fatal error: linux/ethtool.h: No such file or directory\n"
    expected = {"debian:12": r"apt-file search --regexp '/include/(.+/)?linux/ethtool\.h$'", "fedora:40": "dnf provides '*/include/linux/ethtool.h'",
                "arch": "pacman -F usr/include/linux/ethtool.h", "opensuse-tumbleweed": "zypper search --provides /usr/include/linux/ethtool.h",
                "alpine:3.20": "pkgs.alpinelinux.org/contents?file=ethtool.h"}
    for platform, line in expected.items():
        fix = explain(text, machine_for(platform)).findings[0].fix
        assert any(line in x for x in fix), (platform, fix)


@pytest.mark.parametrize(("platform", "subject", "line"), [
    ("alpine:3.20", "protoc", "apk search cmd:protoc"),
    ("alpine:3.20", "libgomp.so.1", "apk search so:libgomp.so.1"),
    ("debian:12", "protoc", "apt-file search --regexp '/s?bin/protoc$'"),
    ("debian:12", "libgmp.so", r"apt-file search --regexp '/lib/(.+/)?libgmp\.so$'"),
    ("fedora:40", "protoc", "dnf provides '*/bin/protoc'"),
    ("opensuse-tumbleweed", "gmp.pc", "zypper search --provides 'pkgconfig(gmp)'"),
    ("arch", "protoc", "pacman -F usr/bin/protoc"),
    ("macos:14", "gmp.h", "find the formula that ships gmp.h: brew search gmp"),
])
def test_file_index_per_package_manager(platform, subject, line):
    from provision.diagnose.fixes import Context, _search

    assert _search(machine_for(platform), Context(), subject)[0].text.startswith(line)


def test_fixes_data_is_whole():
    """Every category has an explanation and a fix; every step is one known kind; every
    include names a group; every platform's package manager has its options listed."""
    from provision.diagnose import CATEGORIES
    from provision.diagnose.fixes import data

    d = data()
    kinds = {"run", "say", "install", "search", "include"}
    assert set(d["category"]) == set(CATEGORIES)
    for name, spec in d["category"].items():
        assert spec["explanation"] and spec["fix"], name
        for step in [*spec["fix"], *(s for g in d["group"].values() for s in g)]:
            assert len(kinds & set(step)) == 1, (name, step)
            assert step.get("include", next(iter(d["group"]))) in d["group"], step
            assert set(step) <= kinds | {"when", "note", "sudo"}, step
    assert set(d["package-manager"]) == set(profiles.PACKAGE_MANAGERS)


def test_the_failing_command_is_not_offered_as_the_fix():
    text = ("/Applications/Python\\ 3.13/Install\\ Certificates.command ; exit;\n"
            "WARNING: Retrying (Retry(total=4)) after connection broken by 'SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] "
            "certificate verify failed: unable to get local issuer certificate (_ssl.c:1028)'))': /simple/certifi/\n")
    f = explain(text, MACHINES["macos:14"]).findings[0]
    assert f.category == "ssl-certificate"
    assert not any("Install Certificates.command" in x and x in f.commands for x in f.fix), f.fix


def test_escape_sequences_from_the_log_are_not_printed():
    evil = ("\x1b]0;pwned title\x07\x1b[2J\x1b]52;c;ZWNobyBoaQ==\x07ERROR: the flux capacitor \x1b[31mis misaligned\x9b1m\n"
            "fatal error: \x1b]52;c;eA==\x07cairo.h: No such file or directory\n")
    for result in (explain(evil, MACHINES["debian:12"]), explain("odd \x1b]52;c;eA==\x07 line\nERROR: \x07bell\x00\n", MACHINES["debian:12"])):
        out = text_report(result)
        assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out and "\x00" not in out


# --- unknown output -------------------------------------------------------------------


def test_unknown_output_is_said_plainly_with_the_lines_considered():
    text = "Collecting foo\nSomething unusual happened\nERROR: the flux capacitor is misaligned\n"
    result = explain(text, MACHINES["debian:12"])
    assert not result.recognised
    assert "ERROR: the flux capacitor is misaligned" in result.considered
    out = text_report(result)
    assert "Not recognised" in out and "flux capacitor" in out
    data = result.to_json()
    assert data["recognised"] is False and data["findings"] == [] and data["considered"]


def test_explain_task_exit_codes_and_json(tmp_path, capsys):
    from provision.cli.diagnose import explain as task

    unknown = tmp_path / "odd.log"
    unknown.write_text("all is fine, just odd\n")
    with pytest.raises(Exit) as exc:
        task(MockContext(), str(unknown), json=True, platform="debian:12")
    assert exc.value.code == 1
    assert json.loads(capsys.readouterr().out)["recognised"] is False
    e = next(e for e in ENTRIES if e.get("need") == "postgres-client")
    task(MockContext(), str(PIPLOGS / e["file"]), json=True, platform="fedora:40")  # exit 0: no Exit raised
    data = json.loads(capsys.readouterr().out)
    assert data["findings"][0]["category"] == "missing-native-library" and data["findings"][0]["need"] == "postgres-client"
    assert data["findings"][0]["fix"][0] == "sudo dnf install libpq-devel"
    with pytest.raises(Exit) as exc:
        task(MockContext(), str(tmp_path / "missing.log"))
    assert exc.value.code == 2 and "cannot read" in str(exc.value.message)


def test_explain_stdin_closed_is_a_clear_error(monkeypatch):
    from provision.cli.diagnose import explain as task

    closed = io.StringIO("")
    closed.close()
    monkeypatch.setattr(sys, "stdin", closed)
    with pytest.raises(Exit) as exc:
        task(MockContext(), "-", platform="debian:12")
    assert exc.value.code == 2 and "standard input is closed" in str(exc.value.message)
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(Exit) as exc:
        task(MockContext(), "-", platform="debian:12")
    assert exc.value.code == 2


def test_explain_stdin_not_utf8(monkeypatch, capsys):
    from provision.cli.diagnose import explain as task

    raw = io.TextIOWrapper(io.BytesIO(b"\xff\xfe junk\nsrc/x.c:1:10: fatal error: ffi.h: No such file or directory\n"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", raw)
    task(MockContext(), "-", platform="debian:12")
    assert "missing-native-library (ffi)" in capsys.readouterr().out


def test_explain_auto_platform_says_so(tmp_path, capsys):
    from provision.cli.diagnose import explain as task

    e = next(e for e in ENTRIES if e["file"].endswith("lxml-msvc-c1083.log"))
    task(MockContext(), str(PIPLOGS / e["file"]), json=True)
    data = json.loads(capsys.readouterr().out)
    assert data["platform"].startswith("windows") and "the log comes from windows" in data["notice"]
    assert any("conda-forge" in x for x in data["findings"][0]["fix"])
    assert data["findings"][0]["fix_commands"]


def test_explain_reads_stdin(monkeypatch, capsys):
    from provision.cli.diagnose import explain as task

    e = next(e for e in ENTRIES if e["category"] == "externally-managed")
    monkeypatch.setattr(sys, "stdin", io.StringIO(_text(e)))
    task(MockContext(), "-", platform="debian:12")
    assert "externally-managed" in capsys.readouterr().out


# --- resolution-impossible ------------------------------------------------------------

CONFLICT_LOGS = [e for e in ENTRIES if e["category"] == "resolution-impossible"]


@pytest.mark.parametrize("entry", CONFLICT_LOGS, ids=[e["file"] for e in CONFLICT_LOGS])
def test_conflict_table_from_real_logs(entry):
    text = _text(entry)
    rows = conflicts.parse(text)
    assert len(rows) >= 2
    assert any(r.who.startswith("you") for r in rows) and any(not r.who.startswith("you") for r in rows)
    analyses = conflicts.analyse(rows)
    broken = [a for a in analyses if a.agreed is None]
    assert broken, "the conflicting package's specifiers must not intersect"
    assert broken[0].relax, "at least one pin can be loosened"
    f = explain(text, MACHINES["debian:12"]).findings[0]
    table = f.details["table"]
    assert table[0].split() == ["who", "needs", "of", "package"]
    assert len(table) == 2 + len(rows)
    assert any("loosen your pin" in x for x in f.fix)


def test_conflict_of_the_corpus_scenario():
    text = ("The conflict is caused by:\n    The user requested urllib3<1.21\n"
            "    requests 2.31.0 depends on urllib3<3 and >=1.21.1\n\nTo fix this you could try to:\n")
    rows = conflicts.parse(text)
    assert [(r.who, r.package, r.spec) for r in rows] == [("you (requested)", "urllib3", "<1.21"), ("requests 2.31.0", "urllib3", "<3,>=1.21.1")]
    (a,) = conflicts.analyse(rows)
    assert a.agreed is None
    assert a.relax[0][0].who == "you (requested)" and a.relax[0][1] == ">=1.21.1, <3"


@pytest.mark.parametrize(("specs", "agreed"), [
    (["<3,>=1.21.1", ">=2"], ">=2, <3"),
    (["==1.4.*", ">=1.4.2"], ">=1.4.2, <1.5"),
    (["~=2.2", "<2.5"], ">=2.2, <2.5"),
    (["==2.0", "!=2.0"], None),
    (["==1.0", ">1.0"], None),
    (["", ">=1"], ">=1"),
    # PEP 440 on pre- and post-releases (the hand-made intervals got these wrong)
    (["==1.0.1a1", ">=1.0.1"], None),
    (["==1.0.post1", "<=1.0"], None),
    ([">1.0", "==1.0.post1"], None),
    (["<2.0", "==2.0rc1"], None),
    ([">=1.0a1", "<1.0"], None),  # "<1.0" excludes 1.0's own pre-releases
    (["~=1.4.5", "!=1.4.7"], ">=1.4.5, <1.5, !=1.4.7"),
])
def test_specifier_intersection(specs, agreed):
    rows = [conflicts.Requirement(f"r{i}", "pkg", s) for i, s in enumerate(specs)]
    (a,) = conflicts.analyse(rows)
    assert a.agreed == agreed


def test_pip_20_comma_format_and_constraints():
    text = ("The conflict is caused by:\n    The user requested (constraint) six==1.10\n"
            "    foo 1.0 depends on six<2,>=1.12; python_version >= \"3\"\n\n")
    rows = conflicts.parse(text)
    assert [(r.who, r.spec) for r in rows] == [("you (constraint)", "==1.10"), ("foo 1.0", "<2,>=1.12")]
    assert conflicts.analyse(rows)[0].agreed is None
