"""The no-op fast path: it confirms a provisioned machine without invoke, or hands over untouched."""

from __future__ import annotations

import io
import os
from dataclasses import replace

import pytest

from provision import fastpath, session
from provision.machine.probe import ProbeResult
from provision.run.lock import exclusive
from provision.run.runner import NotConverged
from tests.test_platform_plans import everything_present

CA = "/etc/corp.pem"


@pytest.mark.parametrize(
    ("argv", "options"),
    [
        (["bootstrap"], {}),
        (["bootstrap", "--yes", "--json"], {"yes": True, "as_json": True}),
        (["bootstrap", "--ca-bundle", CA], {"ca_bundle": CA}),
        (["bootstrap", f"--ca-bundle={CA}", "--python=3.11"], {"ca_bundle": CA, "python": "3.11"}),
        (["bootstrap", "--project", "/src/app", "--profile", "debian"], {"project": "/src/app", "profile": "debian"}),
        (["bootstrap", "--refresh-after", "6"], {"refresh_after": 6 * 3600.0}),
        (["bootstrap", "--python-downloads"], {"python_downloads": True}),
        # everything else is invoke's: changes, other tasks, short flags, errors to word
        (["bootstrap", "--dry-run"], None),
        (["bootstrap", "--platform", "fedora:40"], None),
        (["bootstrap", "-y"], None),
        (["bootstrap", "--refresh-after", "1.5"], {"refresh_after": 1.5 * 3600}),  # hours may be fractional
        (["bootstrap", "--refresh-after=0"], {"refresh_after": 0.0}),
        (["bootstrap", "--refresh-after", "abc"], None),  # invoke's task words the error
        (["bootstrap", "--refresh-after", "nan"], None),
        (["bootstrap", "--refresh-after", "inf"], None),
        (["bootstrap", "--refresh-after=-1"], None),
        (["bootstrap", "--ca-bundle"], None),
        (["bootstrap", "--ca-bundle", "--yes"], None),
        (["bootstrap", "--yes=1"], None),
        (["bootstrap", "--help"], None),
        (["--echo", "bootstrap"], None),
        (["doctor"], None),
        ([], None),
    ],
)
def test_parse(argv, options):
    assert fastpath.parse(argv) == options


def test_hands_anything_else_to_invoke(monkeypatch):
    called = []

    def execv(path, argv):
        called.append(argv)
        raise SystemExit(0)

    monkeypatch.setattr(os, "execv", execv)
    with pytest.raises(SystemExit):
        fastpath.main(["bootstrap", "--dry-run"])
    assert called and called[0][1:] == ["-m", "invoke", "--search-root", str(fastpath.REPO), "bootstrap", "--dry-run"]


@pytest.fixture()
def provisioned(tmp_path, monkeypatch):
    """session.bootstrap on a (canned) Debian 12 machine that has everything; the probe is returned to edit."""
    (tmp_path / "provision.toml").write_text('pipx = ["ruff"]\n')
    prepared = session.prepare(None, project=str(tmp_path), platform="debian:12", dry_run=True)
    probe = everything_present(prepared, "debian:12")
    env = prepared.env
    facts = replace(env.facts, path=(*env.facts.path, f"{env.facts.home}/.local/bin"), is_root=True, sudo="root", preset=None)
    env = replace(env, probe=probe, facts=facts, python=replace(env.python, cafile="/x/cert.pem", cafile_exists=True))
    prepared = session.Prepared(facts, prepared.resolution, env, prepared.plan)
    monkeypatch.setattr(session, "prepare", lambda *a, **k: prepared)
    monkeypatch.setattr(session, "log_path", lambda kind: str(tmp_path / "log" / "run.log"))
    monkeypatch.setattr(session, "lock_path", lambda: str(tmp_path / "state" / "bootstrap.lock"))
    return tmp_path, probe


def confirm(**kw):
    out, err = io.StringIO(), io.StringIO()
    code = session.bootstrap(None, out=out, err=err, confirm_only=True, **kw)
    return code, out.getvalue(), err.getvalue()


def test_confirms_a_provisioned_machine(provisioned):
    tmp, _ = provisioned
    code, out, _ = confirm(yes=True)
    assert code == 0
    assert "recap: ok=4 changed=0 failed=0 skipped=3" in out  # no CA given: its two steps are skipped
    assert (tmp / "log" / "run.log").read_text().startswith("provision bootstrap")


def test_confirms_as_json(provisioned):
    code, out, err = confirm(yes=True, as_json=True)
    assert code == 0 and '"changed": 0' in out and "recap:" in err


@pytest.mark.parametrize(
    "gap",
    [
        "package",  # python3-dev removed: the packages step has a command
        "venv",  # the stamp is gone: the venv step would rebuild
    ],
)
def test_anything_to_do_goes_to_the_runner(provisioned, gap):
    tmp, probe = provisioned
    if gap == "package":
        listing = probe.commands[("dpkg-query",)].stdout.replace("python3-dev\tii \n", "")
        probe.commands[("dpkg-query",)] = ProbeResult(0, listing)
    else:
        del probe.files[next(f for f in probe.files if f.endswith(".provision-stamp.json"))]
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(NotConverged):
        session.bootstrap(None, out=out, err=err, confirm_only=True, yes=True)
    assert not list((tmp / "log").iterdir()), "the log it began is removed: the real run writes its own"
    assert [c for c in probe.asked if c[0] not in ("dpkg-query", "apt-cache")] == []


def test_another_run_holding_the_lock_goes_to_the_runner(provisioned):
    tmp, _ = provisioned
    with exclusive(str(tmp / "state" / "bootstrap.lock")), pytest.raises(NotConverged):
        confirm(yes=True)


def test_the_options_are_declared_once_for_the_task_and_the_fast_path():
    import inspect

    from provision.cli.bootstrap import bootstrap as task
    from provision.options import BOOTSTRAP_OPTIONS

    params = [p.replace("_", "-") for p in inspect.signature(task.body).parameters if p != "c"]
    assert sorted(params) == sorted(BOOTSTRAP_OPTIONS)
    assert set(fastpath.VALUED) | set(fastpath.FLAGS) == {f"--{n}" for n, (_, kind, _) in BOOTSTRAP_OPTIONS.items() if kind != "plan"}
