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
    assert json.loads((final / atomic.STAMP).read_text()) == {"digest": "d", "installed": []}
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


# -- the record of what the kit installed, and pruning what is no longer required ----------------

DIST_DIRS = [
    ("idna-3.6.dist-info", ("idna", "3.6")),
    ("Charset_Normalizer-3.3.2.dist-info", ("charset_normalizer", "3.3.2")),
    ("zope.interface-6.0.dist-info", ("zope_interface", "6.0")),
    ("my-pkg-1.0.dist-info", ("my_pkg", "1.0")),  # an old installer that did not escape '-'
    ("fx_requirements-0.1.0+local.dist-info", ("fx_requirements", "0.1.0+local")),
    ("idna-3.6.egg-info", None),
    ("idna", None),
    ("__editable__.fx-0.1.pth", None),
    ("broken.dist-info", None),
]


@pytest.mark.parametrize(("dirname", "entry"), DIST_DIRS)
def test_dist_entries(dirname, entry):
    assert atomic.dist_entry(dirname) == entry
    if entry:
        assert atomic.dist_key(entry[0].replace("_", "-").upper()) == entry[0]


def site_with(venv, *dists, minor="3.11"):
    """A venv's site-packages holding ``(name, version, requires, direct)`` distributions."""
    site = venv / "lib" / f"python{minor}" / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    for name, version, requires, *direct in dists:
        d = site / f"{name}-{version}.dist-info"
        d.mkdir()
        (d / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                    + "".join(f"Requires-Dist: {r}\n" for r in requires))
        if direct:
            (d / "direct_url.json").write_text('{"url": "file:///src/x", "dir_info": {"editable": true}}')
    return site


def test_promote_records_what_the_build_installed(tmp_path):
    stage, final = tmp_path / ".venv.partial", tmp_path / ".venv"
    staged(stage)
    site_with(stage, ("idna", "3.6", []), ("pip", "24.0", []), ("setuptools", "69.0", []), ("Certifi", "2024.2.2", []))
    atomic.promote(stage, final, json.dumps({"digest": "d", "inputs": {}}))
    stamp = json.loads((final / atomic.STAMP).read_text())
    assert stamp["installed"] == ["certifi-2024.2.2", "idna-3.6"], "the installer's own tools are not recorded"
    assert stamp["digest"] == "d"


def test_stamp_in_place_leaves_out_what_was_installed_by_hand(tmp_path):
    from provision.steps import venvops

    venv = tmp_path / ".venv"
    site_with(venv, ("idna", "3.6", []), ("six", "1.16.0", []), ("pip", "24.0", []))
    stamp = json.dumps({"digest": "d", "inputs": {"files": {}}})
    assert venvops.main(["stamp", str(venv), "--stamp", stamp, "--not-ours", "six"]) == 0
    assert json.loads((venv / atomic.STAMP).read_text())["installed"] == ["idna-3.6"]
    assert venvops.main(["stamp", str(venv), "--stamp", stamp]) == 0
    assert json.loads((venv / atomic.STAMP).read_text())["installed"] == ["idna-3.6", "six-1.16.0"]
    assert venvops.main(["restamp", str(venv), str(tmp_path)]) == 0
    assert json.loads((venv / atomic.STAMP).read_text())["installed"] == ["idna-3.6", "six-1.16.0"], "restamp keeps the record"


# the venv after the install: the project (extra "test" brings pytest), pytest's own, a hand-installed tool
VENV_DISTS = [
    ("app", "0.1.0", ["idna>=3", 'pytest; extra == "test"'], True),
    ("idna", "3.6", []),
    ("pytest", "8.3.5", ["pluggy<2,>=1.5", "iniconfig", 'colorama; sys_platform == "win32"', "packaging"]),
    ("pluggy", "1.5.0", []),
    ("iniconfig", "2.0.0", []),
    ("packaging", "24.2", []),
    ("colorama", "0.4.6", []),
    ("requests", "2.32.3", ["urllib3<3,>=1.21.1", "idna", 'PySocks!=1.5.7,>=1.5.6; extra == "socks"']),
    ("urllib3", "2.2.1", []),
    ("PySocks", "1.7.1", []),
    ("sub", "1.0", [], True),
    ("handtool", "1.0", ["Urllib3"]),  # installed by hand: stays, and so does what it needs
    ("pip", "24.0", []),
]
PRUNE = [
    # roots, --keep-direct, the plan's candidates -> uninstalled (what the rest of the venv needs is kept)
    (["app[test]"], False, ["pluggy", "colorama", "requests", "pysocks", "sub"], ["colorama", "requests", "pysocks", "sub"]),
    (["app"], False, ["pytest", "pluggy", "iniconfig", "packaging"], ["pytest", "pluggy", "iniconfig", "packaging"]),
    (["app[test]", "requests[socks]"], False, ["requests", "pysocks", "urllib3"], []),  # an extra of a root
    (["app"], True, ["sub", "requests"], ["requests"]),  # a path requirement: what came from a path stays
    (["app"], False, ["urllib3", "not-installed"], []),  # handtool needs urllib3; nothing to do for what is not there
    (["app[test]"], False, ["PYSOCKS", "charset-normalizer"], ["PYSOCKS"]),  # names compared canonically
]


@pytest.mark.parametrize(("roots", "keep_direct", "candidates", "removed"), PRUNE)
def test_prune_uninstalls_only_what_nothing_left_needs(tmp_path, capfd, roots, keep_direct, candidates, removed):
    from provision.steps import venvops

    venv = tmp_path / ".venv"
    site_with(venv, *VENV_DISTS)
    argv = ["prune", str(venv), *(a for r in roots for a in ("--root", r)), *(["--keep-direct"] if keep_direct else []),
            "--", "echo", "UNINSTALL", "-y", *candidates]
    assert venvops.main(argv) == 0
    out = capfd.readouterr().out
    ran = next((ln.split()[2:] for ln in out.splitlines() if ln.startswith("UNINSTALL")), [])
    assert ran == removed, out


def test_prune_uninstalls_nothing_when_a_root_cannot_be_read(tmp_path, capfd):
    from provision.steps import venvops

    venv = tmp_path / ".venv"
    site_with(venv, *VENV_DISTS)
    assert venvops.main(["prune", str(venv), "--root", "not-here-at-all", "--", "echo", "UNINSTALL", "-y", "requests"]) == 0
    out = capfd.readouterr().out
    assert "UNINSTALL" not in out and "not-here-at-all is not installed" in out
