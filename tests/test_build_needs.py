"""The build-needs table: it loads, every need it names resolves on every platform (or is
declared unavailable there), known distribution -> package pairs, strict validation."""

from __future__ import annotations

import pytest
from packaging.utils import canonicalize_name

from provision import toml
from provision.command import valid_package_name
from provision.errors import ConfigError
from provision.platforms import profiles
from provision.project import build_needs

LINUX = ("debian", "ubuntu", "fedora", "rhel", "opensuse", "arch", "alpine")
FULL = (*LINUX, "macos")  # every need must be mapped or declared unavailable
# releases whose overrides change needs: each is checked on its own as well
RELEASES = [(p, "") for p in (*FULL, "windows")] + [("debian", "11"), ("debian", "13"), ("rhel", "8"), ("opensuse", "15.6")]

ENTRIES = build_needs.entries()
ALL_NEEDS = sorted({n for e in ENTRIES for kind in build_needs.NEED_KINDS for n in getattr(e, kind)})


def test_table_loads_and_is_big_enough():
    assert len(ENTRIES) >= 45
    assert build_needs.data_path(build_needs.FILE).is_file()


def test_names_are_canonical_and_unique():
    raw = toml.load(build_needs.data_path(build_needs.FILE))["packages"]
    names = list(raw)
    assert names == [canonicalize_name(n) for n in names]
    assert len({canonicalize_name(n) for n in names}) == len(names)


@pytest.mark.parametrize(("profile", "release"), RELEASES)
def test_every_need_resolves_or_is_declared_unavailable(profile, release):
    p = profiles.load(profile, release=release)
    for need in ALL_NEEDS:
        if need in p.needs:
            assert all(valid_package_name(n) for n in p.packages(need)), (profile, need)
        elif profile in FULL:
            assert need in p.unavailable, f"{profile} {release}: '{need}' neither mapped nor in [unavailable]"
            with pytest.raises(ConfigError, match="not available"):
                p.packages(need)
        else:  # windows: a need left out is not available there
            with pytest.raises(ConfigError):
                p.packages(need)


@pytest.mark.parametrize("profile", profiles.available())
def test_package_names_and_repositories_are_valid(profile):
    for release in ("", "8", "11", "13", "15"):
        p = profiles.load(profile, release=release)
        mapped = {n for pkgs in p.needs.values() for n in pkgs}
        assert all(valid_package_name(n) for n in mapped)
        # a repository note is about a package the profile really names
        assert set(p.repositories) <= mapped, set(p.repositories) - mapped
        assert not set(p.needs) & set(p.unavailable)


def test_windows_offers_only_what_winget_or_the_sdk_has():
    win = profiles.load("windows")
    assert {n for n in ALL_NEEDS if n in win.needs} == {"rust", "odbc"}


KNOWN = [
    # distribution, need, profile, packages that must be among the need's
    ("psycopg2", "postgres-client", "debian", "libpq-dev"),
    ("psycopg2", "postgres-client", "fedora", "libpq-devel"),
    ("psycopg2", "postgres-client", "alpine", "libpq-dev"),
    ("psycopg2", "postgres-client", "macos", "libpq"),
    ("pycurl", "curl", "debian", "libcurl4-openssl-dev"),
    ("pycurl", "curl", "fedora", "libcurl-devel"),
    ("pycurl", "curl", "arch", "curl"),
    ("pycurl", "curl", "alpine", "curl-dev"),
    ("pycurl", "curl", "macos", "curl"),
    ("pycurl", "ssl", "debian", "libssl-dev"),
    ("python-ldap", "ldap", "debian", "libldap2-dev"),
    ("python-ldap", "ldap", "fedora", "openldap-devel"),
    ("python-ldap", "ldap", "rhel", "openldap-devel"),
    ("python-ldap", "ldap", "arch", "libldap"),
    ("python-ldap", "sasl", "debian", "libsasl2-dev"),
    ("python-ldap", "sasl", "fedora", "cyrus-sasl-devel"),
    ("python-ldap", "sasl", "alpine", "cyrus-sasl-dev"),
    ("mysqlclient", "mysql-client", "debian", "default-libmysqlclient-dev"),
    ("mysqlclient", "pkg-config", "fedora", "pkgconf-pkg-config"),
    ("pycairo", "cairo", "opensuse", "cairo-devel"),
    ("pygobject", "gobject-introspection", "fedora", "gobject-introspection-devel"),
    ("lxml", "xml", "debian", "libxslt1-dev"),
    ("pillow", "jpeg", "debian", "libjpeg-dev"),
    ("pillow", "zlib", "alpine", "zlib-dev"),
    ("cffi", "ffi", "arch", "libffi"),
    ("cryptography", "rust", "debian", "cargo"),
    ("gssapi", "krb5", "debian", "libkrb5-dev"),
    ("gssapi", "krb5", "fedora", "krb5-devel"),
    ("pyodbc", "odbc", "debian", "unixodbc-dev"),
    ("pyodbc", "odbc", "fedora", "unixODBC-devel"),
    ("pyodbc", "odbc", "macos", "unixodbc"),
    ("h5py", "hdf5", "debian", "libhdf5-dev"),
    ("h5py", "hdf5", "alpine", "hdf5-dev"),
    ("dbus-python", "dbus", "debian", "libdbus-1-dev"),
    ("dbus-python", "dbus", "opensuse", "dbus-1-devel"),
    ("pyaudio", "portaudio", "debian", "portaudio19-dev"),
    ("pyaudio", "portaudio", "macos", "portaudio"),
    ("pygraphviz", "graphviz", "debian", "libgraphviz-dev"),
    ("pygraphviz", "graphviz", "fedora", "graphviz-devel"),
    ("python-magic", "magic", "macos", "libmagic"),
    ("python-magic", "magic", "fedora", "file-libs"),
    ("m2crypto", "swig", "debian", "swig"),
    ("xmlsec", "xmlsec", "debian", "libxmlsec1-dev"),
    ("xmlsec", "xmlsec", "macos", "libxmlsec1"),
    ("pycups", "cups", "debian", "libcups2-dev"),
    ("evdev", "linux-headers", "alpine", "linux-headers"),
    ("systemd-python", "systemd", "debian", "libsystemd-dev"),
    ("systemd-python", "systemd", "fedora", "systemd-devel"),
    ("mod-wsgi", "apache", "debian", "apache2-dev"),
    ("mod-wsgi", "apache", "fedora", "httpd-devel"),
    ("scipy", "fortran", "debian", "gfortran"),
    ("scipy", "blas", "fedora", "openblas-devel"),
    ("shapely", "geos", "debian", "libgeos-dev"),
    ("pymssql", "freetds", "debian", "freetds-dev"),
]


