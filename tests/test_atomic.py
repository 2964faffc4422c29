"""The venv swap: paths rewritten, stamp written, old venv replaced, leftovers discarded."""

import json
import os

from provision import atomic


def fake_venv(path):
    (path / "bin").mkdir(parents=True)
    (path / "pyvenv.cfg").write_text(f"home = /usr/bin\ncommand = /usr/bin/python3 -m venv {path}\n")
    script = path / "bin" / "pytest"
    script.write_text(f"#!{path}/bin/python\nimport sys\n")
    script.chmod(0o755)
    (path / "bin" / "binary").write_bytes(b"\x7fELF\x00" + str(path).encode())
    os.symlink("/usr/bin/python3", path / "bin" / "python")


def test_promote(tmp_path):
    stage, final = tmp_path / ".venv.partial", tmp_path / ".venv"
    fake_venv(stage)
    final.mkdir()
    (final / "old-marker").write_text("")
    atomic.promote(stage, final, json.dumps({"digest": "d"}))
    assert not stage.exists() and not (tmp_path / ".venv.old").exists()
    assert (final / "bin" / "pytest").read_text().startswith(f"#!{final}/bin/python\n")
    assert os.access(final / "bin" / "pytest", os.X_OK)
    assert f"venv {final}\n" in (final / "pyvenv.cfg").read_text()
    assert str(stage).encode() in (final / "bin" / "binary").read_bytes(), "binaries are left alone"
    assert os.readlink(final / "bin" / "python") == "/usr/bin/python3"
    assert json.loads((final / atomic.STAMP).read_text()) == {"digest": "d"}
    assert not (final / "old-marker").exists()


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
    (tmp_path / "f").write_text("")
    assert atomic.main(["discard", str(tmp_path / "d"), str(tmp_path / "f"), str(tmp_path / "absent")]) == 0
    assert list(tmp_path.iterdir()) == []
