"""Secrets and terminal controls: one mask, applied wherever the kit prints, logs or stores."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest

from provision import session
from provision.command import Command
from provision.errors import ConfigError, MachineError
from provision.redact import clean, fingerprint, mask, safe
from provision.run import report
from provision.run.log import RunLog, log_path
from provision.run.progress import summarize_failure
from provision.run.runner import StepResult

TOKEN = "s3cr3t-t0ken"


def what_runs(c) -> str:
    """The argv and the environment the runner hands the process (where a secret must still be)."""
    return " ".join(c.argv_for(is_root=True)) + " " + " ".join(f"{k}={v}" for k, v in c.env)

MASKED = [
    (f"https://user:{TOKEN}@pypi.corp.invalid/simple", "https://***@pypi.corp.invalid/simple"),
    (f"https://{TOKEN}@pypi.corp.invalid/simple", "https://***@pypi.corp.invalid/simple"),
    (f"http://user:{TOKEN}@proxy.invalid:3128", "http://***@proxy.invalid:3128"),
    (f"HTTP://user:{TOKEN}@proxy.invalid:3128", "HTTP://***@proxy.invalid:3128"),
    (f"socks5h://u:{TOKEN}@proxy.invalid:1080", "socks5h://***@proxy.invalid:1080"),
    (f"git+https://oauth2:{TOKEN}@git.invalid/x.git", "git+https://***@git.invalid/x.git"),
    (f"user:{TOKEN}@proxy.invalid:3128", "user:***@proxy.invalid:3128"),
    (f"--index-url=https://u:{TOKEN}@h.invalid/simple", "--index-url=https://***@h.invalid/simple"),
    (f"PIP_INDEX_URL=https://u:{TOKEN}@h.invalid/simple", "PIP_INDEX_URL=https://***@h.invalid/simple"),
    (f"'https://u:{TOKEN}@h.invalid/simple'", "'https://***@h.invalid/simple'"),
    (f"a https://u:{TOKEN}@h.invalid b http://v:{TOKEN}@i.invalid", "a https://***@h.invalid b http://***@i.invalid"),
    (f"https://u:{TOKEN}%40x@h.invalid/", "https://***@h.invalid/"),
    # nothing to hide: unchanged
    ("https://pypi.corp.invalid/simple", "https://pypi.corp.invalid/simple"),
    ("git@github.invalid:org/repo.git", "git@github.invalid:org/repo.git"),
    ("mail me: dev@example.invalid", "mail me: dev@example.invalid"),
    ("pip install pkg@https://h.invalid/pkg.whl", "pip install pkg@https://h.invalid/pkg.whl"),
]


@pytest.mark.parametrize(("text", "shown"), MASKED)
def test_mask(text, shown):
    assert mask(text) == shown and mask(mask(text)) == shown


CONTROLS = [
    ("\x1b]0;owned\x07title", "\\x1b]0;owned\\x07title"),
    ("\x1b[2J\x1b[Hcleared", "\\x1b[2J\\x1b[Hcleared"),
    ("red \x1b[31mERROR\x1b[0m", "red \\x1b[31mERROR\\x1b[0m"),
    ("over\rwrite", "over\\x0dwrite"),
    ("bell\x07", "bell\\x07"),
    ("c1 \x9b31m", "c1 \\x9b31m"),
    ("del\x7f", "del\\x7f"),
    ("nul\x00", "nul\\x00"),
    ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
    ("crlf\r\nline", "crlf\nline"),
    ("unicode ✓ stays", "unicode ✓ stays"),
]


@pytest.mark.parametrize(("text", "shown"), CONTROLS)
def test_clean(text, shown):
    assert clean(text) == shown and clean(clean(text)) == shown


def test_stamp_value_is_a_digest_never_the_secret():
    url = f"https://u:{TOKEN}@h.invalid/simple"
    kept = fingerprint(url)
    assert TOKEN not in kept and kept.startswith("https://***@h.invalid/simple#sha256:")
    assert fingerprint(url.replace(TOKEN, "other")) != kept, "a new token still rebuilds"
    assert fingerprint("https://h.invalid/simple") == "https://h.invalid/simple"


@pytest.fixture
def secret_plan(tmp_path):
    (tmp_path / "provision.toml").write_text(
        f'index-url = "https://user:{TOKEN}@pypi.corp.invalid/simple"\nproxy = "http://user:{TOKEN}@proxy.invalid:3128"\n'
        'pipx = ["ruff"]\n')
    return session.prepare(None, project=str(tmp_path), platform="debian:12", dry_run=True)


def test_dry_run_plan_text_and_json_hold_no_secret(secret_plan):
    env = secret_plan.env
    results = []
    for step in secret_plan.plan.steps:
        if step.skip_reason(env):
            continue
        change = step.check(env)
        results.append(StepResult(step.name, step.title, "changed", change.reason, list(change.commands)))
    commands = [c for r in results for c in r.commands]
    assert any(TOKEN in what_runs(c) for c in commands), "the secret is really passed on"
    text = "\n".join(report.step_text(r, is_root=False, dry_run=True) for r in results)
    out = io.StringIO()
    report.dump({"steps": [r.to_json(is_root=False) for r in results]}, out)
    assert TOKEN not in text and TOKEN not in out.getvalue()
    assert "https://***@pypi.corp.invalid/simple" in text
    promote = next(c for c in commands if "promote" in c.argv)
    assert TOKEN not in " ".join(promote.argv), "the stamp holds a digest, never the secret"


def test_failure_block_is_masked_and_cleaned():
    output = f"ERROR: Could not fetch https://u:{TOKEN}@h.invalid/simple \x1b]0;owned\x07\n"
    why = summarize_failure(output, Command(("pip",)))
    res = StepResult("x", "X", "failed", f"reason \x1b[2J u:{TOKEN}@h.invalid", error=f"pip failed:\n{why}")
    text = report.step_text(res, is_root=True, dry_run=False)
    assert TOKEN not in text and "\x1b" not in text and "\\x1b]0;owned" in text


@pytest.mark.parametrize("error", [ConfigError, MachineError])
def test_error_paragraph_is_masked_and_cleaned(error):
    e = error(f"key 'proxy' = 'http://u:{TOKEN}@p.invalid' \x1b[31mred", "fix", where="/p/pyproject.toml")
    assert TOKEN not in str(e) and "\x1b" not in str(e) and "http://***@p.invalid" in str(e)


def test_log_file_is_private_masked_and_unique(tmp_path):
    path = str(tmp_path / "log" / "run.log")
    os.makedirs(tmp_path / "log", mode=0o755)
    log = RunLog(path)
    log.write(f"$ pip install --index-url https://u:{TOKEN}@h.invalid/simple x\n")
    stream = log.stream
    # a command's output in chunks that split the URL: masked all the same
    for chunk in ("Looking in indexes: https://u:", f"{TOKEN}@h.invalid/simple\n", "\x1b[31mlast line without newline"):
        stream.write(chunk)
    log.end_output()
    with log.section():
        log.stream.write(f"lane output http://v:{TOKEN}@p.invalid\n")
    log.close()
    text = Path(path).read_text(encoding="utf-8")
    assert TOKEN not in text and "https://***@h.invalid/simple" in text and "\\x1b[31mlast line" in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "log").st_mode) == 0o700
    with pytest.raises(MachineError, match="cannot write the log file"):
        RunLog(path)  # never appended to another run's log


def test_log_paths_are_unique():
    assert len({log_path("bootstrap") for _ in range(50)}) == 50


def test_facts_json_masks_proxies_and_pip_settings(tmp_path, monkeypatch):
    from provision.machine import facts as facts_mod

    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nindex-url = https://u:{TOKEN}@h.invalid/simple\nproxy = http://u:{TOKEN}@p.invalid:3128\n")
    env = {"PATH": os.defpath, "HOME": str(tmp_path), "PIP_CONFIG_FILE": str(conf), "HTTPS_PROXY": f"http://u:{TOKEN}@p.invalid"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    f = facts_mod.gather()
    out = io.StringIO()
    report.dump(f.to_json(), out)
    assert TOKEN not in out.getvalue() and TOKEN not in report.facts_text(f)
    assert json.loads(out.getvalue())["pip_index"]["index-url"][1] == "https://***@h.invalid/simple"


def test_safe_is_both():
    assert safe(f"\x1b[2Jhttps://u:{TOKEN}@h") == "\\x1b[2Jhttps://***@h"


# -- a credentialed index and proxy reach every lock tool, and show nowhere ---------------------

# the project's files per tool; Poetry finds the credentials by its source's name
CREDENTIAL_PROJECTS = {
    "uv": ("uv.lock", "UV_DEFAULT_INDEX"),
    "poetry": ("poetry.lock", "POETRY_HTTP_BASIC_CORP_IDX_PASSWORD"),
    "pdm": ("pdm.lock", "PDM_PYPI_URL"),
    "pipenv": ("Pipfile.lock", "PIPENV_PYPI_MIRROR"),
    "pip": ("requirements.txt", None),
}
# a password, one that makes shlex quote the argument, a bare token, a %-encoded one
SECRETS = [
    ("user", TOKEN),
    ("user", f"{TOKEN}$&x"),
    (TOKEN, None),
    ("user", f"{TOKEN}%40x"),
]


def credential_project(tmp_path: Path, tool: str, user: str, password: str | None) -> Path:
    from tests.test_detect import PDM_LOCK, PEP621, PIPFILE, PIPFILE_LOCK, POETRY2_LOCK, POETRY_PYPROJECT, UV_LOCK

    userinfo = user if password is None else f"{user}:{password}"
    index = f"https://{userinfo}@pypi.corp.invalid/simple"
    files = {
        "uv": {"pyproject.toml": PEP621, "uv.lock": UV_LOCK},
        "poetry": {"pyproject.toml": POETRY_PYPROJECT + '\n[[tool.poetry.source]]\nname = "corp-idx"\n'
                                                       'url = "https://pypi.corp.invalid/simple/"\npriority = "primary"\n',
                   "poetry.lock": POETRY2_LOCK},
        "pdm": {"pyproject.toml": PEP621, "pdm.lock": PDM_LOCK},
        "pipenv": {"Pipfile": PIPFILE, "Pipfile.lock": PIPFILE_LOCK},
        "pip": {"requirements.txt": "idna==3.6\n"},
    }[tool]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    # TOML basic strings: the "'" stays as it is
    (tmp_path / "provision.toml").write_text(f'index-url = "{index}"\nproxy = "http://user:{TOKEN}@proxy.invalid:3128"\n')
    return tmp_path


@pytest.mark.parametrize("secret", SECRETS, ids=["user-password", "quote", "bare-token", "percent"])
@pytest.mark.parametrize("tool", list(CREDENTIAL_PROJECTS))
def test_credentials_reach_the_tool_and_show_nowhere(tmp_path, tool, secret):
    from urllib.parse import unquote

    from invoke import MockContext, Result

    from provision.run.progress import Progress
    from provision.run.runner import Runner
    from provision.steps.venv import ProjectVenv

    user, password = secret
    (tmp_path / "p").mkdir()
    project = credential_project(tmp_path / "p", tool, user, password)
    env = session.prepare(None, project=str(project), platform="debian:12", dry_run=True, predict=False).env
    change = ProjectVenv().check(env)
    commands = list(change.commands)
    raw = "\n".join(what_runs(c) for c in commands)
    assert TOKEN in raw, "the credentials are really passed on"
    _, variable = CREDENTIAL_PROJECTS[tool]
    if tool == "poetry":  # Poetry takes them as they are, not %-encoded
        sync = next(c for c in commands if "sync" in c.argv)
        values = dict(sync.env)
        assert values["POETRY_HTTP_BASIC_CORP_IDX_USERNAME"] == user
        assert values["POETRY_HTTP_BASIC_CORP_IDX_PASSWORD"] == unquote(password or "")
        assert "PIP_INDEX_URL" not in values, "Poetry does not read it: the secret is not handed over for nothing"
        assert values["HTTPS_PROXY"] == f"http://user:{TOKEN}@proxy.invalid:3128"
    elif variable:
        sync = next(c for c in commands if "sync" in c.argv)
        values = dict(sync.env)
        assert TOKEN in values[variable] and TOKEN in values["PIP_INDEX_URL"] and TOKEN in values["HTTPS_PROXY"]
    # every door out: plan text (dry run), JSON, the run log, the progress line, the stamp
    res = StepResult("project-venv", "Project venv", "changed", change.reason, commands)
    text = report.step_text(res, is_root=True, dry_run=True) + report.step_text(res, is_root=False, dry_run=True)
    out = io.StringIO()
    report.dump({"steps": [res.to_json(is_root=True)]}, out)
    log_file = tmp_path / "log" / "run.log"
    (tmp_path / "log").mkdir()
    log, progress_out = RunLog(str(log_file)), io.StringIO()
    runner = Runner(MockContext(run=Result(exited=0)), dry_run=False, is_root=True, sudo="root", interactive=False,
                    log=log, progress=Progress(progress_out, quiet=False))
    for c in commands:
        runner.execute(ProjectVenv(), c)
    log.close()
    stamp = next(c.argv[-1] for c in commands if "promote" in c.argv)
    for where, shown in (("plan", text), ("json", out.getvalue()), ("log", log_file.read_text()),
                         ("progress", progress_out.getvalue()), ("stamp", stamp)):
        assert TOKEN not in shown, f"the secret is in the {where}"
    assert "***@pypi.corp.invalid" in text


SHOWN = [
    # (env, argv) -> what people see
    ((("PIP_INDEX_URL", f"https://u:{TOKEN}$&x@h.invalid/simple"),), ("uv", "sync"),
     "env 'PIP_INDEX_URL=https://***@h.invalid/simple' uv sync"),
    ((("POETRY_HTTP_BASIC_CORP_PASSWORD", TOKEN), ("POETRY_HTTP_BASIC_CORP_USERNAME", "me")), ("poetry", "sync"),
     "env 'POETRY_HTTP_BASIC_CORP_PASSWORD=***' 'POETRY_HTTP_BASIC_CORP_USERNAME=***' poetry sync"),
    ((), ("pip", "--index-url", f"https://u:{TOKEN}@x@h.invalid/simple"), "pip --index-url 'https://***@h.invalid/simple'"),
    ((("VIRTUAL_ENV", "/p/.venv"),), ("pdm", "sync"), "env VIRTUAL_ENV=/p/.venv pdm sync"),
    ((), ("pip", "install", "pkg@https://h.invalid/p.whl"), "pip install pkg@https://h.invalid/p.whl"),
]


@pytest.mark.parametrize(("env", "argv", "shown"), SHOWN)
def test_commands_are_masked_argument_by_argument(env, argv, shown):
    c = Command(argv, env=env)
    assert c.shell(is_root=True) == shown
    assert TOKEN not in json.dumps(c.to_json(is_root=True))
    # what runs is unmasked; an environment with a secret goes to the process, not into the process list
    secret = TOKEN in repr(env) or any("PASSWORD" in k or "USERNAME" in k for k, _ in env)
    if secret:
        assert c.argv_for(is_root=True) == argv and not c.env_inline(is_root=True) and dict(c.env) == dict(env)
    else:
        assert c.argv_for(is_root=True)[1:1 + len(env)] == tuple(f"{k}={v}" for k, v in env)
    through_sudo = Command(argv, env=env, sudo=True)
    assert through_sudo.argv_for(is_root=False)[3:3 + len(env)] == tuple(f"{k}={v}" for k, v in env), "sudo: on the line"
