"""Shared fixtures: the repo on sys.path, paths to fixture trees."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PRESETS = REPO / "provision" / "platforms" / "presets"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def own_home(tmp_path, monkeypatch):
    """HOME and the XDG directories inside tmp_path: a command the test starts writes its logs,
    state and caches there, never in the user's home."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (("XDG_STATE_HOME", ".local/state"), ("XDG_CACHE_HOME", ".cache"), ("XDG_DATA_HOME", ".local/share"),
                     ("XDG_CONFIG_HOME", ".config")):
        monkeypatch.setenv(var, str(home / sub))
    return home


def healthy_venv(venv: str, want: dict, *, windows: bool = False) -> dict[str, str]:
    """The files of a venv the kit built and that still works (for a FakeProbe): stamp, pyvenv.cfg, interpreter, site-packages."""
    import json

    from provision.atomic import STAMP
    from provision.atomic import inputs_digest as digest

    base = str(want["python"])
    sep = "\\" if windows else "/"
    home = base.rsplit(sep, 1)[0]
    site = sep.join([venv, "Lib", "site-packages"]) if windows else f"{venv}/lib/python{want['python_version']}/site-packages"
    return {
        f"{venv}/{STAMP}": json.dumps({"digest": digest(want), "inputs": want}),
        f"{venv}{sep}pyvenv.cfg": f"home = {home}\nversion = {want['python_version']}.2\n",
        (venv + "\\Scripts\\python.exe") if windows else f"{venv}/bin/python": "",
        site: "",  # the directory (FakeProbe knows a directory by a file below it only with "/")
        base: "",
    }


@pytest.fixture(autouse=True)
def _no_resolver_probe(request, monkeypatch):
    """Unit tests never run pip's resolver against the network: ./bootstrap runs started by
    a test plan without the prediction (tests/test_predict.py calls it directly, pip faked)."""
    if request.node.get_closest_marker("e2e") is None:
        monkeypatch.setenv("PROVISION_PREDICT", "0")


@pytest.fixture(autouse=True)
def _no_index_lookup(request, monkeypatch):
    """Unit tests never ask the package index: explain's lookup is off for commands they start
    (PROVISION_EXPLAIN_OFFLINE), and its one door to the network (index_lookup._urlopen) fails
    the test if anything still reaches it. Tests feed recorded responses instead (fakes.RecordedFetch)."""
    if request.node.get_closest_marker("e2e") is not None:
        yield
        return
    from provision.diagnose import index_lookup

    monkeypatch.setenv(index_lookup.OFFLINE_VAR, "1")
    reached: list[str] = []

    def closed(opener, req, timeout):
        reached.append(req.full_url)
        raise OSError("unit tests do not reach the package index")

    monkeypatch.setattr(index_lookup, "_urlopen", closed)
    yield
    assert not reached, f"a unit test reached for the package index: {reached}"


@pytest.fixture(autouse=True)
def _memo_in_tmp(tmp_path_factory, monkeypatch):
    """The answers the kit keeps between runs (provision.memo) start empty in each test, in a
    directory of their own, never in the user's cache."""
    from provision import memo

    where = str(tmp_path_factory.mktemp("memo", numbered=True) / "memo")
    monkeypatch.setattr(memo, "directory", lambda: where)
    monkeypatch.setattr(memo, "_pending", {})


# The fixture projects under fixtures/projects carry their own tests, run in their own venvs
# (fixtures/projects/verify.py), never in this suite.
collect_ignore_glob = ["fixtures/projects/*"]
