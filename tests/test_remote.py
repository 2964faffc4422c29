"""``remote``: host parsing, inventory, the kit tarball, remote command lines, results, errors.

Fast and offline: the SSH side is a fake Fabric connection; the real thing runs in
tests/e2e/test_remote_e2e.py.
"""

from __future__ import annotations

import errno
import io
import json
import shlex
import socket
import subprocess
import sys
import tarfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from provision.errors import ConfigError, ProvisionError
from provision.paths import REPO
from provision.remote import run as remote_run
from provision.remote.commands import RemoteOptions, bootstrap_argv, expand_home, shell_line, unpack_line
from provision.remote.hosts import Host, collect_hosts, mask_spec, parallelism, parse_host, parse_hosts, parse_inventory, parse_timeout, read_inventory
from provision.remote.kit import EXCLUDES, build_tarball, kit_files
from provision.remote.results import HostResult, aggregate, failed_hosts, result_from_bootstrap, total_line
from provision.remote.ssh import REQUIREMENTS, HostKeyUnknown, classify_error, ensure_fabric, fingerprint, host_key_policy

# --------------------------------------------------------------------------- hosts

HOSTS = [
    ("h1", Host("h1")),
    ("dev@h1", Host("h1", "dev")),
    ("h2:2222", Host("h2", None, 2222)),
    ("dev@build-1.example.test:22", Host("build-1.example.test", "dev", 22)),
    ("127.0.0.11:2222", Host("127.0.0.11", None, 2222)),
    ("[::1]", Host("::1")),
    ("root@[::1]:2222", Host("::1", "root", 2222)),
    ("[fe80::1%eth0]:22", Host("fe80::1%eth0", None, 22)),
    ("  spaced  ", Host("spaced")),
    ("my_alias", Host("my_alias")),
    ("svc-user.x@h", Host("h", "svc-user.x")),
]


@pytest.mark.parametrize(("text", "host"), HOSTS)
def test_parse_host(text: str, host: Host) -> None:
    assert parse_host(text) == host


@pytest.mark.parametrize(("host", "label"), [
    (Host("h1"), "h1"),
    (Host("h1", "dev", 2222), "dev@h1:2222"),
    (Host("::1", "root", 22), "root@[::1]:22"),
])
def test_label(host: Host, label: str) -> None:
    assert host.label == label
    assert parse_host(label) == host


BAD_HOSTS = [
    ("", "it is empty"),
    ("   ", "it is empty"),
    ("@h1", "the user before '@' is empty"),
    ("dev@", "the host name is empty"),
    (":22", "the host name is empty"),
    ("h1:", "the port '' is not a number"),
    ("h1:ssh", "the port 'ssh' is not a number"),
    ("h1:0", "not between 1 and 65535"),
    ("h1:65536", "not between 1 and 65535"),
    ("h1:-1", "not a number"),
    ("::1", "an IPv6 address needs brackets"),
    ("fe80::1:22", "an IPv6 address needs brackets"),
    ("[::1", "'[' of an IPv6 address is not closed"),
    ("[h1]:22", "'h1' is not an IPv6 address"),
    ("[::1]22", "unexpected '22' after ']'"),
    ("h1 h2", "contains blanks"),
    ("h;rm", "is not a valid host name"),
    ("h;rm -rf /", "contains blanks"),
    ("bad user@h", "contains blanks"),
    ("a$b@h", "is not a valid user name"),
    ("-oProxyCommand=x", "is not a valid host name"),
    ("h/1", "is not a valid host name"),
]


@pytest.mark.parametrize(("text", "message"), BAD_HOSTS)
def test_bad_hosts_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_host(text, where="--hosts")
    assert message in str(e.value)
    assert str(e.value).startswith("--hosts: bad host ")


