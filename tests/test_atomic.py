"""The venv swap: paths rewritten, stamp written, old venv replaced, leftovers discarded."""

import json
import os

import pytest

from provision import atomic


def fake_venv(path):
    (path / "bin").mkdir(parents=True)
    (path / "pyvenv.cfg").write_text(f"home = /usr/bin\ncommand = /usr/bin/python3 -m venv {path}\n")
    script = path / "bin" / "pytest"
    script.write_text(f"#!{path}/bin/python\nimport sys\n")
    script.chmod(0o755)
    (path / "bin" / "binary").write_bytes(b"\x7fELF\x00" + str(path).encode())
    os.symlink("/usr/bin/python3", path / "bin" / "python")


def staged(path):
    atomic.stage(path)
    fake_venv(path)
    return path


def test_promote(tmp_path):
    stage, final = tmp_path / ".venv.partial", tmp_path / ".venv"
    staged(stage)
    final.mkdir()
    (final / "old-marker").write_text("")
    (final / atomic.STAMP).write_text("{}")  # the kit's own: replaced
    assert atomic.promote(stage, final, json.dumps({"digest": "d"})) is None
    assert not stage.exists() and not (tmp_path / ".venv.old").exists()
    assert (final / "bin" / "pytest").read_text().startswith(f"#!{final}/bin/python\n")
    assert os.access(final / "bin" / "pytest", os.X_OK)
    assert f"venv {final}\n" in (final / "pyvenv.cfg").read_text()
    assert str(stage).encode() in (final / "bin" / "binary").read_bytes(), "binaries are left alone"
    assert os.readlink(final / "bin" / "python") == "/usr/bin/python3"
    assert json.loads((final / atomic.STAMP).read_text()) == {"digest": "d"}
    assert not (final / "old-marker").exists()
    assert not (final / atomic.BUILDING).exists()


def test_pip_conf_merges(tmp_path):
    (tmp_path / "pip.conf").write_text("[global]\ntimeout = 60\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "activate").write_text("# venv\n")
    atomic.write_pip_conf(tmp_path, "/etc/ssl/certs/ca-certificates.crt", None, "http://proxy:3128")
    text = (tmp_path / "pip.conf").read_text()
    assert "timeout = 60" in text and "cert = /etc/ssl/certs/ca-certificates.crt" in text and "proxy = http://proxy:3128" in text
    activate = (tmp_path / "bin" / "activate").read_text()
    assert 'export REQUESTS_CA_BUNDLE="/etc/ssl/certs/ca-certificates.crt"' in activate
    atomic.write_pip_conf(tmp_path, "/etc/ssl/certs/ca-certificates.crt", None, None)
    assert (tmp_path / "bin" / "activate").read_text() == activate, "written once"


def test_discard_cli(tmp_path):
    (tmp_path / "d" / "x").mkdir(parents=True)
    (tmp_path / "d" / atomic.BUILDING).write_text("")
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / atomic.STAMP).write_text("{}")
    assert atomic.main(["discard", str(tmp_path / "d"), str(tmp_path / "e"), str(tmp_path / "absent")]) == 0
    assert list(tmp_path.iterdir()) == []


def _target(tmp_path, kind):
    """Something at tmp_path/'t' the kit did not build (or did, for the control rows)."""
    t = tmp_path / "t"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep me")
    if kind == "plain directory":
        t.mkdir()
        (t / "precious").write_text("keep me")
    elif kind == "file":
        t.write_text("keep me")
    elif kind == "symlink to a directory":
        t.symlink_to(outside)
    elif kind == "symlink to a kit venv":
        (outside / atomic.STAMP).write_text("{}")
        t.symlink_to(outside)
    elif kind == "marker is a symlink":
        t.mkdir()
        (t / atomic.STAMP).symlink_to(outside / "precious")
    elif kind == "foreign venv":
        t.mkdir()
        (t / "pyvenv.cfg").write_text("home = /usr/bin\n")
    elif kind == "marker is a directory":
        t.mkdir()
        (t / atomic.BUILDING).mkdir()
    return t, outside


UNPROVEN = ["plain directory", "file", "symlink to a directory", "symlink to a kit venv", "marker is a symlink",
            "foreign venv", "marker is a directory"]


def _snapshot(root):
    return sorted((str(p.relative_to(root)), p.is_symlink(), p.read_bytes() if p.is_file() and not p.is_symlink() else b"")
                  for p in root.rglob("*"))


@pytest.mark.parametrize("kind", UNPROVEN)
def test_discard_refuses_what_the_kit_did_not_build(tmp_path, kind, capsys):
    t, _ = _target(tmp_path, kind)
    before = _snapshot(tmp_path)
    assert atomic.main(["discard", str(t)]) == 3
    assert "refused" in capsys.readouterr().err
    assert _snapshot(tmp_path) == before, "nothing changed"


@pytest.mark.parametrize("kind", [k for k in UNPROVEN if k != "foreign venv"])
def test_promote_refuses_to_replace_what_the_kit_did_not_build(tmp_path, kind, capsys):
    t, _ = _target(tmp_path, kind)
    stage = staged(tmp_path / "t.partial")
    before = _snapshot(tmp_path)
    backup = tmp_path / "t.backup-1"
    assert atomic.main(["promote", str(stage), str(t), "--stamp", "{}", "--backup", str(backup)]) == 3
    assert "refused" in capsys.readouterr().err
    assert _snapshot(tmp_path) == before, "nothing changed"


def test_promote_keeps_a_foreign_venv_as_a_named_backup(tmp_path, capsys):
    t, _ = _target(tmp_path, "foreign venv")
    stage = staged(tmp_path / "t.partial")
    backup = tmp_path / "t.backup-1"
    assert atomic.main(["promote", str(stage), str(t), "--stamp", "{}"]) == 3, "no backup name: refused"
    assert atomic.main(["promote", str(stage), str(t), "--stamp", "{}", "--backup", str(tmp_path / "outside")]) == 3, "taken"
    assert atomic.main(["promote", str(stage), str(t), "--stamp", "{}", "--backup", str(backup)]) == 0
    assert str(backup) in capsys.readouterr().out
    assert (backup / "pyvenv.cfg").read_text() == "home = /usr/bin\n"
    assert (t / atomic.STAMP).is_file()


@pytest.mark.parametrize("kind", ["plain directory", "foreign venv", "file", "symlink to a kit venv"])
def test_promote_refuses_a_stage_without_the_build_marker(tmp_path, kind):
    stage, _ = _target(tmp_path, kind)
    before = _snapshot(tmp_path)
    assert atomic.main(["promote", str(stage), str(tmp_path / "final"), "--stamp", "{}"]) == 3
    assert _snapshot(tmp_path) == before


def test_stage_refuses_an_existing_path(tmp_path):
    (tmp_path / "s").mkdir()
    assert atomic.main(["stage", str(tmp_path / "s")]) == 3


@pytest.mark.parametrize(("index", "proxy", "secret"), [
    ("https://user:token@pypi.internal.example/simple", None, True),
    (None, "http://u:p@proxy.example:3128", True),
    ("https://pypi.internal.example/simple", "http://proxy.example:3128", False),
])
def test_pip_conf_with_a_secret_is_private(tmp_path, index, proxy, secret):
    (tmp_path / "bin").mkdir()
    tmp_path.chmod(0o755)
    atomic.write_pip_conf(tmp_path, None, index, proxy)
    mode = (tmp_path / "pip.conf").stat().st_mode & 0o777
    assert (mode, tmp_path.stat().st_mode & 0o777) == ((0o600, 0o700) if secret else (0o644, 0o755))
