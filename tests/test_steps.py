"""Steps as tables: facts and canned probe answers in, argv out."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import FakeProbe

from provision.atomic import BUILDING, STAMP
from provision.atomic import inputs_digest as digest
from provision.errors import ProvisionError
from provision.machine.probe import FreshProbe, ProbeResult
from provision.platforms import presets, profiles
from provision.project import config, interpreter
from provision.steps import Options, StepEnv
from provision.steps.packages import SystemPackages
from provision.steps.pipx import PipxOnPath, PipxTools
from provision.steps.venv import ProjectVenv, inputs
from tests.conftest import healthy_venv

NOW = 1_700_000_000.0


HOUR = 3600.0


def make_env(tmp_path: Path, key: str = "debian:12", probe=None, pyproject: str = "", **opts) -> StepEnv:
    (tmp_path / "pyproject.toml").write_text(pyproject or '[tool.provision]\nrequirements = ["requirements.txt"]\npipx = ["ruff==0.6.9", "pre-commit"]\n')
    (tmp_path / "requirements.txt").write_text("six\n")
    facts = presets.load(key)
    prof = profiles.resolve(facts).profile
    cfg = config.load(tmp_path)
    py, from_pkgs = interpreter.choose(facts, cfg, prof)
    return StepEnv(facts, prof, cfg, probe or FreshProbe(), py, Options(preset=False, **opts), from_pkgs)


def dpkg(installed: list[str]) -> ProbeResult:
    return ProbeResult(0, "".join(f"{p}\tii \n" for p in installed))


APT_INSTALL = ("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-q", "-o", "DPkg::Lock::Timeout=300",
               "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold", "install", "-y", "--no-install-recommends")
APT_UPDATE = ("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-q", "-o", "DPkg::Lock::Timeout=300", "update")
LISTS = "/var/lib/apt/lists/deb_dists_bookworm_main_binary-amd64_Packages"

PACKAGE_CASES = [
    # name, installed, index age (h) or None, apt-cache policy output, expected argv list
    ("all present", ["build-essential", "python3-dev", "python3-venv", "pipx"], 1, "", []),
    ("fresh index, two missing", ["build-essential", "python3-venv"], 1,
     "python3-dev:\n  Candidate: 3.11.2-1+b1\npipx:\n  Candidate: 1.1.0-1\n",
     [(*APT_INSTALL, "python3-dev", "pipx")]),
    ("stale index", ["build-essential"], 48, "", [APT_UPDATE, (*APT_INSTALL, "python3-dev", "python3-venv", "pipx")]),
    ("no index at all", [], None, "", [APT_UPDATE, (*APT_INSTALL, "build-essential", "python3-dev", "python3-venv", "pipx")]),
    ("fresh index but no candidate", ["build-essential", "python3-dev", "python3-venv"], 1, "pipx:\n  Candidate: (none)\n",
     [APT_UPDATE, (*APT_INSTALL, "pipx")]),
]


@pytest.mark.parametrize(("name", "installed", "age", "policy", "expected"), PACKAGE_CASES, ids=[c[0] for c in PACKAGE_CASES])
def test_system_packages_apt(tmp_path, name, installed, age, policy, expected):
    probe = FakeProbe(
        commands={("dpkg-query",): dpkg(installed), ("apt-cache", "policy"): ProbeResult(0, policy)},
        mtimes={} if age is None else {LISTS: NOW - age * HOUR},
        clock=NOW,
    )
    env = make_env(tmp_path, "debian:12", probe, pyproject="[tool.provision]\n")
    change = SystemPackages().check(env)
    assert [c.argv_for(is_root=True) for c in change.commands] == expected
    assert all(c.sudo for c in change.commands)
    # one batch probe for all packages
    assert sum(1 for a in probe.asked if a[0] == "dpkg-query") == 1


def summary(argv: tuple[str, ...]) -> str:
    """'apt-get install a b' from the full argv: the tool, the verb and the packages."""
    verbs = ("-S", "-Syu")  # pacman's verbs are flags
    words = [a for a in argv if (a in verbs or not a.startswith("-")) and "=" not in a and a not in ("env", "sudo", "DPkg::Lock::Timeout=300")]
    return " ".join(words)


# the first run's exact argv and the everything-present no-op, per platform: tests/test_platform_plans.py


def test_project_needs_join_the_one_transaction(tmp_path):
    env = make_env(tmp_path, "debian:12", pyproject='[tool.provision]\nneeds = ["postgres-client", "cairo"]\n')
    cmds = SystemPackages().check(env).commands
    assert summary(cmds[-1].argv_for(is_root=True)).endswith("pipx libpq-dev libcairo2-dev")


def test_fedora_renders_needs_for_fedora(tmp_path):
    env = make_env(tmp_path, "fedora:40", pyproject='[tool.provision]\nneeds = ["postgres-client"]\n')
    assert "libpq-devel" in SystemPackages().check(env).commands[-1].argv


def test_pipx_tools_from_metadata(tmp_path):
    meta = json.dumps({"main_package": {"package_version": "0.6.9"}})
    home = "/home/dev"
    probe = FakeProbe(files={f"{home}/.local/share/pipx/venvs/ruff/pipx_metadata.json": meta}, on_path={"pipx": "/usr/bin/pipx"})
    env = make_env(tmp_path, "debian:12", probe)
    change = PipxTools().check(env)
    assert [c.argv for c in change.commands] == [("/usr/bin/pipx", "install", "pre-commit")]
    old = json.dumps({"main_package": {"package_version": "0.5.0"}})
    probe.files[f"{home}/.local/share/pipx/venvs/pre-commit/pipx_metadata.json"] = meta
    probe.files[f"{home}/.local/share/pipx/venvs/ruff/pipx_metadata.json"] = old
    change = PipxTools().check(env)
    assert [c.argv for c in change.commands] == [("/usr/bin/pipx", "install", "--force", "ruff==0.6.9")]


@pytest.mark.parametrize(
    ("files", "path", "expected"),
    [
        ({}, ("/usr/bin",), [("pipx", "ensurepath")]),
        ({}, ("/home/dev/.local/bin", "/usr/bin"), []),
        ({"/home/dev/.bashrc": 'export PATH="$PATH:/home/dev/.local/bin"\n'}, ("/usr/bin",), []),
        ({"/home/dev/.profile": 'PATH="$HOME/.local/bin:$PATH"\n'}, ("/usr/bin",), []),
    ],
)
def test_pipx_on_path(tmp_path, files, path, expected):
    env = make_env(tmp_path, "debian:12", FakeProbe(files=dict(files)))
    env = replace(env, facts=replace(env.facts, path=path))
    assert [c.argv for c in PipxOnPath().check(env).commands] == expected


def venv_env(tmp_path, files):
    probe = FakeProbe(files=files)
    return make_env(tmp_path, "debian:12", probe)


def test_venv_first_build_is_built_aside_verified_then_promoted(tmp_path):
    env = venv_env(tmp_path, {})
    change = ProjectVenv().check(env)
    argvs = [c.argv for c in change.commands]
    stage = f"{tmp_path}/.venv.partial"
    assert argvs[0][2:] == ("stage", stage)  # a marked directory: only what the kit marked is ever discarded
    assert argvs[1] == ("/usr/bin/python3", "-m", "venv", stage)
    # issue #12: only pip; the newest setuptools and wheel would fight the project's own pins
    assert argvs[2][-2:] == ("--upgrade", "pip")
    assert argvs[3][-2:] == ("-r", f"{tmp_path}/requirements.txt")
    assert argvs[4][1].endswith("verify_venv.py")
    assert argvs[5][2:5] == ("promote", stage, f"{tmp_path}/.venv") and "--backup" not in argvs[5]


WHEEL = "/usr/share/python-wheels/pip-23.0.1-py3-none-any.whl"


@pytest.mark.parametrize(
    ("key", "wheel", "create", "pip"),
    [
        # ensurepip's wheel known: no ensurepip install of the old pip; the wheel's pip installs the newest
        ("debian:12", WHEEL, ("-m", "venv", "--without-pip"), (f"{WHEEL}/pip",)),
        ("debian:12", None, ("-m", "venv"), ("-m", "pip")),
        # Windows: the wheel path is not used (zip paths with backslashes), ensurepip as before
        ("windows:11", "C:\\Python312\\Lib\\ensurepip\\_bundled\\pip-24.0-py3-none-any.whl", ("-m", "venv"), ("-m", "pip")),
    ],
)
def test_venv_pip_from_ensurepips_wheel(tmp_path, key, wheel, create, pip):
    env = make_env(tmp_path, key, FakeProbe())
    env = replace(env, python=replace(env.python, pip_wheel=wheel))
    argvs = [c.argv for c in ProjectVenv().check(env).commands][1:]  # after "stage"
    assert argvs[0][1:-1] == create
    assert argvs[1][1:1 + len(pip)] == pip and argvs[1][-2:] == ("--upgrade", "pip")


def test_venv_up_to_date_is_skipped_without_pip(tmp_path):
    env = venv_env(tmp_path, {})
    want = inputs(env)
    stamp = json.dumps({"digest": digest(want), "inputs": want})
    venv = f"{tmp_path}/.venv"
    files = healthy_venv(venv, want)
    assert files[f"{venv}/{STAMP}"] == stamp
    change = ProjectVenv().check(venv_env(tmp_path, files))
    assert change.commands == () and "up to date" in change.reason


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda want: {**want, "requirements": {"requirements.txt": "0"}}, "inputs changed since"),
        (lambda want: {**want, "python_version": "3.9"}, "uses Python 3.9"),
    ],
)
def test_venv_rebuilt_when_inputs_change(tmp_path, mutate, reason):
    env = venv_env(tmp_path, {})
    have = mutate(inputs(env))
    venv = f"{tmp_path}/.venv"
    env = venv_env(tmp_path, healthy_venv(venv, have))
    change = ProjectVenv().check(env)
    assert reason in change.reason and change.commands


def test_venv_interpreter_gone(tmp_path):
    env = venv_env(tmp_path, {})
    want = inputs(env)
    venv = f"{tmp_path}/.venv"
    env = venv_env(tmp_path, {f"{venv}/{STAMP}": json.dumps({"digest": digest(want), "inputs": want})})
    assert "interpreter" in ProjectVenv().check(env).reason


def test_venv_leftovers_are_discarded(tmp_path):
    env = venv_env(tmp_path, {})
    want = inputs(env)
    venv = f"{tmp_path}/.venv"
    files = {**healthy_venv(venv, want), f"{venv}.partial/{BUILDING}": "", f"{venv}.old/{STAMP}": "{}"}
    change = ProjectVenv().check(venv_env(tmp_path, files))
    assert [c.argv[2:] for c in change.commands] == [("discard", f"{venv}.partial", f"{venv}.old")]


def test_venv_leftover_not_made_by_the_kit_is_an_error_not_discarded(tmp_path):
    env = venv_env(tmp_path, {})
    venv = f"{tmp_path}/.venv"
    files = {**healthy_venv(venv, inputs(env)), f"{venv}.partial/pyvenv.cfg": ""}
    with pytest.raises(ProvisionError, match="not made by provision"):
        ProjectVenv().check(venv_env(tmp_path, files))


def _broken(files: dict, venv: str, what: str) -> dict:
    """A healthy venv's files with one part damaged."""
    files = dict(files)
    if what == "pyvenv.cfg":
        del files[f"{venv}/pyvenv.cfg"]
    elif what == "site-packages":
        for f in [f for f in files if "/site-packages" in f]:
            del files[f]
    elif what == "base interpreter":
        del files[next(f for f in files if not f.startswith(venv))]
    elif what == "pyvenv version":
        files[f"{venv}/pyvenv.cfg"] = "home = /usr/bin\nversion = 3.7.3\n"
    elif what == "venv python":
        del files[f"{venv}/bin/python"]
    return files


