"""The distro's file index: each tool's output -> the package chosen; the step that readies
the index; install --fix resolving a file no table knows, per platform, dry and real."""

from __future__ import annotations

import io
import shlex
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import FakeProbe
from invoke import MockContext, Result

from provision import install as inst
from provision.diagnose import fileindex as fi
from provision.diagnose.explain import explain
from provision.diagnose.fixes import Machine
from provision.machine.probe import ProbeResult
from provision.platforms import presets, profiles
from provision.project import config as config_mod
from provision.steps import Options, StepEnv
from provision.steps.fileindex import FileIndexReady

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "fileindex"
NOW = 1_700_000_000.0

# ------------------------------------------------------------------ saved output of each tool

APT_GMP = """libcgal-dev: /usr/include/CGAL/gmp.h
libgmp-dev: /usr/include/x86_64-linux-gnu/gmp.h
"""
APT_UUID = """emscripten: /usr/share/emscripten/cache/sysroot/include/uuid/uuid.h
emscripten: /usr/share/emscripten/system/include/uuid/uuid.h
r-cran-bigmemory: /usr/lib/R/site-library/bigmemory/include/uuid/uuid.h
uuid-dev: /usr/include/uuid/uuid.h
"""
APT_SODIUM = """libbotan-2-dev: /usr/include/botan-2/botan/sodium.h
libsodium-dev: /usr/include/sodium.h
"""
APT_CURL = """libcurl4-gnutls-dev: /usr/include/x86_64-linux-gnu/curl/curl.h
libcurl4-nss-dev: /usr/include/x86_64-linux-gnu/curl/curl.h
libcurl4-openssl-dev: /usr/include/x86_64-linux-gnu/curl/curl.h
"""
APT_LLVM = """llvm: /usr/bin/llvm-config
llvm-13: /usr/lib/llvm-13/bin/llvm-config
llvm-14: /usr/lib/llvm-14/bin/llvm-config
llvm-15: /usr/lib/llvm-15/bin/llvm-config
"""
APT_LIBGMP = "libgmp-dev: /usr/lib/x86_64-linux-gnu/libgmp.so\n"
APT_GMP_PC = "libgmp-dev: /usr/lib/x86_64-linux-gnu/pkgconfig/gmp.pc\n"
APT_ETHTOOL = (FIXTURES / "apt-file-linux-ethtool.txt").read_text()
# dnf 4 (Fedora 40): a package per arch, the summary sometimes wrapped
DNF_GMP = """Last metadata expiration check: 0:12:41 ago on Mon 30 Nov 2026 10:02:11 UTC.
gmp-devel-1:6.2.1-8.fc40.i686 : Development tools for the GNU MP arbitrary precision
     : library
Repo        : fedora
Matched from:
Filename    : /usr/include/gmp.h

gmp-devel-1:6.2.1-8.fc40.x86_64 : Development tools for the GNU MP arbitrary precision
     : library
Repo        : fedora
Matched from:
Filename    : /usr/include/gmp.h

"""
# dnf 5 (Fedora 41): "Matched From", the provide of a pkg-config module
DNF5_PC = """Updating and loading repositories:
Repositories loaded.
gmp-devel-1:6.3.0-2.fc41.x86_64 : Development tools for the GNU MP arbitrary precision library
Repo         : fedora
Matched From :
Provide      : pkgconfig(gmp) = 6.3.0
"""
DNF_PROTOC = """protobuf-compiler-3.19.6-8.fc40.x86_64 : Protocol Buffers compiler
Repo        : fedora
Matched from:
Filename    : /usr/bin/protoc

"""
ZYPPER_GMP = """Loading repository data...
Reading installed packages...

S  | Name      | Summary                                         | Type
---+-----------+-------------------------------------------------+--------
   | gmp-devel | Include Files and Libraries mandatory for Dev.. | package
   | gmp       | The GNU MP Library                              | srcpackage
"""
PACMAN_GMP = "usr/include/gmp.h is owned by core/gmp 6.3.0-2\n"
PACMAN_BARE = """extra/protobuf 25.1-2
    usr/bin/protoc
"""
APK_CMD = "protoc-24.4-r1\n"
APK_SO = "gmp-6.3.0-r1\n"

H = "header"


