"""Bad input and machine conditions through the real command line: exit code, one paragraph, nothing changed.

Each row runs ``invoke bootstrap`` (or ``facts``) from the kit's tool environment in a
scratch HOME: 2 for bad input, 1 for a machine condition, never a traceback, and the
scratch tree (project, HOME, state and log directories) is byte for byte as before.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

TOOLS_PY = REPO / ".tools" / "bin" / "python"
PYTHON = str(TOOLS_PY) if TOOLS_PY.exists() else sys.executable
DER = b"\x30\x82\x01\x0a" + b"\x00" * 10
PEM = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(DER) + b"-----END CERTIFICATE-----\n"
KEY = b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
SECRET = "s3cr3t-t0ken"


def snapshot(root: Path) -> list[tuple[str, bool, bytes, int]]:
    out = []
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        data = p.read_bytes() if p.is_file() and not p.is_symlink() else b""
        out.append((str(p.relative_to(root)), p.is_symlink(), data, st.st_mode))
    return out


def setup(tmp: Path, case: str) -> tuple[list[str], dict[str, str]]:
    """The project, HOME and environment of one row; returns (task argv, extra environment)."""
    project = tmp / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("print('mine')\n")
    (tmp / "elsewhere").mkdir()
    (tmp / "elsewhere" / "precious").write_text("keep me")
    toml = ""
    args = ["bootstrap", "--project", str(project), "--dry-run"]
    env: dict[str, str] = {}
    if case == "venv = src":
        toml = 'venv = "src"\n'
    elif case == "venv = ../x":
        toml = 'venv = "../x"\n'
    elif case == "venv = /usr":
        toml = 'venv = "/usr"\n'
    elif case == ".venv is a symlink":
        (project / ".venv").symlink_to(tmp / "elsewhere")
    elif case == "venv = src (real run)":
        toml = 'venv = "src"\n'
        args.remove("--dry-run")
    elif case in ("--ca-bundle with a private key (real run)", "--ca-bundle key only"):
        (tmp / "ca.pem").write_bytes(PEM + KEY if "with" in case else KEY)
        args = ["bootstrap", "--project", str(project), "--ca-bundle", str(tmp / "ca.pem")]
    elif case == "--ca-bundle directory":
        args += ["--ca-bundle", str(tmp / "elsewhere")]
    elif case == "key 'ca-bundle' with a private key":
        (project / "ca.pem").write_bytes(PEM + KEY)
        toml = 'ca-bundle = "ca.pem"\n'
    elif case.startswith("--refresh-after "):
        args += ["--refresh-after", case.split(" ", 1)[1]]
    elif case == "--platform '' (real run)":
        args = ["bootstrap", "--project", str(project), "--platform", ""]
    elif case == "--platform '' --dry-run":
        args += ["--platform", ""]
    elif case == "pyproject not UTF-8":
        (project / "pyproject.toml").write_bytes(b"[tool.provision]\npython = \"\xff\xfe>=3.9\"\n")
    elif case == "pyproject nested 100000 deep":
        (project / "pyproject.toml").write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    elif case == "XDG_STATE_HOME not writable (real run)":
        (tmp / "file").write_text("")
        env["XDG_STATE_HOME"] = str(tmp / "file" / "state")
        args.remove("--dry-run")
    elif case == "HOME not writable (real run)":
        # root writes everywhere: a file where HOME/.local must be a directory is the same condition for it
        (tmp / "home" / ".local").write_text("")
        if os.geteuid() != 0:
            (tmp / "home").chmod(0o555)
        args.remove("--dry-run")
    elif case == "PIP_INDEX_URL is plain http":
        env["PIP_INDEX_URL"] = f"http://user:{SECRET}@mirror.invalid/simple"
    elif case == "PIP_EXTRA_INDEX_URL is plain http":
        env["PIP_EXTRA_INDEX_URL"] = "https://mirror.invalid/simple http://other.invalid/simple"
    elif case == "pip.conf names a plain-http index":
        (tmp / "pip.conf").write_text("[global]\nindex-url = http://mirror.invalid/simple\n")
        env["PIP_CONFIG_FILE"] = str(tmp / "pip.conf")
    elif case == "index-url with http in the config":
        toml = f'index-url = "http://user:{SECRET}@mirror.invalid/simple"\n'
    elif case == "proxy is not a URL":
        toml = f'proxy = "user:{SECRET}@proxy:3128"\n'
    if toml:
        (project / "provision.toml").write_text(toml)
    return args, env


ROWS = [
    # case, exit code, message fragment
    ("venv = src", 2, "is not a venv"),
    ("venv = src (real run)", 2, "is not a venv"),
    ("venv = ../x", 2, "is not inside the project"),
    ("venv = /usr", 2, "is not inside the project"),
    (".venv is a symlink", 2, "goes through a symlink"),
    ("--ca-bundle with a private key (real run)", 2, "PRIVATE KEY"),
    ("--ca-bundle key only", 2, "PRIVATE KEY"),
    ("key 'ca-bundle' with a private key", 2, "PRIVATE KEY"),
    ("--ca-bundle directory", 2, "is a directory"),
    ("--refresh-after abc", 2, "not a number of hours"),
    ("--refresh-after nan", 2, "not a number of hours"),
    ("--refresh-after inf", 2, "not a number of hours"),
    ("--refresh-after -1", 2, "not a number of hours"),
    ("--platform '' (real run)", 2, "--platform is empty"),
    ("--platform '' --dry-run", 2, "--platform is empty"),
    ("pyproject not UTF-8", 2, "is not UTF-8"),
    ("pyproject nested 100000 deep", 2, "too deeply"),
    ("XDG_STATE_HOME not writable (real run)", 1, "cannot write the log file"),
    ("HOME not writable (real run)", 1, "cannot write the log file"),
    ("PIP_INDEX_URL is plain http", 2, "plain-http package index"),
    ("PIP_EXTRA_INDEX_URL is plain http", 2, "http://other.invalid/simple is a plain-http"),
    ("pip.conf names a plain-http index", 2, "pip.conf [global] index-url"),
    ("index-url with http in the config", 2, "key 'index-url'"),
    ("proxy is not a URL", 2, "key 'proxy'"),
]


@pytest.mark.parametrize(("case", "code", "fragment"), ROWS, ids=[r[0] for r in ROWS])
def test_bad_input_or_machine_condition(tmp_path, case, code, fragment):
    home = tmp_path / "home"
    home.mkdir()
    args, extra = setup(tmp_path, case)
    request_cleanup = home.chmod  # a read-only HOME is made writable again for pytest's cleanup
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "XDG_", "SSL_CERT", "REQUESTS_CA"))}
    env.update({"HOME": str(home), "PATH": os.environ.get("PATH", os.defpath), **extra})
    before = snapshot(tmp_path)
    res = subprocess.run([PYTHON, "-m", "invoke", "--search-root", str(REPO), *args], capture_output=True, text=True,
                         env=env, timeout=120, check=False, cwd=tmp_path, stdin=subprocess.DEVNULL)
    text = res.stdout + res.stderr
    assert res.returncode == code, text
    assert fragment in text
    assert "Traceback" not in text and SECRET not in text and "MIIEvQ" not in text
    assert len([ln for ln in res.stderr.splitlines() if ln.strip()]) == 1, "one paragraph"
    assert snapshot(tmp_path) == before, "nothing changed"
    request_cleanup(0o755)
