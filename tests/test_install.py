"""./bootstrap install: pip in the project venv (MockContext), explained, fixed through the runner."""

from __future__ import annotations

import io
import json
import shlex
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import FakeProbe
from invoke import MockContext, Result

from provision import install as inst
from provision.diagnose.fixes import Machine
from provision.errors import ProvisionError
from provision.machine.probe import ProbeResult
from provision.platforms import presets, profiles
from provision.project import config as config_mod
from provision.steps import Options, StepEnv

PIPLOGS = Path(__file__).resolve().parent / "fixtures" / "piplogs"
PSYCOPG2 = (PIPLOGS / "debian12" / "psycopg2-no-libpq.log").read_text()
FACTS = presets.load("debian:12")
PROFILE = profiles.resolve(FACTS).profile
WHERE = Machine(FACTS, PROFILE)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "provision.toml").write_text('venv = ".venv"\n')
    py = tmp_path / ".venv" / "bin" / "python"
    py.parent.mkdir(parents=True)
    py.write_text("")
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return tmp_path


def pip_cmd(project: Path, *extra: str) -> str:
    return shlex.join(inst.pip_argv(str(project / ".venv" / "bin" / "python"), ["psycopg2"], *extra))


def fix_env_for(project: Path, installed: tuple[str, ...] = ("build-essential", "python3-dev", "python3-venv", "pipx")):
    probe = FakeProbe(
        commands={("dpkg-query",): ProbeResult(0, "".join(f"{p}\tii \n" for p in installed)),
                  ("apt-cache", "policy"): ProbeResult(0, "libpq-dev:\n  Installed: (none)\n  Candidate: 15.8-0+deb12u1\n")},
        mtimes={"/var/lib/apt/lists/deb_dists_bookworm_main_binary-amd64_Packages": 1_700_000_000.0 - 60},
    )
    seen: list[tuple[str, ...]] = []

    def make(needs):
        seen.append(tuple(needs))
        cfg = config_mod.load(project)
        cfg = replace(cfg, needs=cfg.needs + tuple(needs))
        env = StepEnv(FACTS, PROFILE, cfg, probe, FACTS.default_python, Options(dry_run=True))
        return env, lambda: env

    return make, seen, probe


def run(ctx, project, **kw):
    out = io.StringIO()
    code = inst.install(ctx, ["psycopg2"], project=str(project), out=out, where=WHERE, log_file=str(project / "install.log"), **kw)
    return code, out.getvalue()


def test_pip_failure_is_explained(project):
    ctx = MockContext(run={pip_cmd(project): Result(stdout=PSYCOPG2, exited=1)})
    code, out = run(ctx, project)
    assert code == 1
    assert "missing-native-library (postgres-client)" in out
    assert "sudo apt-get install libpq-dev" in out
    assert "--fix" in out
    assert "pg_config executable not found" in (project / "install.log").read_text()


def test_fix_dry_run_prints_the_apt_command_and_runs_nothing(project):
    ctx = MockContext(run={pip_cmd(project, "--dry-run"): Result(stdout=PSYCOPG2, exited=1)})
    make, seen, probe = fix_env_for(project)
    code, out = run(ctx, project, fix=True, dry_run=True, fix_env=make)
    assert code == 0, out
    assert seen == [("postgres-client",)]
    apt = [ln for ln in out.splitlines() if "apt-get" in ln and " install " in ln and ln.strip().startswith("$ sudo")]
    assert apt and apt[-1].split()[-1] == "libpq-dev", out
    assert "would then retry" in out and "--no-cache-dir" in out
    assert ctx.run.call_count == 1  # only pip's --dry-run ran; the package manager did not  # type: ignore[attr-defined]
    assert all(c[0] in ("dpkg-query", "apt-cache") for c in probe.asked)


def real_fix_env(project):
    """A fix run that really runs (not a dry run, passwordless sudo), after which dpkg-query
    finds the base packages and libpq-dev installed."""
    make, _, _ = fix_env_for(project)

    def make_real(needs):
        env, _ = make(needs)
        env = replace(env, options=Options(dry_run=False), facts=replace(FACTS, sudo="nopasswd"))
        done = replace(env, probe=FakeProbe(commands={("dpkg-query",): ProbeResult(0, "".join(
            f"{p}\tii \n" for p in ("build-essential", "python3-dev", "python3-venv", "pipx", "libpq-dev")))}))
        return env, lambda: done

    return make_real


def test_fix_installs_then_retries_without_the_cache(project):
    calls = []

    def fake_run(command, **kw):
        calls.append(command)
        if command == pip_cmd(project):
            return Result(stdout=PSYCOPG2, exited=1)
        if command == pip_cmd(project, "--no-cache-dir"):
            return Result(stdout="Successfully installed psycopg2-2.9.10\n", exited=0)
        assert "apt-get" in command and "libpq-dev" in command, command
        return Result(exited=0)

    ctx = MockContext(run=Result())
    ctx.run.side_effect = fake_run  # type: ignore[attr-defined]
    code, out = run(ctx, project, fix=True, yes=True, fix_env=real_fix_env(project))
    assert code == 0, out
    assert [c.split()[0] for c in calls] == [str(project / ".venv/bin/python"), "sudo", str(project / ".venv/bin/python")]
    assert "libpq-dev" in calls[1] and calls[2].endswith("--no-cache-dir psycopg2")
    assert "installed" in out.splitlines()[-2] or "installed" in out


def test_a_fix_that_did_not_help_is_not_offered_again(project):
    """After --fix and the retry, pip failing the same way is explained without './bootstrap
    install … --fix': that is the very command that just failed."""
    def fake_run(command, **kw):
        return Result(stdout=PSYCOPG2, exited=1) if ".venv/bin/python" in command else Result(exited=0)

    ctx = MockContext(run=Result())
    ctx.run.side_effect = fake_run  # type: ignore[attr-defined]
    code, out = run(ctx, project, fix=True, yes=True, fix_env=real_fix_env(project))
    assert code == 1 and "pip still fails after the fix" in out, out
    assert "./bootstrap install" not in out.split("pip still fails after the fix", 1)[1], out


def test_json_report(project):
    ctx = MockContext(run={pip_cmd(project): Result(stdout=PSYCOPG2, exited=1)})
    out = io.StringIO()
    code = inst.install(ctx, ["psycopg2"], project=str(project), out=out, where=WHERE, as_json=True, log_file=str(project / "i.log"))
    data = json.loads(out.getvalue())
    assert code == 1 and data["exit"] == 1
    assert data["findings"][0]["need"] == "postgres-client"
    assert data["attempts"][0]["exit"] == 1


def test_no_venv_is_a_clear_error(tmp_path):
    (tmp_path / "provision.toml").write_text('venv = ".venv"\n')
    with pytest.raises(ProvisionError, match="run ./bootstrap first|Run ./bootstrap first"):
        inst.install(MockContext(), ["six"], project=str(tmp_path), out=io.StringIO(), where=WHERE)


def test_options_are_not_packages(project):
    with pytest.raises(ProvisionError, match="is an option"):
        inst.install(MockContext(), ["--index-url=x"], project=str(project), out=io.StringIO(), where=WHERE)


def test_needs_from_findings():
    from provision.diagnose import Finding

    found = [Finding("missing-compiler"), Finding("missing-native-library", "postgres-client"), Finding("ssl-certificate")]
    assert inst.needs_of(found) == ["build-tools", "postgres-client"]
