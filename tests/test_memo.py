"""Answers kept between runs (provision.memo): packaging's answers and TOML parses, never stale."""

from __future__ import annotations

import builtins
import os
import sys

import pytest

from provision import fastpath, memo, toml
from provision.errors import ConfigError
from provision.machine import identity, pyprobe
from provision.platforms.pkgmgr import ADAPTERS
from provision.project import versions


@pytest.fixture
def fresh_answers(monkeypatch):
    """The answers as a new process finds them: nothing in memory, the kept file on disk."""
    monkeypatch.setattr(versions, "_answers", None)
    monkeypatch.setattr(memo, "_pending", {})


def no_import(monkeypatch, *names: str) -> None:
    """Importing any of ``names`` fails: proves an answer came from the kept file."""
    real = builtins.__import__

    def guarded(name, *args, **kwargs):
        if any(name == n or name.startswith(n + ".") for n in names):
            raise AssertionError(f"imported {name}")
        return real(name, *args, **kwargs)

    for n in list(sys.modules):
        if any(n == x or n.startswith(x + ".") for x in names):
            monkeypatch.delitem(sys.modules, n)
    monkeypatch.setattr(builtins, "__import__", guarded)


@pytest.mark.parametrize(
    ("ask", "answer"),
    [
        (lambda: versions.specifier_error(">=3.9"), None),
        (lambda: versions.specifier_error(">=3.9,<4"), None),
        (lambda: versions.specifier_error("3.9") is not None, True),
        (lambda: versions.specifier_error(">=3.9 <4") is not None, True),
        (lambda: versions.contains(">=3.9", "3.11.2"), True),
        (lambda: versions.contains(">=3.10", "3.9.18"), False),
        (lambda: versions.contains(">=1.0.1", "1.0a1", prereleases=True), False),
        (lambda: versions.contains(">=3.12", "3.13.0rc1", prereleases=False), False),
        (lambda: versions.contains(">=3.12", "3.13.0rc1", prereleases=True), True),
        (lambda: versions.normal("<3, >=2"), "<3,>=2"),
        (lambda: versions.canonical_name("Foo_Bar.baz"), "foo-bar-baz"),
        (lambda: str(versions.Range("==1.0, >0.5")), "==1.0,>0.5"),
        (lambda: bool(versions.Range("")), False),
        (lambda: versions.Range(">=1").contains("2"), True),
        (lambda: versions.Range(">=1,<2") == versions.Range("<2, >=1"), True),
    ],
)
def test_packaging_answers_and_the_kept_ones_agree(fresh_answers, monkeypatch, ask, answer):
    assert ask() == answer  # computed by packaging
    memo.flush()
    monkeypatch.setattr(versions, "_answers", None)
    versions._specifier_set.cache_clear()  # nothing parsed in this process either: the answer is the kept one
    no_import(monkeypatch, "packaging.specifiers", "packaging.utils")
    assert ask() == answer  # the same, from the kept file, without packaging's modules


def test_a_damaged_answer_file_is_only_slower(fresh_answers):
    os.makedirs(memo.directory(), exist_ok=True)
    with open(os.path.join(memo.directory(), versions.memo_name()), "w") as f:
        f.write("{not json")
    assert versions.contains(">=3.9", "3.12.1") is True
    memo.flush()
    assert memo.read(versions.memo_name())["contains"] == {">=3.9\n3.12.1\nNone": True}


def test_a_sweep_of_made_up_versions_is_not_kept(fresh_answers):
    versions.contains(">=3.9", "3.10.57", remember=False)
    memo.flush()
    assert memo.read(versions.memo_name()) is None


def test_nothing_is_written_before_flush(fresh_answers, tmp_path):
    versions.canonical_name("Django")
    (tmp_path / "p.toml").write_text('a = 1\n')
    toml.load(tmp_path / "p.toml")
    assert not os.path.exists(memo.directory()) or os.listdir(memo.directory()) == []