# (--hosts value, inventory line or None, the secret's pieces that must appear nowhere)
SECRET_SPECS = [
    ("dev:Zq9secret@h1", "dev:Zq9secret@h1", ["Zq9secret"]),
    ("dev:Zq9secret@h1:2222", "dev:Zq9secret@h1:2222  # build box", ["Zq9secret"]),
    ("root:Zq9@Yw7:Xv5@[::1]:22", "root:Zq9@Yw7:Xv5@[::1]:22", ["Zq9", "Yw7", "Xv5"]),  # '@' and ':' in the password
    ("dev:Zq9 Yw7@h1", "dev:Zq9 Yw7@h1", ["Zq9", "Yw7"]),  # a blank in it
    ("h0,dev:Zq9,Yw7@h1", None, ["Zq9", "Yw7"]),  # a comma in it: --hosts splits there
    (None, "dev:Zq9#Yw7@h1", ["Zq9", "Yw7"]),  # a '#' in it: an inventory comment starts there
    (":Zq9secret@h1", ":Zq9secret@h1", ["Zq9secret"]),  # no user
    ("dev:Zq9secret@", "dev:Zq9secret@", ["Zq9secret"]),  # no host
    ("ops:Zq9secret@h;rm", "ops:Zq9secret@h;rm", ["Zq9secret"]),  # and a bad host name
    ("dev:Zq9secret@h1:ssh", "dev:Zq9secret@h1:ssh", ["Zq9secret"]),  # and a bad port
]


@pytest.mark.parametrize(("hosts", "line", "secrets"), SECRET_SPECS)
def test_a_password_in_a_host_spec_is_refused_and_never_repeated(tmp_path: Path, hosts: str | None, line: str | None,
                                                                 secrets: list[str]) -> None:
    messages = []
    if hosts is not None:
        with pytest.raises(ConfigError) as e:
            parse_hosts(hosts)
        messages.append(str(e.value))
    if line is not None:
        inv = tmp_path / "hosts"
        inv.write_text(f"h9\n{line}\n", encoding="utf-8")
        with pytest.raises(ConfigError) as e:
            read_inventory(str(inv))
        messages.append(str(e.value))
        assert str(e.value).startswith(f"{inv}:2: bad host ")
    for msg in messages:
        assert "passwords are never taken" in msg and ":***@" in msg
        for secret in secrets:
            assert secret not in msg


@pytest.mark.parametrize(("hosts", "line", "secrets"), [s for s in SECRET_SPECS if s[0] is not None])
def test_remote_refuses_a_password_with_exit_2_and_without_the_password(capsys: pytest.CaptureFixture[str], hosts: str,
                                                                        line: str | None, secrets: list[str]) -> None:
    from invoke import Collection, Program

    from provision.cli.remote import remote

    with pytest.raises(SystemExit) as e:
        Program(namespace=Collection(remote), name="provision").run(["provision", "remote", "--hosts", hosts])
    assert e.value.code == 2
    out, err = capsys.readouterr()
    assert err.startswith("provision: --hosts: bad host ") and "passwords are never taken" in err
    for secret in secrets:
        assert secret not in out + err


@pytest.mark.parametrize(("text", "masked"), [
    ("dev:pw@h1", "dev:***@h1"), ("a:b:c@d@h1:22", "a:***@h1:22"), ("dev@h1", "dev@h1"), ("h1:22", "h1:22"),
    ("[::1]:22", "[::1]:22"), ("dev@[::1]:22", "dev@[::1]:22"),
])
def test_mask_spec(text: str, masked: str) -> None:
    assert mask_spec(text) == masked


def test_a_port_before_a_user_is_not_a_password() -> None:
    """The comma rule only reads on after a failure: "h2:2222,dev@h3" stays two hosts."""
    assert parse_hosts("h2:2222,dev@h3") == [Host("h2", None, 2222), Host("h3", "dev")]
    assert parse_inventory("h2:2222 # ops@example.test\n", "inv") == [Host("h2", None, 2222)]


def test_parse_hosts_commas_and_empties() -> None:
    assert parse_hosts("dev@h1,h2:2222, [::1] ,") == [Host("h1", "dev"), Host("h2", None, 2222), Host("::1")]
    with pytest.raises(ConfigError, match="--hosts is empty"):
        parse_hosts(" , ")