@pytest.mark.parametrize(("dist", "need", "profile", "package"), KNOWN)
def test_known_pairs(dist, need, profile, package):
    assert need in build_needs.needs_for(dist, built_from_source=True, include_optional=True)
    assert package in profiles.load(profile).packages(need)


RESULTS = [
    # distribution (any spelling), built from source?, needs
    ("psycopg2", True, ("postgres-client",)),
    ("psycopg2", False, ()),
    ("python-magic", False, ("magic",)),
    ("python_magic", True, ("magic",)),
    ("Python-LDAP", True, ("ldap", "sasl")),
    ("pyyaml", True, ()),  # libyaml is optional
    ("pyyaml", False, ()),
    ("soundfile", False, ("sndfile",)),
    ("cryptography", False, ()),
    ("markupsafe", True, ()),
    ("no-such-distribution", True, ()),
]


@pytest.mark.parametrize(("dist", "source", "expected"), RESULTS)
def test_needs_for(dist, source, expected):
    assert build_needs.needs_for(dist, built_from_source=source) == expected


def test_optional_needs_on_request():
    assert build_needs.needs_for("pyyaml", built_from_source=True, include_optional=True) == ("yaml",)
    assert build_needs.needs_for("pyyaml", built_from_source=False, include_optional=True) == ()
    assert build_needs.lookup("cx_Oracle").manual


BAD = [
    # file text, message fragment
    ('[packages.psycopg2]\nbuild = ["postgres-client"]\ncolour = "red"\n', "unknown key 'packages.psycopg2.colour'"),
    ('[packages.Psycopg2]\nbuild = ["postgres-client"]\n', "'packages.Psycopg2' is not a normalised"),
    ('[packages.python_ldap]\nbuild = ["ldap"]\n', "Write it as 'python-ldap'"),
    ('[packages.psycopg2]\nbuild = "postgres-client"\n', "must be a list of need names"),
    ('[packages.psycopg2]\nbuild = ["Postgres Client"]\n', "must be a list of need names"),
    ('[packages.psycopg2]\nbuild = ["ssl", "ssl"]\n', "names a need twice"),
    ('[packages.psycopg2]\nnote = ""\n', "'packages.psycopg2.note' must be a non-empty string"),
    ("[packages]\npsycopg2 = 1\n", "'packages.psycopg2' must be a table"),
    ('[pkgs.psycopg2]\nbuild = ["ssl"]\n', "unknown key 'pkgs'"),
    ("[packages\n", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD)
def test_malformed_table(tmp_path, text, fragment):
    path = tmp_path / "build-needs.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        build_needs.load(path)
    assert fragment in str(e.value)
    assert str(path) in str(e.value)


PROFILE = """
name = "x"
package-manager = "dnf"
[needs]
build-tools = ["gcc"]
python-headers = ["python3-devel"]
venv = []
pipx = ["pipx"]
hdf5 = ["hdf5-devel"]
[unavailable]
systemd = "no systemd here"
[repositories]
hdf5-devel = "epel"
[release."8".needs]
systemd = ["systemd-devel"]
[release."8".unavailable]
hdf5 = "not in EL8"
[release."8".repositories]
hdf5-devel = "powertools"
"""


def test_profile_unavailable_and_repositories(tmp_path):
    (tmp_path / "x.toml").write_text(PROFILE)
    base = profiles.load("x", tmp_path)
    assert base.unavailable == {"systemd": "no systemd here"} and base.repositories == {"hdf5-devel": "epel"}
    with pytest.raises(ConfigError, match="not available on the 'x' platform: no systemd here"):
        base.packages("systemd")
    el8 = profiles.load("x", tmp_path, release="8.9")
    assert el8.packages("systemd") == ("systemd-devel",) and "hdf5" in el8.unavailable and "hdf5" not in el8.needs
    assert el8.repositories == {"hdf5-devel": "powertools"}


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ('[unavailable]\nhdf5 = "gone"\n', "hdf5 both in [needs] and in [unavailable]"),
        ("[unavailable]\nfoo = 1\n", "'unavailable.foo' must be a non-empty string"),
        ('[repositories]\n"bad name" = "crb"\n', "invalid package name"),
    ],
)
def test_profile_bad_unavailable_or_repositories(tmp_path, extra, fragment):
    text = PROFILE.split("[unavailable]")[0] + extra
    (tmp_path / "x.toml").write_text(text)
    with pytest.raises(ConfigError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        profiles.load("x", tmp_path)


def test_build_needs_file_is_not_a_profile():
    assert "build-needs" not in profiles.available()