@pytest.mark.parametrize(
    ("text", "parsed", "kept"),
    [
        ('[project]\nname = "x"\nrequires-python = ">=3.9"\n', {"project": {"name": "x", "requires-python": ">=3.9"}}, True),
        ("a = [1, 2.5, true]\n[b.c]\nd = 'e'\n", {"a": [1, 2.5, True], "b": {"c": {"d": "e"}}}, True),
        ("when = 1979-05-27\n", None, False),  # a date: JSON cannot keep it, parsed every time
        ("x = inf\n", {"x": float("inf")}, False),
    ],
)
def test_a_toml_parse_is_kept_by_its_bytes(fresh_answers, tmp_path, monkeypatch, text, parsed, kept):
    f = tmp_path / "f.toml"
    f.write_text(text)
    first = toml.load(f)
    if parsed is not None:
        assert first == parsed
    memo.flush()
    names = os.listdir(memo.directory()) if os.path.isdir(memo.directory()) else []
    assert bool([n for n in names if n.startswith("toml-")]) is kept
    if kept:
        with monkeypatch.context() as m:
            m.setattr(toml, "_tomllib", lambda: pytest.fail("parsed again"))
            assert toml.load(f) == first
        f.write_text("extra = 1\n" + text)  # other bytes, same name: parsed again, never the old answer
        assert toml.load(f)["extra"] == 1


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"a = \n", "is not valid TOML"), (b"a = '\xff'\n", "is not UTF-8"), (b"a = " + b"[" * 5000 + b"]" * 5000, "too deeply")],
)
def test_bad_toml_is_a_config_error_and_nothing_is_kept(fresh_answers, tmp_path, content, fragment):
    f = tmp_path / "bad.toml"
    f.write_bytes(content)
    with pytest.raises(ConfigError, match=fragment):
        toml.load(f)
    assert memo._pending == {}


OS_RELEASE = 'NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'


@pytest.mark.parametrize(
    ("where", "text", "kept"),
    [
        ("etc/os-release", OS_RELEASE, True),
        ("usr/lib/os-release", OS_RELEASE, True),  # the file distro falls back to
        ("etc/os-release", OS_RELEASE.replace("VERSION_CODENAME=bookworm\n", ""), False),  # distro reads more files
    ],
)
def test_the_os_identity_is_kept_by_the_files_bytes(fresh_answers, tmp_path, monkeypatch, where, text, kept):
    (tmp_path / where).parent.mkdir(parents=True)
    (tmp_path / where).write_text(text)
    first = identity.read_identity(tmp_path, system="Linux")
    assert (first.distro_id, first.distro_version) == ("debian", "12")
    memo.flush()
    names = os.listdir(memo.directory()) if os.path.isdir(memo.directory()) else []
    assert any(n.startswith("identity-") for n in names) is kept
    if kept:
        with monkeypatch.context() as m:
            no_import(m, "distro")
            assert identity.read_identity(tmp_path, system="Linux") == first
        (tmp_path / where).write_text(text.replace('"12"', '"13"').replace("bookworm", "trixie"))
        assert identity.read_identity(tmp_path, system="Linux").distro_version == "13"  # other bytes: read again


def test_old_files_of_a_kind_are_pruned(fresh_answers):
    for i in range(5):
        memo.write(f"toml-{i}.json", {"i": i}, keep=3)
    memo.write("packaging-x.json", {}, keep=3)
    names = sorted(os.listdir(memo.directory()))
    assert len([n for n in names if n.startswith("toml-")]) == 3 and "packaging-x.json" in names


# -- the no-op's package query, started early -----------------------------------------------


def test_every_package_managers_query_may_start_early():
    for name, a in ADAPTERS.items():
        assert a.query(["x"])[0] in pyprobe.QUERY_TOOLS, name


def test_a_query_started_early_answers_the_run(monkeypatch):
    monkeypatch.setattr(pyprobe, "QUERY_TOOLS", frozenset({sys.executable}))
    argv = [sys.executable, "-c", "print('early')"]
    pyprobe.prefetch_queries([argv, ["sh", "-c", "echo not a query tool"]])
    assert list(pyprobe._queries) == [tuple(argv)]
    assert pyprobe.run_bounded(argv, 10) == (0, "early\n", "")
    assert pyprobe._queries == {} and pyprobe.asked[-1] == tuple(argv)


def test_queries_are_remembered_per_run_and_only_from_a_private_file(tmp_path, monkeypatch):
    path = tmp_path / "state" / "noop-queries.json"
    monkeypatch.setattr(fastpath, "queries_file", lambda: str(path))
    asked = [("dpkg-query", "-W", "pipx")]
    fastpath.remember_queries("k", [], asked)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert fastpath.earlier_queries("k") == [["dpkg-query", "-W", "pipx"]] and fastpath.earlier_queries("other") == []
    path.chmod(0o666)
    assert fastpath.earlier_queries("k") == [], "a file others can write is never read"


def test_a_ca_bundles_verdict_is_kept_by_its_bytes_and_a_key_never(tmp_path, monkeypatch):
    import base64

    from provision import certs

    pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(b"\x30\x82\x01\x0a" + b"\x00" * 10) + b"-----END CERTIFICATE-----\n"
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pem)
    first = certs.fingerprint(ca)
    memo.flush()
    with monkeypatch.context() as m:
        m.setattr(certs, "pem_certificates", lambda *a, **k: pytest.fail("decoded again"))
        assert certs.fingerprint(ca) == first
    key = b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
    ca.write_bytes(pem + key)  # other bytes: judged again, and refused every time
    for _ in range(2):
        with pytest.raises(ConfigError, match="PRIVATE KEY"):
            certs.fingerprint(ca)
        memo.flush()