def test_inventory_comments_blanks_and_line_numbers(tmp_path: Path) -> None:
    text = "# build farm\n\ndev@h1   # the first\n  h2:2222\n[::1]:22\n   # indented comment\n"
    assert parse_inventory(text, "inv") == [Host("h1", "dev"), Host("h2", None, 2222), Host("::1", None, 22)]
    with pytest.raises(ConfigError, match=r"^inv:3: bad host 'h3:x'"):
        parse_inventory("h1\nh2\nh3:x\n", "inv")
    inv = tmp_path / "hosts"
    inv.write_text("# nothing\n\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="lists no host"):
        read_inventory(str(inv))
    with pytest.raises(ConfigError, match="cannot read the inventory"):
        read_inventory(str(tmp_path / "missing"))


def test_collect_hosts_merges_and_refuses_duplicates(tmp_path: Path) -> None:
    inv = tmp_path / "hosts"
    inv.write_text("h3\n", encoding="utf-8")
    assert [h.label for h in collect_hosts("h1,h2", str(inv))] == ["h1", "h2", "h3"]
    with pytest.raises(ConfigError, match="listed twice"):
        collect_hosts("h1,h1", None)
    with pytest.raises(ConfigError, match="no hosts given"):
        collect_hosts(None, None)


@pytest.mark.parametrize(("requested", "hosts", "expected"), [
    (None, 3, 3), (0, 1, 1), ("", 12, 8), (None, 20, 8), (2, 5, 2), ("4", 2, 2), (16, 20, 16),
])
def test_parallelism(requested: Any, hosts: int, expected: int) -> None:
    assert parallelism(requested, hosts) == expected


@pytest.mark.parametrize(("requested", "message"), [("x", "not a number"), (-1, "at least 1")])
def test_parallelism_bad(requested: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parallelism(requested, 3)


@pytest.mark.parametrize(("value", "expected"), [(None, 15.0), ("", 15.0), ("30", 30.0), ("2.5", 2.5)])
def test_parse_timeout(value: str | None, expected: float) -> None:
    assert parse_timeout(value) == expected


@pytest.mark.parametrize("value", ["x", "0", "-3", "99999"])
def test_parse_timeout_bad(value: str) -> None:
    with pytest.raises(ConfigError, match="--connect-timeout"):
        parse_timeout(value)


# --------------------------------------------------------------------------- the tarball


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args], check=True, capture_output=True)