@pytest.mark.parametrize(("parse", "output", "found"), [
    ("apt-file", APT_GMP, [("libcgal-dev", "/usr/include/CGAL/gmp.h"), ("libgmp-dev", "/usr/include/x86_64-linux-gnu/gmp.h")]),
    ("apt-file", "", []),
    ("dnf", DNF_GMP, [("gmp-devel", "/usr/include/gmp.h"), ("gmp-devel", "/usr/include/gmp.h")]),
    ("dnf", DNF5_PC, [("gmp-devel", None)]),
    ("dnf", "Error: No matches found. If searching for a file, try specifying the full path or using a wildcard prefix\n", []),
    ("zypper", ZYPPER_GMP, [("gmp-devel", None)]),
    ("zypper", "Loading repository data...\nReading installed packages...\nNo matching items found.\n", []),
    ("pacman", PACMAN_GMP, [("gmp", "/usr/include/gmp.h")]),
    ("pacman", PACMAN_BARE, [("protobuf", "/usr/bin/protoc")]),
    ("apk", APK_CMD, [("protoc", None)]),
    ("apk", APK_SO, [("gmp", None)]),
    ("apk", "WARNING: opening /var/cache/apk: No such file or directory\n", []),
])
def test_each_tools_output_reads(parse, output, found):
    assert fi.PARSERS[parse](output) == found


@pytest.mark.parametrize(("kind", "name", "parse", "output", "package", "why"), [
    # the standard (multiarch) include directory beats a library's own subdirectory
    (H, "gmp.h", "apt-file", APT_GMP, "libgmp-dev", "standard directory"),
    (H, "uuid/uuid.h", "apt-file", APT_UUID, "uuid-dev", "standard directory"),
    (H, "sodium.h", "apt-file", APT_SODIUM, "libsodium-dev", "standard directory"),
    # equals at the same place: the profile's own choice (debian's curl need), not the first by name
    (H, "curl/curl.h", "apt-file", APT_CURL, "libcurl4-openssl-dev", "profile already names it"),
    # kernel sources and cross toolchains lose to the C library's copy
    (H, "linux/ethtool.h", "apt-file", APT_ETHTOOL, "linux-libc-dev", "standard directory"),
    ("command", "llvm-config", "apt-file", APT_LLVM, "llvm", "standard directory"),
    ("library", "gmp", "apt-file", APT_LIBGMP, "libgmp-dev", ""),
    ("pkgconfig", "gmp", "apt-file", APT_GMP_PC, "libgmp-dev", ""),
    (H, "gmp.h", "dnf", DNF_GMP, "gmp-devel", ""),
    ("pkgconfig", "gmp", "dnf", DNF5_PC, "gmp-devel", ""),
    ("command", "protoc", "dnf", DNF_PROTOC, "protobuf-compiler", ""),
    (H, "gmp.h", "zypper", ZYPPER_GMP, "gmp-devel", ""),
    (H, "gmp.h", "pacman", PACMAN_GMP, "gmp", ""),
    ("command", "protoc", "pacman", PACMAN_BARE, "protobuf", ""),
    ("command", "protoc", "apk", APK_CMD, "protoc", ""),
])
def test_the_package_is_chosen_by_the_rule(kind, name, parse, output, package, why):
    debian = profiles.resolve(presets.load("debian:12")).profile
    preferred = [p for pkgs in debian.needs.values() for p in pkgs]
    item = fi.missing(kind, name)
    choice = fi.choose(item, fi.PARSERS[parse](output), preferred)
    assert choice is not None and choice.package == package, choice
    assert why in choice.why
    if choice.others:
        assert choice.why  # several candidates: it says why this one


@pytest.mark.parametrize(("found", "package", "why"), [
    # no profile preference, same place: the development package, then the name
    ([("libfoo1", "/usr/include/foo.h"), ("libfoo-dev", "/usr/include/foo.h")], "libfoo-dev", "development package"),
    ([("zz-dev", "/usr/include/foo.h"), ("aa-dev", "/usr/include/foo.h")], "aa-dev", "first by name"),
    # a name that could be an option or shell syntax never becomes a candidate
    ([("-oAPT::evil", "/usr/include/foo.h"), ("foo;rm", "/usr/include/foo.h"), ("core/foo", "/usr/include/foo.h"),
      ("foo-dev", "/usr/include/foo.h")], "foo-dev", ""),
    # the wrong file (foo.hpp, a doc page) is no match
    ([("boost-dev", "/usr/include/boost/foo.hpp"), ("foo-doc", "/usr/share/doc/foo/foo.h.html")], None, ""),
])
def test_tie_break_and_validation(found, package, why):
    choice = fi.choose(fi.Missing("header", "foo.h"), found)
    assert (choice.package if choice else None) == package
    if choice:
        assert why in choice.why


