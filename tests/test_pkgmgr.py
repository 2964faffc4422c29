"""Package-manager adapters: the batch installed probe, its parsing, the index-freshness rule."""

from __future__ import annotations

import pytest
from fakes import FakeProbe

from provision.machine.probe import ProbeResult
from provision.platforms.pkgmgr import adapter

PKGS = ["gcc", "make", "libpq-dev"]

QUERY = [
    ("apt", ("dpkg-query", "-W", "-f=${Package}\\t${db:Status-Abbrev}\\n", *PKGS)),
    ("dnf", ("rpm", "-q", "--qf", "%{NAME}\\n", *PKGS)),
    ("zypper", ("rpm", "-q", "--qf", "%{NAME}\\n", *PKGS)),
    ("pacman", ("pacman", "-Q", *PKGS)),
    ("apk", ("apk", "info", "-e", *PKGS)),
    ("brew", ("brew", "list", "--formula", "-1")),
    ("winget", ("winget", "list", "--accept-source-agreements", "--disable-interactivity")),
]


@pytest.mark.parametrize(("pm", "argv"), QUERY)
def test_one_query_for_all_packages(pm, argv):
    assert adapter(pm).query(PKGS) == argv


# real output shapes: what each tool prints when gcc and make are installed and libpq-dev is not
OUTPUTS = [
    ("apt", "gcc\tii \nmake\tii \nlibpq-dev\tun \n", {"gcc", "make"}),
    ("apt", "gcc\tiU \nmake\tii \n", {"make"}),  # unpacked, not configured: an interrupted install
    ("apt", "gcc\tiF \nmake\tii \n", {"make"}),  # half-configured
    ("dnf", "gcc\nmake\npackage libpq-dev is not installed\n", {"gcc", "make"}),
    ("pacman", "gcc 14.2.1+r134+gab884fffe3fc-1\nmake 4.4.1-2\n", {"gcc", "make"}),
    ("apk", "gcc\nmake\n", {"gcc", "make"}),
    ("brew", "gcc\nmake\nopenssl@3\n", {"gcc", "make"}),
]


@pytest.mark.parametrize(("pm", "stdout", "installed"), OUTPUTS)
def test_parse_installed(pm, stdout, installed):
    probe = FakeProbe(commands={adapter(pm).query(PKGS)[:1]: ProbeResult(1, stdout)})
    assert adapter(pm).installed(probe, PKGS) == installed


NOW = 1_700_000_000.0

FRESHNESS = [
    # manager, files with mtimes (age in hours), expected age in hours (None: no index)
    ("apt", {"/var/lib/apt/lists/a_Packages.lz4": 3, "/var/lib/apt/lists/b_Packages": 30}, 3),
    ("apt", {"/var/lib/apt/lists/lock": 1}, None),
    ("pacman", {"/var/lib/pacman/sync/core.db": 50, "/var/lib/pacman/sync/extra.db": 49}, 49),
    ("pacman", {}, None),
    ("apk", {"/var/cache/apk/APKINDEX.a1b2.tar.gz": 5}, 5),
    ("dnf", {}, 0),  # dnf expires its metadata itself
    ("zypper", {}, 0),
]


@pytest.mark.parametrize(("pm", "files", "hours"), FRESHNESS)
def test_index_age(pm, files, hours):
    probe = FakeProbe(mtimes={p: NOW - h * 3600 for p, h in files.items()}, clock=NOW)
    age = adapter(pm).index_age(probe)
    assert (None if age is None else round(age / 3600)) == hours


def test_apt_repair_after_an_interrupted_dpkg():
    assert adapter("apt").repair(FakeProbe()) is None
    cmd = adapter("apt").repair(FakeProbe(mtimes={"/var/lib/dpkg/updates/0001": NOW}))
    assert cmd is not None and cmd.argv == ("dpkg", "--configure", "-a") and cmd.sudo


def test_homebrew_and_winget_never_ask_for_root():
    for pm in ("brew", "winget"):
        assert not any(c.sudo for c in adapter(pm).install(["x"]))