@pytest.fixture
def kit_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "kit"
    for rel, text in {
        "bootstrap": "#!/bin/sh\n",
        "tasks.py": "",
        "provision/__init__.py": "",
        "docs/a b.md": "spaces\n",
        "gone.txt": "deleted after commit\n",
        ".vagrant/machines/x": "tracked by mistake\n",
        "provision/__pycache__/m.cpython-311.pyc": "bytecode tracked by mistake\n",
    }.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, encoding="utf-8")
    (repo / "bootstrap").chmod(0o755)
    _git(repo, "init", "-q")
    _git(repo, "add", "-f", ".")
    _git(repo, "commit", "-q", "-m", "kit")
    (repo / "gone.txt").unlink()
    (repo / "tasks.py").write_text("# edited, not committed\n", encoding="utf-8")
    for rel in ("untracked.py", ".venv/bin/python", ".tools/bin/invoke", "provision/__pycache__/n.pyc"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text("x", encoding="utf-8")
    return repo


def test_kit_files_are_the_tracked_ones_minus_excludes(kit_repo: Path) -> None:
    assert kit_files(kit_repo) == ["bootstrap", "docs/a b.md", "provision/__init__.py", "tasks.py"]


def test_kit_files_without_git_walks_the_tree(kit_repo: Path) -> None:
    import shutil

    shutil.rmtree(kit_repo / ".git")
    assert kit_files(kit_repo) == ["bootstrap", "docs/a b.md", "provision/__init__.py", "tasks.py", "untracked.py"]


def test_tarball_contents_modes_and_owners(kit_repo: Path) -> None:
    data = build_tarball(kit_repo)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert sorted(members) == ["bootstrap", "docs/a b.md", "provision/__init__.py", "tasks.py"]
        assert members["bootstrap"].mode & 0o111, "stage 0 must stay executable"
        assert all(m.uid == 0 and m.gid == 0 and m.uname == "" for m in members.values())
        # the working tree's content, not the committed one
        assert tar.extractfile("tasks.py").read() == b"# edited, not committed\n"  # type: ignore[union-attr]


def test_the_repository_tarball_has_no_venv_or_git() -> None:
    names = kit_files(REPO)
    assert "bootstrap" in names and "tasks.py" in names
    assert not [n for n in names if any(p in EXCLUDES for p in Path(n).parts)]


# --------------------------------------------------------------------------- command lines


ARGV = [
    (RemoteOptions(), None, None, ["sh", "./bootstrap", "--yes", "--json"]),
    (RemoteOptions(dry_run=True), None, None, ["sh", "./bootstrap", "--yes", "--json", "--dry-run"]),
    (RemoteOptions(ca_bundle="/local/corp.pem"), "/home/dev/.cache/provision/ca-bundle.pem", None,
     ["sh", "./bootstrap", "--yes", "--json", "--ca-bundle", "/home/dev/.cache/provision/ca-bundle.pem"]),
    (RemoteOptions(dry_run=True, project="/srv/my app"), "/c.pem", "/srv/my app",
     ["sh", "./bootstrap", "--yes", "--json", "--dry-run", "--ca-bundle", "/c.pem", "--project", "/srv/my app"]),
]


@pytest.mark.parametrize(("options", "remote_ca", "project", "argv"), ARGV)
def test_bootstrap_argv(options: RemoteOptions, remote_ca: str | None, project: str | None, argv: list[str]) -> None:
    assert bootstrap_argv(options, remote_ca=remote_ca, project=project) == argv


@pytest.mark.parametrize(("kit", "argv", "env", "line"), [
    ("/home/dev/.cache/provision/kit", ["sh", "./bootstrap", "--version"], None,
     "cd -- /home/dev/.cache/provision/kit && sh ./bootstrap --version"),
    ("/home/dev/.cache/provision/kit", ["sh", "./bootstrap", "--version"], {"PIP_CERT": "/home/dev/ca b.pem"},
     "cd -- /home/dev/.cache/provision/kit && PIP_CERT='/home/dev/ca b.pem' sh ./bootstrap --version"),
    ("/srv/it's here", ["sh", "./bootstrap", "--yes", "--json", "--project", "/p; rm -rf ~"], None,
     "cd -- '/srv/it'\"'\"'s here' && sh ./bootstrap --yes --json --project '/p; rm -rf ~'"),
])
def test_shell_line_quotes_every_word(kit: str, argv: list[str], env: dict[str, str] | None, line: str) -> None:
    assert shell_line(kit, argv, env) == line
    words = shlex.split(line)
    assert words[2] == kit and words[-len(argv):] == argv


@pytest.mark.parametrize(("path", "expected"), [
    ("~", "/home/dev"), ("~/.cache/provision/kit", "/home/dev/.cache/provision/kit"), ("kit", "/home/dev/kit"),
    ("/opt/kit", "/opt/kit"), ("~other/x", "/home/dev/~other/x"),
])
def test_expand_home(path: str, expected: str) -> None:
    assert expand_home(path, "/home/dev/") == expected


def test_unpack_replaces_the_kit_and_keeps_its_venvs(tmp_path: Path, kit_repo: Path) -> None:
    kit = tmp_path / "remote home" / "kit"
    (kit / ".venv").mkdir(parents=True)
    (kit / ".venv" / "marker").write_text("project venv", encoding="utf-8")
    (kit / ".tools").mkdir()
    (kit / "stale.py").write_text("from an older kit", encoding="utf-8")
    upload = tmp_path / "remote home" / "kit.upload.tar.gz"
    upload.write_bytes(build_tarball(kit_repo))
    subprocess.run(["sh", "-c", unpack_line(str(kit), str(upload))], check=True)
    assert sorted(p.name for p in kit.iterdir()) == [".tools", ".venv", "bootstrap", "docs", "provision", "tasks.py"]
    assert (kit / ".venv" / "marker").read_text(encoding="utf-8") == "project venv"
    assert not upload.exists() and not (tmp_path / "remote home" / "kit.new").exists()
    # a first push: nothing there yet
    upload.write_bytes(build_tarball(kit_repo))
    fresh = tmp_path / "fresh" / "kit"
    fresh.parent.mkdir()
    subprocess.run(["sh", "-c", unpack_line(str(fresh), str(upload))], check=True)
    assert (fresh / "bootstrap").is_file()


# --------------------------------------------------------------------------- results


def _bootstrap_json(**recap: int) -> str:
    counts = {"ok": 0, "changed": 0, "failed": 0, "skipped": 0, **recap}
    steps = [{"name": "venv", "title": "Project venv", "status": "failed", "error": "pip failed:\nERROR: no space left"}] if counts["failed"] else []
    return json.dumps({"platform": "debian:12", "steps": steps, "recap": counts, "log": "/home/dev/.local/state/provision/log/b.log"}, indent=2)


RESULTS = [
    (0, _bootstrap_json(ok=5, changed=2), "", "changed", {"ok": 5, "changed": 2, "failed": 0, "skipped": 0}, None),
    (0, _bootstrap_json(ok=7), "", "ok", {"ok": 7, "changed": 0, "failed": 0, "skipped": 0}, None),
    (1, _bootstrap_json(ok=3, failed=1, skipped=2), "", "failed", {"ok": 3, "changed": 0, "failed": 1, "skipped": 2},
     "step Project venv failed: ERROR: no space left"),
    (2, "", "bootstrap: noise\nprovision: the CA bundle x is not a PEM file.\n", "failed", None,
     "bootstrap exited 2 without a recap: provision: the CA bundle x is not a PEM file."),
    (1, "Invoke noise\n" + _bootstrap_json(ok=1), "", "failed", {"ok": 1, "changed": 0, "failed": 0, "skipped": 0}, "bootstrap exited 1"),
]


@pytest.mark.parametrize(("exited", "stdout", "stderr", "status", "recap", "error"), RESULTS)
def test_result_from_bootstrap(exited: int, stdout: str, stderr: str, status: str, recap: dict | None, error: str | None) -> None:
    res = result_from_bootstrap("h1", exited, stdout, stderr, 1.5)
    assert (res.status, res.recap, res.error) == (status, recap, error)


def test_aggregate_and_lines() -> None:
    results = [
        HostResult("dev@h1", "changed", {"ok": 5, "changed": 2, "failed": 0, "skipped": 1}, None, 61.2),
        HostResult("h2:2222", "failed", None, "connection refused by h2:2222: nothing listens for SSH there.", 0.1),
        HostResult("h3", "ok", {"ok": 8, "changed": 0, "failed": 0, "skipped": 0}, None, 12.0),
    ]
    doc = aggregate(results, 61.5)
    assert list(doc) == ["hosts", "total"]
    assert doc["hosts"]["dev@h1"] == {"status": "changed", "recap": {"ok": 5, "changed": 2, "failed": 0, "skipped": 1}, "error": None,
                                      "duration": 61.2, "log": None, "remote_log": None}
    assert doc["total"] == {"hosts": 3, "succeeded": 2, "failed": 1, "failed_hosts": ["h2:2222"],
                            "recap": {"ok": 13, "changed": 2, "failed": 0, "skipped": 1}, "duration": 61.5}
    assert [r.recap_line() for r in results] == [
        "dev@h1: recap: ok=5 changed=2 failed=0 skipped=1",
        "h2:2222: FAILED: connection refused by h2:2222: nothing listens for SSH there.",
        "h3: recap: ok=8 changed=0 failed=0 skipped=0",
    ]
    assert total_line(results, 61.5) == "total: 3 hosts, 2 succeeded, 1 failed (h2:2222) in 62s; ok=13 changed=2 failed=0 skipped=1"
    json.dumps(doc)


# --------------------------------------------------------------------------- errors


def _named(name: str, base: type[BaseException] = Exception, **attrs: Any) -> BaseException:
    exc = type(name, (base,), {})("server said no")
    for k, v in attrs.items():
        setattr(exc, k, v)
    return exc


def _no_valid(*codes: int) -> BaseException:
    return _named("NoValidConnectionsError", OSError, errors={("127.0.0.1", 22 + i): OSError(c, "x") for i, c in enumerate(codes)})


ERRORS = [
    (HostKeyUnknown("h1", 2222, "ssh-ed25519", "SHA256:abc"),
     ["host key unknown", "h1:2222", "SHA256:abc", "ssh-keyscan -p 2222 h1 >> ~/.ssh/known_hosts", "--accept-new-host-keys", "[h1]:2222"]),
    (_named("BadHostKeyException"), ["host key CHANGED for h1:2222", "ssh-keygen -R '[h1]:2222'"]),
    (_named("AuthenticationException"), ["authentication refused for user dev at h1:2222", "/keys/id_build", "--identity"]),
    (_named("BadAuthenticationType", allowed_types=["password"]), ["authentication refused", "the server accepts: password"]),
    (_named("PasswordRequiredException"), ["encrypted with a passphrase", "ssh-add /keys/id_build"]),
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), ["cannot resolve the host name 'h1'", "Name or service not known"]),
    (socket.timeout("timed out"), ["timed out connecting to h1:2222 after 7s"]),
    (TimeoutError(), ["timed out connecting to h1:2222 after 7s"]),
    (_no_valid(errno.ECONNREFUSED), ["connection refused by h1:2222"]),
    (_no_valid(errno.EHOSTUNREACH), ["no route to h1:2222"]),
    (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), ["connection refused by h1:2222"]),
    (OSError(errno.ENETUNREACH, "unreachable"), ["no route to h1:2222"]),
    (_named("SSHException", Exception).__class__("Error reading SSH protocol banner"), ["h1:2222 does not speak SSH"]),
    (EOFError(), ["closed by the host"]),
]