@pytest.mark.parametrize(("kind", "name", "file"), [
    ("header", "<uuid/uuid.h>", "uuid/uuid.h"),
    ("library", "gmp", "libgmp.so"),
    ("library", "libgomp.so.1", "libgomp.so.1"),
    ("pkgconfig", "libsodium", "libsodium.pc"),
    ("command", "curl-config", "curl-config"),
])
def test_missing_names_the_file_searched(kind, name, file):
    assert fi.missing(kind, name).file == file


@pytest.mark.parametrize("name", ["../../etc/passwd", "/usr/include/x.h", "x.h; rm -rf /", "-o.h", "", "a" * 300])
def test_unsafe_names_are_never_searched(name):
    assert fi.missing("header", name) is None


# ------------------------------------------------------------------ the search, as a probe


@pytest.mark.parametrize(("platform", "result", "package", "error"), [
    ("debian:12", ProbeResult(0, APT_GMP), "libgmp-dev", None),
    ("debian:12", ProbeResult(1, ""), None, None),  # apt-file: nothing matched
    ("debian:12", ProbeResult(1, "", "E: The cache is empty. You need to run \"apt-file update\" first.\n"), None, "cache is empty"),
    ("fedora:40", ProbeResult(1, "", "Error: No matches found.\n"), None, None),
    ("fedora:40", ProbeResult(1, "", "Error: Failed to download metadata for repo 'fedora'\n"), None, "Failed to download"),
    ("opensuse-tumbleweed", ProbeResult(104, "No matching items found.\n"), None, None),
    ("arch", ProbeResult(0, PACMAN_GMP), "gmp", None),
])
def test_search_runs_as_a_probe(platform, result, package, error):
    prof = profiles.resolve(presets.load(platform)).profile
    index = fi.index_for(prof.package_manager)
    item = fi.Missing("header", "gmp.h")
    probe = FakeProbe(commands={index.argv(item)[:1]: result})
    lk = fi.search(probe, index, item)
    assert probe.asked == [index.argv(item)]
    assert (lk.choice.package if lk.choice else None) == package
    assert (error in lk.error) if error else lk.error is None


# ------------------------------------------------------------------ the step that readies the index


def step_env(platform: str, probe: FakeProbe, dry_run: bool = True) -> StepEnv:
    facts = presets.load(platform)
    prof = profiles.resolve(facts).profile
    cfg = config_mod.load(Path(__file__).resolve().parent / "fixtures" / "fileindex")
    return StepEnv(facts, prof, cfg, probe, facts.default_python, Options(dry_run=dry_run))


APT_LISTS = {"/var/lib/apt/lists/deb_dists_bookworm_main_binary-amd64_Packages": NOW - 60}
APT_CONTENTS = {"/var/lib/apt/lists/deb_dists_bookworm_main_Contents-amd64.lz4": NOW - 60}


@pytest.mark.parametrize(("platform", "installed", "mtimes", "argvs"), [
    ("debian:12", "", APT_LISTS, [("apt-get", "install", "apt-file"), ("apt-file", "update")]),
    ("debian:12", "", {}, [("apt-get", "update"), ("apt-get", "install", "apt-file"), ("apt-file", "update")]),
    ("debian:12", "apt-file\tii \n", {**APT_LISTS, **APT_CONTENTS}, []),
    ("debian:12", "apt-file\tii \n", {**APT_LISTS, "/var/lib/apt/lists/x_Contents-amd64.lz4": NOW - 9 * 86400}, [("apt-file", "update")]),
    ("arch", "", {}, [("pacman", "-Fy")]),
    ("arch", "", {"/var/lib/pacman/sync/core.files": NOW - 60}, []),
])
def test_file_index_step(platform, installed, mtimes, argvs):
    probe = FakeProbe(commands={("dpkg-query",): ProbeResult(0, installed),
                                ("apt-cache", "policy"): ProbeResult(0, "apt-file:\n  Installed: (none)\n  Candidate: 3.3\n")},
                      mtimes=mtimes, clock=NOW)
    change = FileIndexReady().check(step_env(platform, probe))
    got = [c.argv for c in change.commands]
    assert len(got) == len(argvs), change
    for argv, want in zip(got, argvs):
        assert argv[0] == want[0] and all(w in argv for w in want[1:]), (argv, want)
    assert all(c.sudo for c in change.commands)