@pytest.mark.parametrize(
    ("what", "reason"),
    [
        ("pyvenv.cfg", "pyvenv.cfg is gone"),
        ("site-packages", "site-packages is gone"),
        ("base interpreter", "interpreter /usr/bin/python3"),
        ("pyvenv version", "names Python 3.7.3"),
        ("venv python", "the interpreter of"),
    ],
)
def test_broken_venv_with_a_matching_stamp_is_rebuilt(tmp_path, what, reason):
    env = venv_env(tmp_path, {})
    venv = f"{tmp_path}/.venv"
    change = ProjectVenv().check(venv_env(tmp_path, _broken(healthy_venv(venv, inputs(env)), venv, what)))
    assert reason in change.reason and change.commands
    assert change.commands[-1].argv[2] == "promote" and "--backup" not in change.commands[-1].argv, "the kit's own: replaced"


def test_venv_health_probe_runs_no_process(tmp_path):
    env = venv_env(tmp_path, {})
    probe = FakeProbe(files=healthy_venv(f"{tmp_path}/.venv", inputs(env)))
    assert "up to date" in ProjectVenv().check(make_env(tmp_path, "debian:12", probe)).reason
    assert probe.asked == [], "file existence only: the no-op stays cheap"


@pytest.mark.parametrize(
    ("files", "outcome"),
    [
        # another tool's venv (pyvenv.cfg, no stamp): built aside, the old one moved to a kept backup
        ({".venv/pyvenv.cfg": "home = /usr/bin\n", ".venv/bin/python": ""}, "backup"),
        ({".venv/pyvenv.cfg": "", ".venv/poetry.lock": ""}, "backup"),
        # a directory that is not a venv: nothing planned, a clear error
        ({".venv/README": ""}, "error"),
        ({".venv/src/main.py": ""}, "error"),
        # nothing there: a plain build
        ({}, "build"),
    ],
)
def test_existing_venv_not_built_by_the_kit(tmp_path, files, outcome):
    env = venv_env(tmp_path, {})
    probe = FakeProbe(files={f"{tmp_path}/{k}": v for k, v in files.items()})
    env = replace(env, probe=probe)
    if outcome == "error":
        with pytest.raises(ProvisionError, match="is not a venv"):
            ProjectVenv().check(env)
        return
    change = ProjectVenv().check(env)
    promote = change.commands[-1].argv
    assert promote[2] == "promote"
    if outcome == "backup":
        assert promote[-2] == "--backup" and promote[-1].startswith(f"{tmp_path}/.venv.backup-")
        assert "kept" in change.reason and promote[-1] in change.reason
    else:
        assert "--backup" not in promote


def test_pipx_tool_interrupted_install_is_forced(tmp_path):
    probe = FakeProbe(mtimes={"/home/dev/.local/share/pipx/venvs/pre-commit": NOW}, on_path={"pipx": "/usr/bin/pipx"},
                      files={"/home/dev/.local/share/pipx/venvs/ruff/pipx_metadata.json": json.dumps({"main_package": {"package_version": "0.6.9"}})})
    env = make_env(tmp_path, "debian:12", probe)
    assert [c.argv for c in PipxTools().check(env).commands] == [("/usr/bin/pipx", "install", "--force", "pre-commit")]


def test_proxies_pass_through_sudo_by_name_only(tmp_path):
    probe = FakeProbe(commands={("dpkg-query",): dpkg([])}, clock=NOW)
    env = make_env(tmp_path, "debian:12", probe, pyproject="[tool.provision]\n")
    env = replace(env, facts=replace(env.facts, env={"https_proxy": "http://user:secret@proxy:3128"}))
    argv = SystemPackages().check(env).commands[-1].argv_for(is_root=False)
    assert argv[:3] == ("sudo", "-n", "--preserve-env=https_proxy")
    assert "secret" not in " ".join(argv)