@pytest.mark.parametrize(("exc", "needles"), ERRORS)
def test_classify_error(exc: BaseException, needles: list[str]) -> None:
    msg = classify_error(exc, host="dev@h1:2222", hostname="h1", port=2222, user="dev", keys=["/keys/id_build"], timeout=7)
    assert "\n" not in msg
    for needle in needles:
        assert needle in msg


def test_classify_real_paramiko_exceptions() -> None:
    paramiko = pytest.importorskip("paramiko")
    from paramiko.ssh_exception import NoValidConnectionsError

    key = paramiko.ECDSAKey.generate()
    cases = [
        (paramiko.AuthenticationException("Authentication failed."), "authentication refused for user dev"),
        (paramiko.BadHostKeyException("h1", key, key), "host key CHANGED"),
        (paramiko.PasswordRequiredException("private key file is encrypted"), "passphrase"),
        (NoValidConnectionsError({("127.0.0.1", 2222): ConnectionRefusedError(errno.ECONNREFUSED, "refused")}), "connection refused"),
        (paramiko.SSHException("Error reading SSH protocol banner"), "does not speak SSH"),
    ]
    for exc, needle in cases:
        msg = classify_error(exc, host="h1", hostname="h1", port=2222, user="dev", keys=["/k"])
        assert needle in msg, msg
        assert key.get_base64() not in msg