@pytest.mark.parametrize("platform", ["fedora:40", "opensuse-tumbleweed", "alpine:3.20"])
def test_file_index_step_has_nothing_to_ready_elsewhere(platform):
    assert "needs no setup" in (FileIndexReady().skip_reason(step_env(platform, FakeProbe())) or "")


# ------------------------------------------------------------------ install --fix, end to end with doubles

GMP_LOG = """Processing ./fixture-gmp-0.1.tar.gz
  Preparing metadata (setup.py): finished with status 'done'
Building wheels for collected packages: fixture-gmp
  Building wheel for fixture-gmp (setup.py): started
  gmpprobe.c:2:10: fatal error: gmp.h: No such file or directory
      2 | #include <gmp.h>
        |          ^~~~~~~
  compilation terminated.
  error: command '/usr/bin/x86_64-linux-gnu-gcc' failed with exit code 1
  ERROR: Failed building wheel for fixture-gmp
Failed to build fixture-gmp
"""
PROTOC_LOG = """  Building wheel for grpc-thing (pyproject.toml): started
  /bin/sh: 1: gpgme-config: not found
  error: command 'gpgme-config' failed
  ERROR: Failed building wheel for grpc-thing
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "provision.toml").write_text('venv = ".venv"\n')
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").write_text("")
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return tmp_path


BASE = {"debian:12": ("build-essential", "python3-dev", "python3-venv", "pipx"), "fedora:40": ("gcc", "python3-devel", "pipx"),
        "arch": ("base-devel", "python", "python-pipx"), "alpine:3.20": ("build-base", "python3-dev", "pipx"),
        "opensuse-tumbleweed": ("gcc", "python3-devel", "python3-pipx")}


def fix_env(project: Path, platform: str, probe: FakeProbe, dry_run: bool, seen: list):
    facts = presets.load(platform)
    prof = profiles.resolve(facts).profile

    def make(needs):
        seen.append(tuple(needs))
        cfg = config_mod.load(project)
        cfg = replace(cfg, needs=cfg.needs + tuple(needs))
        env = StepEnv(replace(facts, sudo="nopasswd"), prof, cfg, probe, facts.default_python, Options(dry_run=dry_run))
        # installed: everything the profile wants (so only the looked-up package is missing)
        return env, lambda: env

    return make, prof


def installed_output(platform: str, names) -> ProbeResult:
    if platform.startswith("debian"):
        return ProbeResult(0, "".join(f"{p}\tii \n" for p in names))
    return ProbeResult(0, "".join(f"{p}\n" for p in names))


def canned(platform: str, names, **more: ProbeResult) -> dict:
    prof = profiles.resolve(presets.load(platform)).profile
    everything = {p for pkgs in prof.needs.values() for p in pkgs if "gmp" not in p} | set(BASE.get(platform, ())) | set(names)
    from provision.platforms.pkgmgr import adapter

    query = adapter(prof.package_manager).query(["x"])[:1]
    out = {query: installed_output(platform, sorted(everything)),
           ("apt-cache", "policy"): ProbeResult(0, "".join(f"{p}:\n  Installed: (none)\n  Candidate: 1\n" for p in ("apt-file", "libgmp-dev")))}
    out.update({tuple(k.split(" ")): v for k, v in more.items()})
    return out


def run_install(project: Path, platform: str, probe: FakeProbe, log: str, *, dry_run: bool, ctx=None, spec: str = "./fixture-gmp-0.1.tar.gz"):
    seen: list = []
    make, prof = fix_env(project, platform, probe, dry_run, seen)
    pip = inst.pip_argv(str(project / ".venv" / "bin" / "python"), [spec], *(("--dry-run",) if dry_run else ()))
    ctx = ctx or MockContext(run={shlex.join(pip): Result(stdout=log, exited=1)})
    out = io.StringIO()
    facts = presets.load(platform)
    code = inst.install(ctx, [spec], project=str(project), fix=True, dry_run=dry_run, yes=True, out=out,
                        where=Machine(facts, prof), log_file=str(project / "install.log"), fix_env=make)
    return code, out.getvalue(), seen, ctx


DRY = [
    # Debian: apt-file is not there yet, so the search cannot run: every command it would take is printed
    ("debian:12", (), {}, {**APT_LISTS}, ["[would change] File index: apt-file is not installed; its index is empty\n",
                                      "apt-get -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o "
                                      "Dpkg::Options::=--force-confold install -y --no-install-recommends apt-file",
                                      "apt-file update",
                                      r"would then look up the header gmp.h: $ apt-file search --regexp '/include/(.+/)?gmp\.h$'",
                                      "then install the package it names"]),
    # Debian with apt-file and its index in place: the search really runs (read-only) and names the package
    ("debian:12", ("apt-file",), {"apt-file search": ProbeResult(0, APT_GMP)}, {**APT_LISTS, **APT_CONTENTS},
     ["the header gmp.h is in libgmp-dev (/usr/include/x86_64-linux-gnu/gmp.h); also in libcgal-dev",
      "--no-install-recommends libgmp-dev"]),
    # Fedora: dnf provides needs nothing first; it runs and the package joins dnf's one transaction
    ("fedora:40", (), {"dnf -q provides": ProbeResult(0, DNF_GMP)}, {},
     ["$ dnf -q provides '*/include/gmp.h'", "the header gmp.h is in gmp-devel (/usr/include/gmp.h)",
      "dnf install -y --setopt=install_weak_deps=False gmp-devel"]),
    ("opensuse-tumbleweed", (), {"zypper --non-interactive search": ProbeResult(0, ZYPPER_GMP)}, {},
     ["$ zypper --non-interactive search --provides /usr/include/gmp.h", "zypper --non-interactive install --no-recommends gmp-devel"]),
    # Arch: the files database first
    ("arch", (), {}, {"/var/lib/pacman/sync/core.db": NOW - 60}, ["pacman -Fy", "would then look up the header gmp.h: $ pacman -F usr/include/gmp.h"]),
]


@pytest.mark.parametrize(("platform", "installed", "answers", "mtimes", "shown"), DRY, ids=[f"{d[0]}-{i}" for i, d in enumerate(DRY)])
def test_dry_run_prints_the_lookup_and_touches_nothing(project, platform, installed, answers, mtimes, shown):
    probe = FakeProbe(commands=canned(platform, installed, **answers), mtimes=mtimes, clock=NOW)
    code, out, seen, ctx = run_install(project, platform, probe, GMP_LOG, dry_run=True)
    assert code == 0, out
    assert seen == [()]
    for line in shown:
        assert line in out, (line, out)
    assert ctx.run.call_count == 1, out  # only pip's --dry-run ran  # type: ignore[attr-defined]
    assert "./bootstrap install" not in out
    assert "would then retry" in out


def test_alpine_header_is_a_clear_paragraph(project):
    probe = FakeProbe(commands=canned("alpine:3.20", ()), clock=NOW)
    code, out, _, ctx = run_install(project, "alpine:3.20", probe, GMP_LOG, dry_run=True)
    assert code == 1
    msg = out.split("install --fix: apk cannot search", 1)[1]
    assert "the header gmp.h" in msg and "pkgs.alpinelinux.org/contents?file=gmp.h" in msg
    assert "Traceback" not in out and ctx.run.call_count == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(("platform", "words"), [
    ("macos:14", "find the formula that ships gmp.h: brew search gmp"),
    ("windows:11", "winget has no file index this kit can search for the header gmp.h"),
])
def test_no_searchable_index_is_a_clear_paragraph(project, platform, words):
    code, out, _, ctx = run_install(project, platform, FakeProbe(clock=NOW), GMP_LOG, dry_run=True)
    assert code == 1 and words in out, out
    assert "Traceback" not in out and ctx.run.call_count == 1  # type: ignore[attr-defined]


def test_alpine_command_is_found_by_its_cmd_provide(project):
    probe = FakeProbe(commands=canned("alpine:3.20", (), **{"apk search": ProbeResult(0, "gpgme-dev-1.23.2-r0\n")}), clock=NOW)
    code, out, _, _ = run_install(project, "alpine:3.20", probe, PROTOC_LOG, dry_run=True, spec="grpc-thing")
    assert code == 0, out
    assert "$ apk search cmd:gpgme-config" in out and "apk add gpgme-dev" in out


def test_nothing_found_names_the_file_and_the_search(project):
    probe = FakeProbe(commands=canned("debian:12", ("apt-file",), **{"apt-file search": ProbeResult(1, "")}),
                      mtimes={**APT_LISTS, **APT_CONTENTS}, clock=NOW)
    code, out, _, _ = run_install(project, "debian:12", probe, GMP_LOG, dry_run=True)
    assert code == 1
    para = out.split("install --fix: ", 2)[-1]
    assert "no package in apt's file index has the header gmp.h" in para
    assert r"apt-file search --regexp '/include/(.+/)?gmp\.h$'" in para
    assert "./bootstrap install" not in out and "Traceback" not in out


@pytest.mark.parametrize("retry_builds", [True, False])
def test_real_fix_installs_the_found_package_and_retries(project, retry_builds):
    """apt-file in place: search (probe) -> libgmp-dev in one apt transaction -> pip again, without
    the cache. When the retry still fails, the report never offers this very command as the fix."""
    pip = inst.pip_argv(str(project / ".venv" / "bin" / "python"), ["./fixture-gmp-0.1.tar.gz"])
    calls: list[str] = []
    state = {"installed": False}

    def fake_run(command, **kw):
        calls.append(command)
        if command == shlex.join(pip):
            return Result(stdout=GMP_LOG, exited=1)
        if command == shlex.join([*pip[:-1], "--no-cache-dir", pip[-1]]):
            return Result(stdout="Successfully installed fixture-gmp-0.1\n", exited=0) if retry_builds else Result(stdout=GMP_LOG, exited=1)
        assert "apt-get" in command and command.endswith(" libgmp-dev"), command
        state["installed"] = True
        return Result(exited=0)

    ctx = MockContext(run=Result())
    ctx.run.side_effect = fake_run  # type: ignore[attr-defined]

    class Probe(FakeProbe):
        def run(self, argv):
            if argv[0] == "dpkg-query" and state["installed"]:
                self.commands[("dpkg-query",)] = canned("debian:12", ("apt-file", "libgmp-dev"))[("dpkg-query",)]
            return super().run(argv)

    probe = Probe(commands=canned("debian:12", ("apt-file",), **{"apt-file search": ProbeResult(0, APT_GMP)}),
                  mtimes={**APT_LISTS, **APT_CONTENTS}, clock=NOW)
    code, out, _, _ = run_install(project, "debian:12", probe, GMP_LOG, dry_run=False, ctx=ctx)
    assert [c.split()[0] for c in calls] == [pip[0], "sudo", pip[0]], calls
    assert ("apt-file", "search", "--regexp", r"/include/(.+/)?gmp\.h$") in probe.asked
    if retry_builds:
        assert code == 0, out
        assert "after installing the system packages for libgmp-dev" in out
    else:
        assert code == 1 and "pip still fails after the fix" in out
    assert "./bootstrap install" not in out


# ------------------------------------------------------------------ explain carries what to look up


@pytest.mark.parametrize(("log", "kind", "name"), [
    ("x.c:1:10: fatal error: gmp.h: No such file or directory\n", "header", "gmp.h"),
    ("/bin/sh: 1: gpgme-config: not found\n", "command", "gpgme-config"),
    ("Could not run foo-config: [Errno 2] No such file or directory: 'foo-config'\n", "command", "foo-config"),
    ("/usr/bin/ld: cannot find -lgmp: No such file or directory\n", "library", "gmp"),
    ("ld: library not found for -lzstd\n", "library", "zstd"),
    ("Package 'libzstd', required by 'virtual:world', not found\n", "pkgconfig", "libzstd"),
])
def test_an_unknown_file_is_a_finding_to_look_up(log, kind, name):
    where = Machine(presets.load("debian:12"), profiles.resolve(presets.load("debian:12")).profile)
    f = explain(log, where).findings[0]
    assert f.category == "missing-native-library" and not f.installable_needs
    assert f.details["missing"]["kind"] == kind and f.details["missing"]["name"] == name


@pytest.mark.parametrize(("log", "need"), [
    ("/usr/bin/ld: cannot find -lpq\n", "postgres-client"),
    ("Error: pg_config executable not found.\n", "postgres-client"),
    ("/bin/sh: 1: mysql_config: not found\n", "mysql-client"),
    ("x.c:1:10: fatal error: uuid/uuid.h: No such file or directory\n", "uuid"),
])
def test_known_files_keep_their_need(log, need):
    where = Machine(presets.load("debian:12"), profiles.resolve(presets.load("debian:12")).profile)
    f = explain(log, where).findings[0]
    assert f.installable_needs == (need,) and "missing" not in f.details
