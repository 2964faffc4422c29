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
    assert any(TOKEN in " ".join(c.argv_for(is_root=False)) for c in commands), "the secret is really passed on"
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