def test_host_key_policy_refuses_or_records(tmp_path: Path) -> None:
    paramiko = pytest.importorskip("paramiko")
    key = paramiko.ECDSAKey.generate()
    client = paramiko.SSHClient()
    known = tmp_path / "ssh" / "known_hosts"
    notices: list[str] = []
    with pytest.raises(HostKeyUnknown) as e:
        host_key_policy(False, str(known), notices.append).missing_host_key(client, "[127.0.0.11]:2222", key)
    assert (e.value.hostname, e.value.port, e.value.fingerprint) == ("127.0.0.11", 2222, fingerprint(key))
    assert not known.exists()
    host_key_policy(True, str(known), notices.append).missing_host_key(client, "[127.0.0.11]:2222", key)
    assert known.read_text(encoding="utf-8") == f"[127.0.0.11]:2222 {key.get_name()} {key.get_base64()}\n"
    assert notices == [f"accepted the new host key {key.get_name()} {fingerprint(key)} (added to {known})"]
    assert client.get_host_keys().lookup("[127.0.0.11]:2222") is not None


# --------------------------------------------------------------------------- the driver, with a fake SSH side


class FakeSFTP:
    def __init__(self, conn: FakeConnection) -> None:
        self.conn = conn

    def normalize(self, path: str) -> str:
        return f"/home/{self.conn.user}"

    def put(self, local: str, remote: str) -> None:
        self.conn.calls.append(f"put {Path(local).name} {remote}")

    def putfo(self, fo: Any, remote: str) -> None:
        with tarfile.open(fileobj=fo, mode="r:gz") as tar:
            assert "bootstrap" in tar.getnames()
        self.conn.calls.append(f"putfo {remote}")

    def chmod(self, path: str, mode: int) -> None:
        pass


class FakeConnection:
    """Stands in for fabric.Connection: scripted per host name."""

    script: dict[str, Any] = {}

    def __init__(self, host: Host) -> None:
        self.host, self.port, self.user = host.host, host.port or 22, host.user or "dev"
        self.connect_kwargs: dict[str, Any] = {}
        self.calls: list[str] = []
        self.behaviour = self.script.get(host.host, {})

    def open(self) -> None:
        if "open" in self.behaviour:
            raise self.behaviour["open"]

    def sftp(self) -> FakeSFTP:
        return FakeSFTP(self)

    def run(self, line: str, **kwargs: Any) -> SimpleNamespace:
        assert kwargs["in_stream"] is False and kwargs["warn"] is True and kwargs["hide"] is True
        self.calls.append(line)
        if "./bootstrap --yes --json" in line:
            return SimpleNamespace(exited=self.behaviour.get("exit", 0), stdout=self.behaviour.get("json", _bootstrap_json(ok=4)), stderr="")
        return SimpleNamespace(exited=0, stdout="", stderr="")

    def close(self) -> None:
        self.calls.append("close")


