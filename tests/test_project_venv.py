"""The interpreter decision and the venv per source, as tables: project files and facts in, argv out."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import FakeProbe

from provision import plan as plan_mod
from provision import session
from provision.atomic import STAMP
from provision.errors import ProvisionError
from provision.platforms import presets, profiles
from provision.project import config, detect, interpreter
from provision.steps import Options, StepEnv
from provision.steps.locktool import LockTool
from provision.steps.packages import wanted
from provision.steps.venv import ProjectVenv, inputs
from tests.test_detect import GROUPS, HASHED_REQ, PDM_LOCK, PEP621, PIPFILE, PIPFILE_LOCK, POETRY2_LOCK, POETRY_PYPROJECT, PYLOCK, UV_LOCK

WHEEL = "/usr/share/python-wheels/pip-23.0.1-py3-none-any.whl"


def write(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def env_for(tmp_path: Path, files: dict[str, str], key: str = "debian:12", probe=None, pythons=None, downloads=False) -> StepEnv:
    write(tmp_path, files)
    facts = presets.load(key)
    if pythons is not None:
        facts = replace(facts, pythons=pythons)
    prof = profiles.resolve(facts).profile
    cfg = config.load(tmp_path, python_downloads=downloads)
    spec = detect.detect(cfg)
    choice = interpreter.decide(facts, cfg, prof, spec)
    env = StepEnv(facts, prof, cfg, probe or FakeProbe(), choice.python, Options(), spec=spec)
    env = session.with_choice(env, facts, choice)
    return replace(env, python=replace(env.python, pip_wheel=WHEEL))


# -- the interpreter ----------------------------------------------------------------------

PY313 = {"pyproject.toml": "[project]\nname = 'a'\nversion = '1'\nrequires-python = '>=3.13'\n"}

INSTALLS = [
    # preset, project files, (packages, repository, download, interpreter path)
    ("fedora:40", PY313, (("python3.14",), None, None, "/usr/bin/python3.14")),
    ("ubuntu:22.04", PY313, (("python3.14",), "ppa:deadsnakes/ppa", None, "/usr/bin/python3.14")),
    ("ubuntu:24.04", {**PY313, ".python-version": "3.13\n"}, (("python3.13",), "ppa:deadsnakes/ppa", None, "/usr/bin/python3.13")),
    ("macos:14", {**PY313, ".python-version": "3.13\n"}, (("python@3.13",), None, None, "/opt/homebrew/bin/python3.13")),
    ("windows:11", {**PY313, ".python-version": "3.13\n"}, (("Python.Python.3.13",), None, None, None)),
    ("rocky:9", {"pyproject.toml": "[project]\nname='a'\nversion='1'\nrequires-python='>=3.12'\n"}, (("python3.12",), None, None,
                                                                                                    "/usr/bin/python3.12")),
    ("opensuse-leap:15.6", {".python-version": "3.12\n", "requirements.txt": "x\n"}, (("python312",), None, None, "/usr/bin/python3.12")),
]


@pytest.mark.parametrize(("key", "files", "expected"), INSTALLS, ids=[i[0] for i in INSTALLS])
def test_missing_interpreter_is_installed_from_profile_data(tmp_path, key, files, expected):
    env = env_for(tmp_path, files, key)
    packages, repository, download, path = expected
    assert (env.python_packages, env.python_repository, env.python_download) == (packages, repository, download)
    if path:
        assert env.python.path == path
    assert ("python", packages) in wanted(env)
    names = plan_mod.build(env).names
    assert ("python-repository" in names) is bool(repository)
    if repository:
        assert names.index("python-repository") < names.index("system-packages")


def test_deadsnakes_is_an_explicit_repository_step(tmp_path):
    env = env_for(tmp_path, PY313, "ubuntu:22.04", FakeProbe())
    from provision.steps.locktool import PythonRepository

    change = PythonRepository().check(env)
    assert change.commands[-1].argv == ("add-apt-repository", "-y", "ppa:deadsnakes/ppa") and change.commands[-1].sudo
    # the versioned venv and headers packages join the one transaction
    pkgs = [p for _, ps in wanted(env) for p in ps]
    assert {"python3.14", "python3.14-venv", "python3.14-dev"} <= set(pkgs)


def test_no_interpreter_is_a_clear_error_with_the_ways_out(tmp_path):
    with pytest.raises(ProvisionError) as e:
        env_for(tmp_path, PY313, "debian:12")
    text = str(e.value)
    assert "needs Python '>=3.13' (pyproject.toml requires-python)" in text
    assert "/usr/bin/python3 (3.11.2)" in text and "--python-downloads" in text and "Debian 13 has 3.13" in text


def test_downloads_allowed_plan_uv(tmp_path):
    env = env_for(tmp_path, PY313, "debian:12", downloads=True)
    assert env.python_download == "3.14" and env.python.path.endswith("/.local/bin/python3.14")
    p = plan_mod.build(env)
    assert p.names[-2:] == ["python-download", "project-venv"] and p.lanes == ()
    from provision.steps.locktool import PythonDownload

    argvs = [c.argv for c in PythonDownload().check(env).commands]
    assert argvs[0][1:3] == ("install", "uv==0.13.9") and argvs[-1][1:] == ("python", "install", "3.14")


def test_newest_satisfying_interpreter_wins(tmp_path):
    facts = presets.load("debian:12")
    base = facts.pythons[0]
    pythons = (base, replace(base, path="/opt/py312/bin/python3", version="3.12.7", is_default=False),
               replace(base, path="/opt/py310/bin/python3", version="3.10.14", is_default=False))
    env = env_for(tmp_path, {"requirements.txt": "x\n"}, pythons=pythons)
    assert env.python.version == "3.12.7"
    env = env_for(tmp_path, {".python-version": "3.11\n"}, pythons=pythons)
    assert env.python.version == "3.11.2"


def test_never_a_version_the_project_excludes(tmp_path):
    write(tmp_path, {".python-version": "3.9\n", "pyproject.toml": "[project]\nname='a'\nversion='1'\nrequires-python='>=3.10'\n"})
    facts = presets.load("debian:12")
    cfg = config.load(tmp_path)
    with pytest.raises(ProvisionError, match="'3.9' \\(.python-version\\); '>=3.10'"):
        interpreter.decide(facts, cfg, profiles.resolve(facts).profile, detect.detect(cfg))
    with pytest.raises(ProvisionError, match="excludes"):
        interpreter.decide(facts, cfg, profiles.resolve(facts).profile, detect.detect(cfg), override="/usr/bin/python3")


@pytest.mark.parametrize("key", presets.keys())
def test_dry_run_shows_the_interpreter_decision_for_every_preset(tmp_path, key):
    write(tmp_path, PY313)
    try:
        prepared = session.prepare(None, project=str(tmp_path), platform=key, dry_run=True)
    except ProvisionError as e:
        assert "Ways out" in str(e)
        return
    assert prepared.choice is not None and prepared.choice.reason
    assert prepared.choice.constraints[0].contains(prepared.env.python.version.replace(".0", ".1"))


# -- the venv per source ------------------------------------------------------------------

def argvs(env: StepEnv) -> list[tuple[str, ...]]:
    return [c.argv for c in ProjectVenv().check(env).commands]


def test_uv_lock_is_checked_then_synced_into_the_stage(tmp_path):
    env = env_for(tmp_path, {"pyproject.toml": PEP621, "uv.lock": UV_LOCK}, pythons=None)
    change = ProjectVenv().check(env)
    cmds = change.commands
    stage, venv = f"{tmp_path}/.venv.partial", f"{tmp_path}/.venv"
    uv = f"{env.facts.home}/.local/bin/uv"
    # the lock's freshness first: a stale lock stops the run before anything is built
    assert cmds[0].argv[1].endswith("venvops.py") and cmds[0].argv[2:7] == ("lock-check", "--lock", f"{tmp_path}/uv.lock", "--refresh", "uv lock")
    assert cmds[0].argv[-6:] == ("--", uv, "lock", "--check", "--directory", str(tmp_path))
    assert cmds[1].argv[2:] == ("stage", stage)  # a marked directory: only what the kit marked is ever promoted
    assert cmds[2].argv[:3] == (env.python.path, "-m", "venv") and cmds[2].argv[-1] == stage  # uv syncs into it (UV_PYTHON)
    cmds = [cmds[0], *cmds[3:]]
    assert cmds[1].argv == (uv, "sync", "--frozen", "--directory", str(tmp_path), "--extra", "test")
    assert dict(cmds[1].env)["UV_PROJECT_ENVIRONMENT"] == stage and dict(cmds[1].env)["UV_PYTHON_DOWNLOADS"] == "never"
    # checked by the uv that built it (uv pip check), the wheel's pip for what uv cannot check
    assert cmds[2].argv[1].endswith("verify_venv.py") and cmds[2].argv[-4:] == ("--pip-wheel", WHEEL, "--uv", uv)
    assert cmds[3].argv[2:5] == ("promote", stage, venv)


TOOLS = [
    # files, sync argv tail, env that points the tool at the stage
    ({"pyproject.toml": POETRY_PYPROJECT, "poetry.lock": POETRY2_LOCK}, ("sync", "--directory"), ("VIRTUAL_ENV", "POETRY_VIRTUALENVS_IN_PROJECT")),
    ({"pyproject.toml": PEP621, "pdm.lock": PDM_LOCK}, ("sync", "-p"), ("VIRTUAL_ENV", "PDM_IGNORE_SAVED_PYTHON")),
    ({"Pipfile": PIPFILE, "Pipfile.lock": PIPFILE_LOCK}, ("sync", "--dev"), ("VIRTUAL_ENV", "PIPENV_VENV_IN_PROJECT")),
    ({"Pipfile": PIPFILE}, ("install", "--dev"), ("VIRTUAL_ENV", "PIPENV_VENV_IN_PROJECT")),
]


@pytest.mark.parametrize(("files", "sync", "env_keys"), TOOLS)
def test_lock_tools_sync_into_the_kits_stage(tmp_path, files, sync, env_keys):
    env = env_for(tmp_path, files)
    cmds = ProjectVenv().check(env).commands
    stage = f"{tmp_path}/.venv.partial"
    first = 1 if cmds[0].argv[2:3] == ("lock-check",) else 0  # a lock is checked before anything is built
    assert cmds[first].argv[2:] == ("stage", stage)
    assert cmds[first + 1].argv[:3] == (env.python.path, "-m", "venv")
    sync_cmd = next(c for c in cmds if c.argv[1:1 + len(sync)] == sync)
    assert all(k in dict(sync_cmd.env) for k in env_keys) and dict(sync_cmd.env)["VIRTUAL_ENV"] == stage
    assert plan_mod.build(env).lanes == ()
    assert "lock-tool" in plan_mod.build(env).names


def test_pylock_with_uv_pip_sync_and_hash_checking(tmp_path):
    env = env_for(tmp_path, {"pyproject.toml": PEP621, "pylock.toml": PYLOCK})
    a = argvs(env)
    uv = f"{env.facts.home}/.local/bin/uv"
    assert (uv, "pip", "sync", "--python", f"{tmp_path}/.venv.partial/bin/python", f"{tmp_path}/pylock.toml") in a
    assert any(x[:4] == (uv, "pip", "install", "--python") and x[-2:] == ("-e", str(tmp_path)) for x in a)


def test_hashed_files_get_a_call_of_their_own(tmp_path):
    env = env_for(tmp_path, {"requirements.txt": HASHED_REQ, "requirements-dev.txt": "pytest\n",
                             "pyproject.toml": PEP621})
    a = argvs(env)
    hashed = [x for x in a if "--require-hashes" in x]
    assert len(hashed) == 1 and hashed[0][-2:] == ("-r", f"{tmp_path}/requirements.txt") and "-e" not in hashed[0]
    rest = [x for x in a if "-e" in x]
    assert rest[0][-4:] == ("-r", f"{tmp_path}/requirements-dev.txt", "-e", f"{tmp_path}[test]")
    # the kit adds only pip: no setuptools, no wheel
    assert not any("setuptools" in x or "wheel" in x[-1:] for x in a)


def test_groups_go_to_pip_as_requirements(tmp_path):
    env = env_for(tmp_path, {"pyproject.toml": GROUPS})
    a = argvs(env)
    assert any(x[-3:] == ("idna>=3", "pytest>=8", "coverage") for x in a)


def test_nothing_declared_is_visible(tmp_path):
    env = env_for(tmp_path, {})
    change = ProjectVenv().check(env)
    assert "declares nothing" in change.reason


def stamped(env: StepEnv, have: dict) -> StepEnv:
    """A healthy venv the kit built from ``have`` (stamp, pyvenv.cfg, interpreter, site-packages)."""
    from conftest import healthy_venv

    return replace(env, probe=FakeProbe(files=healthy_venv(str(env.config.venv), have)))


def test_unchanged_project_is_skipped_without_any_tool_call(tmp_path):
    env = env_for(tmp_path, {"pyproject.toml": PEP621, "uv.lock": UV_LOCK})
    env = stamped(env, inputs(env))
    change = ProjectVenv().check(env)
    assert change.commands == () and "up to date" in change.reason


def test_edited_lock_updates_in_place_changing_only_what_differs(tmp_path):
    env = env_for(tmp_path, {"pyproject.toml": PEP621, "uv.lock": UV_LOCK})
    old = inputs(env)
    (tmp_path / "uv.lock").write_text(UV_LOCK.replace('version = "3.10"', 'version = "3.9"'))
    env = stamped(env, old)
    change = ProjectVenv().check(env)
    assert "contents of uv.lock" in change.reason
    sync = next(c for c in change.commands if "sync" in c.argv)
    assert dict(sync.env)["UV_PROJECT_ENVIRONMENT"] == f"{tmp_path}/.venv"  # in place: uv changes only what differs
    assert change.commands[-1].argv[2] == "stamp" and not any("promote" in c.argv for c in change.commands)


def test_tool_pinned_and_installed_with_pipx(tmp_path):
    env = env_for(tmp_path, {"pyproject.toml": PEP621, "uv.lock": UV_LOCK})
    change = LockTool().check(env)
    assert change.commands[0].argv[1:] == ("install", "uv==0.13.9")
    meta = f"{env.facts.pipx_home}/venvs/uv/pipx_metadata.json"
    env = replace(env, probe=FakeProbe(files={meta: json.dumps({"main_package": {"package_version": "0.13.9"}})}))
    assert LockTool().check(env).commands == ()
    env = replace(env, probe=FakeProbe(files={meta: json.dumps({"main_package": {"package_version": "0.4.0"}})}))
    assert LockTool().check(env).commands[0].argv[1:] == ("install", "--force", "uv==0.13.9")


def test_ca_and_index_reach_the_tool(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    env = env_for(tmp_path, {"pyproject.toml": PEP621 + "\n[tool.provision]\nca-bundle = 'ca.pem'\nindex-url = 'https://idx.example/simple'\n",
                             "uv.lock": UV_LOCK})
    sync = next(c for c in ProjectVenv().check(env).commands if "sync" in c.argv)
    e = dict(sync.env)
    assert e["SSL_CERT_FILE"] == e["REQUESTS_CA_BUNDLE"] == env.pip_cert and e["UV_DEFAULT_INDEX"] == "https://idx.example/simple"


def test_a_lock_the_tool_writes_is_stamped_after_the_run(tmp_path):
    """Pipfile alone: pipenv writes Pipfile.lock; the stamp must cover it, or the second run would not be changed=0."""
    from provision.steps import venvops

    env = env_for(tmp_path, {"Pipfile": PIPFILE})
    change = ProjectVenv().check(env)
    last = change.commands[-1].argv
    assert last[2:5] == ("restamp", f"{tmp_path}/.venv", str(tmp_path)) and set(last[5:]) == {"Pipfile", "Pipfile.lock"}
    # the run: promote wrote the plan's stamp, pipenv wrote the lock, restamp hashes it
    venv = tmp_path / ".venv"
    venv.mkdir()
    plan_stamp = next(c.argv[-1] for c in change.commands if "promote" in c.argv)
    (venv / STAMP).write_text(plan_stamp)
    (tmp_path / "Pipfile.lock").write_text(PIPFILE_LOCK)
    venvops.main(list(last[2:]))
    again = env_for(tmp_path, {})
    assert again.project.lock is not None and not again.project.lock_written
    from conftest import healthy_venv

    stamp = json.loads((venv / STAMP).read_text())
    files = {**healthy_venv(str(venv), stamp["inputs"]), f"{venv}/{STAMP}": (venv / STAMP).read_text()}
    assert ProjectVenv().check(replace(again, probe=FakeProbe(files=files))).commands == ()


@pytest.mark.parametrize(
    ("files", "shown"),
    [
        ({"pyproject.toml": PEP621, "uv.lock": UV_LOCK, "requirements.txt": "idna\n"},
         ["uv lock, installed with uv==0.13.9", "used: uv.lock", "ignored: requirements.txt — uv.lock decides the install",
          "python: /usr/bin/python3 (3.11.2); newest interpreter here that satisfies '>=3.10' (uv.lock requires-python)"]),
        ({}, ["notice: the project declares nothing to install", "\nnotice: the project declares nothing to install"]),
    ],
)
def test_dry_run_shows_files_used_ignored_and_the_notice(tmp_path, files, shown):
    import io

    write(tmp_path, files)
    out = io.StringIO()
    assert session.bootstrap(None, project=str(tmp_path), platform="debian:12", dry_run=True, out=out) == 0
    text = out.getvalue()
    for s in shown:
        assert s in text, text


def test_requirement_file_that_installs_the_project_itself(tmp_path):
    """requests' requirements-dev.txt starts with "-e .[socks]": pip runs in the project (relative
    paths are pip's cwd's), and the project is not given a second time."""
    env = env_for(tmp_path, {"pyproject.toml": PEP621, "requirements-dev.txt": "-e .[socks]\npytest\n"})
    assert env.project.install_project and env.project.editable_in_requirements
    pip = [x for x in argvs(env) if "pip" in x and "install" in x][-1]
    assert pip[2:5] == ("in-dir", str(tmp_path), "--") and "-e" not in pip


def test_an_exact_patch_version_is_installable(tmp_path):
    env = env_for(tmp_path, {".python-version": "3.13.1\n", "requirements.txt": "x\n"}, "fedora:40")
    assert env.python_packages == ("python3.13",)


GROUP_FLAGS = [
    # files + config, the tool's sync flags
    ({"pyproject.toml": PEP621 + "\n[dependency-groups]\nlint = ['ruff']\n[tool.provision]\ngroups = ['lint']\n", "uv.lock": UV_LOCK},
     ("--no-default-groups", "--group", "lint", "--extra", "test")),
    ({"pyproject.toml": PEP621 + "\n[tool.provision]\ngroups = 'all'\n", "uv.lock": UV_LOCK}, ("--all-groups", "--extra", "test")),
    ({"pyproject.toml": POETRY_PYPROJECT + "\n[tool.provision]\ngroups = ['docs']\n", "poetry.lock": POETRY2_LOCK}, ("--only", "main,docs")),
    ({"pyproject.toml": PEP621 + "\n[tool.pdm.dev-dependencies]\nlint = ['ruff']\n[tool.provision]\ngroups = ['lint']\n", "pdm.lock": PDM_LOCK},
     ("-G", "lint", "-G", "test")),
]


@pytest.mark.parametrize(("files", "flags"), GROUP_FLAGS)
def test_groups_and_extras_reach_the_tool(tmp_path, files, flags):
    env = env_for(tmp_path, files)
    sync = next(c.argv for c in ProjectVenv().check(env).commands if "sync" in c.argv)
    assert sync[-len(flags):] == flags


SECRET_INDEX = "https://me:t0k%40n@idx.example/simple"
POETRY_SOURCES = [
    # sources in pyproject.toml, index-url -> the credential variables Poetry gets (None: the purpose says it is not used)
    ([("corp", "https://idx.example/simple/")], SECRET_INDEX,
     {"POETRY_HTTP_BASIC_CORP_USERNAME": "me", "POETRY_HTTP_BASIC_CORP_PASSWORD": "t0k@n"}),
    ([("Corp-Mirror", "https://idx.example/other")], SECRET_INDEX,  # same host: the same credentials
     {"POETRY_HTTP_BASIC_CORP_MIRROR_USERNAME": "me", "POETRY_HTTP_BASIC_CORP_MIRROR_PASSWORD": "t0k@n"}),
    ([("a", "https://idx.example/simple"), ("b", "https://idx.example/b")], SECRET_INDEX,  # the exact URL wins
     {"POETRY_HTTP_BASIC_A_USERNAME": "me", "POETRY_HTTP_BASIC_A_PASSWORD": "t0k@n"}),
    ([("dot.name", "https://idx.example/simple")], SECRET_INDEX, {}),  # Poetry could not find it by that name
    ([("other", "https://elsewhere.example/simple")], SECRET_INDEX, None),
    ([], SECRET_INDEX, None),
    ([("corp", "https://idx.example/simple")], "https://idx.example/simple", {}),  # nothing secret: nothing to add
]


@pytest.mark.parametrize(("sources", "index", "want"), POETRY_SOURCES)
def test_poetry_gets_the_index_credentials_by_source_name(tmp_path, sources, index, want):
    text = POETRY_PYPROJECT + "".join(f'\n[[tool.poetry.source]]\nname = "{n}"\nurl = "{u}"\n' for n, u in sources)
    text += f"\n[tool.provision]\nindex-url = '{index}'\n"
    env = env_for(tmp_path, {"pyproject.toml": text, "poetry.lock": POETRY2_LOCK})
    sync = next(c for c in ProjectVenv().check(env).commands if "sync" in c.argv)
    got = {k: v for k, v in sync.env if k.startswith("POETRY_HTTP_BASIC_")}
    assert got == (want or {})
    assert ("index-url does not reach Poetry" in sync.purpose) is (want is None)
    assert ("PIP_INDEX_URL" in dict(sync.env)) is ("@" not in index)


@pytest.mark.parametrize("tool_files", [{"pyproject.toml": PEP621, "uv.lock": UV_LOCK}, {"pyproject.toml": PEP621, "pdm.lock": PDM_LOCK},
                                        {"Pipfile": PIPFILE, "Pipfile.lock": PIPFILE_LOCK}], ids=["uv", "pdm", "pipenv"])
def test_a_secret_index_and_proxy_reach_the_other_tools(tmp_path, tool_files):
    files = dict(tool_files)
    conf = f"index-url = '{SECRET_INDEX}'\nproxy = 'http://me:pw@proxy.example:3128'\n"
    files["provision.toml"] = conf
    env = env_for(tmp_path, files)
    cmds = ProjectVenv().check(env).commands
    sync = next(c for c in cmds if "sync" in c.argv)
    e = dict(sync.env)
    own = {"uv": "UV_DEFAULT_INDEX", "pdm": "PDM_PYPI_URL", "pipenv": "PIPENV_PYPI_MIRROR"}[env.project.tool]
    assert e[own] == e["PIP_INDEX_URL"] == SECRET_INDEX and e["HTTPS_PROXY"] == e["HTTP_PROXY"] == "http://me:pw@proxy.example:3128"
    checks = [c for c in cmds if "lock-check" in c.argv]
    assert all(dict(c.env)[own] == SECRET_INDEX for c in checks), "the lock's own check reaches the index too"
    assert "t0k" not in sync.shell(is_root=True) and "pw@" not in sync.shell(is_root=True)


# -- what the kit installed: drift noticed cheaply, put back; dropped requirements uninstalled --------

REQS = {"requirements.txt": "certifi==2024.2.2\nidna==3.6\n"}
RECORD = ["certifi-2024.2.2", "idna-3.6"]


def with_record(env: StepEnv, have: dict, record: list[str] | None, listing: list[str]) -> StepEnv:
    """A venv the kit built from ``have``, whose stamp records ``record`` and whose site-packages holds ``listing``."""
    from conftest import healthy_venv

    venv = str(env.config.venv)
    files = healthy_venv(venv, have)
    stamp = json.loads(files[f"{venv}/{STAMP}"])
    if record is not None:
        stamp["installed"] = record
    files[f"{venv}/{STAMP}"] = json.dumps(stamp)
    site = f"{venv}/lib/python{have['python_version']}/site-packages"
    files.update({f"{site}/{d}/METADATA": "" for d in listing})
    return replace(env, probe=FakeProbe(files=files))


DRIFT = [
    # listing of site-packages (stamp records RECORD) -> None (up to date) or (words in the reason, pins pip is given)
    (["certifi-2024.2.2.dist-info", "idna-3.6.dist-info", "pip-24.0.dist-info"], None),
    (["certifi-2024.2.2.dist-info", "idna-3.6.dist-info", "six-1.16.0.dist-info"], None),  # an extra by hand: ignored
    (["Certifi-2024.2.2.dist-info", "IDNA-3.6.dist-info"], None),  # names compared canonically
    (["certifi-2024.2.2.dist-info", "pip-23.0.dist-info"], ("idna 3.6 is gone", ("idna==3.6",))),
    (["certifi-2024.2.2.dist-info", "idna-3.4.dist-info"], ("idna 3.6 is now 3.4", ("idna==3.6",))),
    ([], ("certifi 2024.2.2 is gone; idna 3.6 is gone", ("certifi==2024.2.2", "idna==3.6"))),
]


@pytest.mark.parametrize(("listing", "expected"), DRIFT)
def test_drift_is_noticed_from_one_listing_and_put_back(tmp_path, listing, expected):
    env = env_for(tmp_path, REQS)
    env = with_record(env, inputs(env), RECORD, listing)
    change = ProjectVenv().check(env)
    asked = list(env.probe.asked)
    assert asked == [], "no process: the no-op and the drift check read files only"
    if expected is None:
        assert change.commands == () and "up to date" in change.reason
        return
    words, pins = expected
    assert words in change.reason and "no longer holds what the kit installed" in change.reason
    pip = [c.argv for c in change.commands if "install" in c.argv]
    assert len(pip) == 1 and pip[0][-len(pins):] == pins and "-r" in pip[0]
    assert not any("promote" in c.argv or "prune" in c.argv for c in change.commands), "in place, nothing to uninstall"
    stamp = change.commands[-1].argv
    assert stamp[2] == "stamp" and "--not-ours" not in stamp


def test_a_stamp_without_a_record_is_not_checked_for_drift(tmp_path):
    env = env_for(tmp_path, REQS)
    env = with_record(env, inputs(env), None, [])
    assert ProjectVenv().check(env).commands == ()


@pytest.mark.parametrize(("files", "tool"), [({"pyproject.toml": PEP621, "uv.lock": UV_LOCK}, "uv"),
                                             ({"pyproject.toml": POETRY_PYPROJECT, "poetry.lock": POETRY2_LOCK}, "poetry"),
                                             ({"Pipfile": PIPFILE, "Pipfile.lock": PIPFILE_LOCK}, "pipenv")])
def test_drift_in_a_locked_venv_runs_the_tools_own_sync(tmp_path, files, tool):
    env = env_for(tmp_path, files)
    env = with_record(env, inputs(env), ["idna-3.10", "six-1.16.0"], ["six-1.16.0.dist-info", "extra-1.0.dist-info"])
    change = ProjectVenv().check(env)
    assert "idna 3.10 is gone" in change.reason
    sync = next(c for c in change.commands if c.argv[1] == "sync")
    assert sync.argv[0].endswith(f"/{tool}")
    target = dict(sync.env).get("UV_PROJECT_ENVIRONMENT") or dict(sync.env).get("VIRTUAL_ENV")
    assert target == f"{tmp_path}/.venv", "in place: the tool puts back what differs"
    assert change.commands[-1].argv[-2:] == ("--not-ours", "extra")
    assert not any("uninstall" in c.argv for c in change.commands)


PRUNE_PLANS = [
    # old requirements (the stamp's), new files, recorded, listing -> (candidates shown, roots, --keep-direct, --not-ours)
    ("certifi==2024.2.2\nidna==3.6\n", {"requirements.txt": "certifi==2024.2.2\n"}, RECORD, ["six"],
     (["idna"], ["certifi==2024.2.2"], False, ["six"])),
    ("certifi==2024.2.2\n", {"requirements.txt": "certifi==2024.2.2\nidna==3.6\n"}, ["certifi-2024.2.2"], [],
     None),  # a requirement added: pip installs it, nothing to uninstall
    ("certifi==2024.2.2\nidna==3.6\n", {"requirements.txt": "-r base.txt\n-c pins.txt\n-e ./sub\n", "base.txt": "certifi\n",
                                        "pins.txt": "idna==3.6\n", "sub/setup.py": ""}, RECORD, [],
     (["idna"], ["certifi"], True, [])),  # a constraint is not a requirement; a path requirement keeps what came from paths
    ("x\n", {"requirements.txt": "Certifi>=2024\n"}, [*RECORD, "pip-24.0", "setuptools-69.0"], ["setuptools", "pip"],
     (["idna"], ["Certifi>=2024"], False, [])),  # pip, setuptools, wheel: never uninstalled
    ("certifi==2024.2.2\nidna==3.6\n", {"requirements.txt": "certifi==2024.2.2\n"}, None, ["six"],
     None),  # no record (an older stamp): nothing is proven the kit's, nothing goes; all of it is left unrecorded
]


@pytest.mark.parametrize(("old", "files", "record", "extra", "expected"), PRUNE_PLANS)
def test_dropped_requirements_are_uninstalled_in_the_plan(tmp_path, old, files, record, extra, expected):
    env = env_for(tmp_path, {"requirements.txt": old})
    have = inputs(env)
    for name in files:
        (tmp_path / name).unlink(missing_ok=True)
    env = env_for(tmp_path, files)
    listing = [f"{r}.dist-info" for r in (record or RECORD)] + [f"{n}-1.0.dist-info" for n in extra]
    env = with_record(env, have, record, listing)
    change = ProjectVenv().check(env)
    assert "contents of requirements.txt" in change.reason
    prune = [c for c in change.commands if "prune" in c.argv]
    stamp = change.commands[-1].argv
    assert stamp[2] == "stamp"
    hand = list(stamp[stamp.index("--not-ours") + 1:]) if "--not-ours" in stamp else []
    if expected is None:
        assert prune == []
        if record is None:
            assert hand == sorted({"certifi", "idna", *extra}), "a stamp without a record: nothing recorded as the kit's"
        return
    going, roots, keep_direct, not_ours = expected
    argv = prune[0].argv
    venv, py = f"{tmp_path}/.venv", f"{tmp_path}/.venv/bin/python"
    assert argv[:4] == (py, argv[1], "prune", venv) and argv[1].endswith("venvops.py")
    head, tail = argv[4:argv.index("--")], argv[argv.index("--") + 1:]
    assert [head[i + 1] for i, a in enumerate(head) if a == "--root"] == roots
    assert ("--keep-direct" in head) is keep_direct
    assert tail == (py, "-m", "pip", "uninstall", "--disable-pip-version-check", "--no-input", "-y", *going)
    assert ", ".join(going) in prune[0].purpose
    order = [c.argv[1] if "verify" not in c.argv[1] else "verify" for c in change.commands]
    assert change.commands.index(prune[0]) > next(i for i, c in enumerate(change.commands) if "install" in c.argv), order
    assert hand == not_ours


def test_a_pyproject_project_drops_a_dependency(tmp_path):
    """The project's own dependencies come from its pyproject.toml as it is now: a dropped one is a candidate,
    and the project itself (with its extras) is a root the prune reads from the venv after the install."""
    before = PEP621.replace('dependencies = ["idna>=3"]', 'dependencies = ["idna>=3", "requests"]')
    env = env_for(tmp_path, {"pyproject.toml": before})
    have = inputs(env)
    env = env_for(tmp_path, {"pyproject.toml": PEP621})
    record = ["app-0.1.0", "idna-3.10", "pytest-8.3.5", "pluggy-1.5.0", "requests-2.32.3", "urllib3-2.2.1"]
    env = with_record(env, have, record, [f"{r}.dist-info" for r in record])
    prune = next(c for c in ProjectVenv().check(env).commands if "prune" in c.argv).argv
    head = prune[4:prune.index("--")]
    assert [head[i + 1] for i, a in enumerate(head) if a == "--root"] == ["app[test]", "idna>=3", "pytest"]
    assert prune[-3:] == ("pluggy", "requests", "urllib3"), "pluggy is only a candidate: pytest keeps it (read after the install)"


def test_a_changed_certificate_alone_uninstalls_nothing(tmp_path):
    files = {"requirements.txt": "requests\n", "provision.toml": "ca-bundle = 'ca.pem'\n", "ca.pem": "one"}
    env = env_for(tmp_path, files)
    have = inputs(env)
    env = env_for(tmp_path, {"ca.pem": "two"})
    record = ["certifi-2024.2.2", "requests-2.32.3", "urllib3-2.2.1"]
    env = with_record(env, have, record, [f"{r}.dist-info" for r in record])
    change = ProjectVenv().check(env)
    assert change.reason.endswith("was built: ca_bundle") and not any("prune" in c.argv for c in change.commands)