@pytest.fixture
def fake_ssh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, FakeConnection]:
    made: dict[str, FakeConnection] = {}

    def connection(host: Host, options: RemoteOptions, notice: Any) -> FakeConnection:
        made[host.host] = FakeConnection(host)
        return made[host.host]

    monkeypatch.setattr(remote_run, "connection", connection)
    monkeypatch.setattr(remote_run, "ensure_fabric", lambda *a, **k: None)
    monkeypatch.setattr(remote_run, "log_dir", lambda: str(tmp_path / "logs"))
    FakeConnection.script = {
        "down": {"open": _no_valid(errno.ECONNREFUSED)},
        "broken": {"exit": 1, "json": _bootstrap_json(ok=2, failed=1)},
    }
    return made


def test_one_failing_host_does_not_stop_the_others(fake_ssh: dict[str, FakeConnection], tmp_path: Path) -> None:
    ca = tmp_path / "corp.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code, results = remote_run.remote(hosts="dev@h1,down:2222,ops@broken", inventory=None, options=RemoteOptions(ca_bundle=str(ca), project="~/app"),
                              as_json=True, out=out, err=err)
    assert code == 1
    assert failed_hosts(results) == ["down:2222", "ops@broken"]
    doc = json.loads(out.getvalue())  # stdout is the JSON and nothing else
    assert doc["hosts"]["dev@h1"]["status"] == "ok"
    assert doc["hosts"]["down:2222"]["error"].startswith("connection refused by down:2222")
    assert doc["hosts"]["ops@broken"]["recap"]["failed"] == 1
    progress = err.getvalue()
    for line in ("dev@h1: started", "dev@h1: pushing the kit to /home/dev/.cache/provision/kit", "dev@h1: stage 0", "dev@h1: bootstrap",
                 "total: 3 hosts, 1 succeeded, 2 failed (down:2222, ops@broken)"):
        assert line in progress
    assert "dev@h1: done in " in progress
    calls = fake_ssh["h1"].calls
    assert calls[0] == "mkdir -p -- /home/dev/.cache/provision"
    assert "put corp.pem /home/dev/.cache/provision/ca-bundle.pem" in calls
    assert "putfo /home/dev/.cache/provision/kit.upload.tar.gz" in calls
    assert ("cd -- /home/dev/.cache/provision/kit && PIP_CERT=/home/dev/.cache/provision/ca-bundle.pem sh ./bootstrap --version") in calls
    assert ("cd -- /home/dev/.cache/provision/kit && sh ./bootstrap --yes --json --ca-bundle /home/dev/.cache/provision/ca-bundle.pem "
            "--project /home/dev/app") in calls
    assert calls[-1] == "close" and fake_ssh["down"].calls == ["close"]
    assert (tmp_path / "logs" / "dev@h1.log").is_file()


def test_human_output_and_no_push(fake_ssh: dict[str, FakeConnection]) -> None:
    out, err = io.StringIO(), io.StringIO()
    code, _ = remote_run.remote(hosts="h1", inventory=None, options=RemoteOptions(push=False, remote_path="/srv/kit", dry_run=True), out=out, err=err)
    assert code == 0
    assert out.getvalue().splitlines()[0] == "h1: recap: ok=4 changed=0 failed=0 skipped=0"
    assert out.getvalue().splitlines()[1].startswith("total: 1 host, 1 succeeded, 0 failed in ")
    calls = fake_ssh["h1"].calls
    assert not [c for c in calls if c.startswith("putfo")]
    assert "test -f /srv/kit/bootstrap" in calls
    assert "cd -- /srv/kit && sh ./bootstrap --yes --json --dry-run" in calls


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"ca_bundle": "/nonexistent/ca.pem"}, "--ca-bundle: the CA bundle /nonexistent/ca.pem is not a readable file"),
    ({"identity": "/nonexistent/key"}, "--identity: /nonexistent/key is not a file"),
    ({"ssh_config": "/nonexistent/cfg"}, "--ssh-config: /nonexistent/cfg is not a file"),
    ({"remote_path": " "}, "--remote-path is empty"),
])
def test_bad_options_fail_before_any_connection(fake_ssh: dict[str, FakeConnection], kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        remote_run.remote(hosts="h1", inventory=None, options=RemoteOptions(**kwargs), out=io.StringIO(), err=io.StringIO())
    assert fake_ssh == {}


# --------------------------------------------------------------------------- installing Fabric


INSTALLING = "provision: installing Fabric for remote runs into the kit's tool venv (requirements-remote.txt), once\n"


@pytest.fixture
def no_fabric(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fabric "not installed" (an import fails), in a venv (not the system Python), no CA in the environment."""
    monkeypatch.setitem(sys.modules, "fabric", None)
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    monkeypatch.setattr(sys, "prefix", "/kit/.tools")
    for name in ("PIP_CERT", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)


class FakePip:
    """Records each pip argv; a successful install makes ``import fabric`` work, as pip would."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, returncode: int = 0, stderr: str = "", installs: bool = True) -> None:
        self.monkeypatch, self.returncode, self.stderr, self.installs = monkeypatch, returncode, stderr, installs
        self.ran: list[list[str]] = []

    def __call__(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        self.ran.append(argv)
        if self.returncode == 0 and self.installs:
            self.monkeypatch.setitem(sys.modules, "fabric", SimpleNamespace(__name__="fabric"))
        return subprocess.CompletedProcess(argv, self.returncode, "", self.stderr)


def test_ensure_fabric_installs_once_with_the_ca(no_fabric: None, monkeypatch: pytest.MonkeyPatch) -> None:
    pip = FakePip(monkeypatch)
    err = io.StringIO()
    ensure_fabric("/corp.pem", err, pip=pip)
    assert err.getvalue() == INSTALLING
    (argv,) = pip.ran
    assert argv[:4] == [sys.executable, "-m", "pip", "install"]
    assert argv[-4:] == ["-r", str(REQUIREMENTS), "--cert", "/corp.pem"]
    ensure_fabric("/corp.pem", err, pip=pip)  # installed now: nothing to do, nothing printed
    assert len(pip.ran) == 1 and err.getvalue() == INSTALLING


@pytest.mark.parametrize(("ca_bundle", "env", "cert"), [
    ("/corp.pem", {"PIP_CERT": "/env.pem"}, ["--cert", "/corp.pem"]),  # --ca-bundle wins
    (None, {"PIP_CERT": "/env.pem", "SSL_CERT_FILE": "/ssl.pem"}, ["--cert", "/env.pem"]),
    (None, {"SSL_CERT_FILE": "/ssl.pem"}, ["--cert", "/ssl.pem"]),
    (None, {}, []),
])
def test_ensure_fabric_trusts_the_ca_pip_would(no_fabric: None, monkeypatch: pytest.MonkeyPatch, ca_bundle: str | None,
                                               env: dict[str, str], cert: list[str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pip = FakePip(monkeypatch)
    ensure_fabric(ca_bundle, io.StringIO(), pip=pip)
    (argv,) = pip.ran
    assert argv[argv.index(str(REQUIREMENTS)) + 1:] == cert


def test_ensure_fabric_install_failure_names_pip_s_error(no_fabric: None, monkeypatch: pytest.MonkeyPatch) -> None:
    pip = FakePip(monkeypatch, returncode=1, stderr="ERROR: Could not find a version that satisfies the requirement fabric==3.2.3\n")
    err = io.StringIO()
    with pytest.raises(ProvisionError, match="installing Fabric .* failed: ERROR: Could not find a version"):
        ensure_fabric("/corp.pem", err, pip=pip)
    assert err.getvalue() == INSTALLING and len(pip.ran) == 1


def test_ensure_fabric_installed_but_not_importable(no_fabric: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ProvisionError, match="installed but cannot be imported.*rm -rf /kit/.tools"):
        ensure_fabric(None, io.StringIO(), pip=FakePip(monkeypatch, installs=False))


def test_ensure_fabric_never_installs_into_the_system_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fabric", None)
    monkeypatch.setattr(sys, "base_prefix", sys.prefix)
    pip = FakePip(monkeypatch)
    with pytest.raises(ProvisionError, match="PEP 668"):
        ensure_fabric(pip=pip)
    assert pip.ran == []


def test_requirements_remote_pins_everything_exactly() -> None:
    lines = [ln.split("#", 1)[0].strip() for ln in REQUIREMENTS.read_text(encoding="utf-8").splitlines()]
    pins = dict(ln.split("==", 1) for ln in lines if ln)
    assert pins["invoke"] == "2.2.1" and pins["fabric"].startswith("3.")
    assert {"paramiko", "cryptography", "bcrypt", "PyNaCl", "cffi", "pycparser", "decorator", "Deprecated", "wrapt"} <= set(pins)
    tools = (REPO / "requirements-tools.txt").read_text(encoding="utf-8")
    assert "fabric" not in tools.lower().replace("fabric (many hosts", "")
