"""End to end (issue #12): the project's own files are the configuration, in a Debian 12 chroot.

ONE bare bookworm root: the first fixture is provisioned from bare (stage 0, apt, pipx), the
other styles one after another in the same root, none with a ``[tool.provision]``. Each:
every version the fixture's manifest expects is installed exactly (read with the venv's own
``importlib.metadata``), the fixture's own tests pass in its venv, the project's tool (``uv
run``, ``poetry run``, ``pdm run``, ``pipenv run``) starts on the kit's venv without
re-syncing it, and a second run says ``changed=0``. Then an edited lock changes only what
differs; a dropped requirement is uninstalled and a distribution uninstalled or changed by
hand is put back (an extra installed by hand survives both); a stale lock is a clear error, and a project that needs Python 3.13 gets the clear
error on Debian 12 and works in a Debian 13 root.

The machine reaches the package index only through TLS interception: the host's CA goes in
with the kit's own ``--ca-bundle``.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.fixtures.projects import canonical, expected, materialize

from . import chroot as harness

REPO = Path(__file__).resolve().parents[2]
KIT = "/opt/provision"
CA = "/usr/local/share/provision-e2e/host-ca.pem"
BIN = "/root/.local/bin"
# the first one runs from bare; lock tools first, so each tool is installed once and reused
STYLES = ["uv", "poetry2", "poetry1", "pdm", "pipenv", "pylock", "groups-only", "pep621-extras", "setupcfg",
          "setuppy-cext", "requirements", "requirements-dir", "piptools", "pins-packaging"]
RUN = {"uv": "uv", "poetry": "poetry", "pdm": "pdm", "pipenv": "pipenv"}
# what a tool prints when it (re)installs or re-syncs: a run that "starts without re-syncing" prints none of it
RESYNC = re.compile(r"Install(ed|ing)|Uninstall|Updating|Synchroniz|Resolved \d+ packages? in|Creating virtualenv|Prepared \d+", re.I)

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(harness.skip_reason() is not None, reason=str(harness.skip_reason()))]


def pin_uv_exclude_newer(c: harness.Chroot, name: str) -> None:
    """The fixture locks were made with ``uv lock --exclude-newer DATE`` on the command line; uv
    records the date in the lock, so without it in ``[tool.uv]`` uv's own check (and ``uv run``)
    re-resolves. A real project keeps the date in its pyproject: this puts it there."""
    lock = c.path(f"/srv/{name}/uv.lock")
    m = re.search(r'^exclude-newer = "([^"]+)"', lock.read_text(), re.M)
    if not m:
        return
    py = c.path(f"/srv/{name}/pyproject.toml")
    text = py.read_text()
    text = text.replace("[tool.uv]\n", f'[tool.uv]\nexclude-newer = "{m.group(1)}"\n') if "[tool.uv]" in text else \
        text + f'\n[tool.uv]\nexclude-newer = "{m.group(1)}"\n'
    py.write_text(text)


def open_root(suite: str, names: list[str]) -> harness.Chroot:
    c = harness.kit_chroot(REPO, KIT, CA, suite=suite, apt_cache=f"apt-projects-{suite}")
    for name in names:
        materialize(name, c.path(f"/srv/{name}"))
        if expected(name)["tool"] == "uv":
            pin_uv_exclude_newer(c, name)
    return c


@pytest.fixture(scope="module")
def d12():
    c = open_root("bookworm", [*STYLES, "python313"])
    try:
        yield c
    finally:
        c.close()


def provision(c: harness.Chroot, project: str, timeout: float = 900) -> tuple[subprocess.CompletedProcess[str], dict]:
    res = c.run(["./bootstrap", "--ca-bundle", CA, "--yes", "--json", "--project", project], cwd=KIT, timeout=timeout)
    try:
        data = json.loads(res.stdout)
    except ValueError:
        data = {}
    return res, data


def venv_versions(c: harness.Chroot, venv: str) -> dict[str, str]:
    code = ("import importlib.metadata as m, json, sys; sys.path[:] = [p for p in sys.path if p]; "
            "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))")
    res = c.run([f"{venv}/bin/python", "-I", "-c", code], check=True)
    return {canonical(k): v for k, v in json.loads(res.stdout).items()}


def snapshot(c: harness.Chroot, venv: str) -> dict[str, float]:
    """mtime of the venv, its stamp and every entry of its site-packages: a re-sync changes some."""
    site = next(c.path(venv).glob("lib/python3*/site-packages"))
    out = {p.name: p.stat().st_mtime for p in site.iterdir()}
    out[".venv"] = c.path(venv).stat().st_mtime
    out["stamp"] = c.path(f"{venv}/.provision-stamp.json").stat().st_mtime
    return out


@pytest.mark.parametrize("name", STYLES)
def test_style_is_provisioned_exactly(d12, name):
    entry = expected(name)
    project, venv = f"/srv/{name}", f"/srv/{name}/.venv"
    res, data = provision(d12, project)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-6000:]
    assert data["recap"]["failed"] == 0 and data["recap"]["changed"] >= 1
    assert "[tool.provision]" not in d12.path(f"{project}/pyproject.toml").read_text() if d12.path(f"{project}/pyproject.toml").exists() else True
    # every distribution the manifest expects, at exactly its locked/pinned version
    have = venv_versions(d12, venv)
    wrong = {k: (v, have.get(k)) for k, v in entry["venv"].items() if have.get(canonical(k)) != v}
    assert not wrong, f"expected version -> installed: {wrong}"
    if not entry.get("app"):
        assert canonical(entry["project"]["name"]) in have, "the project itself is installed (editable)"
    # the fixture's own tests pass inside its venv
    tests = d12.run([f"{venv}/bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, timeout=300)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    # the project's tool starts on the kit's venv without re-syncing it
    tool = RUN.get(entry["tool"])
    if tool:
        before = snapshot(d12, venv)
        ran = d12.run([f"{BIN}/{tool}", "run", "python", "-c", "import sys; print(sys.prefix)"], cwd=project,
                      env={"SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt", "REQUESTS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt"},
                      timeout=300)
        assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
        assert ran.stdout.strip().splitlines()[-1] == venv, ran.stdout
        assert not RESYNC.search(ran.stdout + ran.stderr), f"{tool} run re-synced: {ran.stderr[-2000:]}"
        assert snapshot(d12, venv) == before, f"{tool} run changed the venv"
    # a second run changes nothing
    again, data = provision(d12, project)
    assert again.returncode == 0 and data["recap"]["changed"] == 0, again.stderr[-3000:]


def test_kit_additions_do_not_fight_the_project(d12):
    """packaging==21.3 stays (no wheel 0.48 pulling packaging>=24); hashed files went in with hashes."""
    assert venv_versions(d12, "/srv/pins-packaging/.venv")["packaging"] == "21.3"
    have = venv_versions(d12, "/srv/pins-packaging/.venv")
    assert "wheel" not in have and "setuptools" not in have
    log = d12.run(["sh", "-c", "ls -t /root/.local/state/provision/log/ | head -50"]).stdout
    assert log


def test_edited_lock_changes_only_what_differs(d12):
    project, venv = "/srv/uv", "/srv/uv/.venv"
    before = snapshot(d12, venv)
    py = d12.path(f"{project}/pyproject.toml")
    py.write_text(py.read_text().replace('"idna>=3.4,<4"', '"idna>=3.4,<3.8"'))
    env = {"SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt"}
    relock = d12.run([f"{BIN}/uv", "lock"], cwd=project, env=env, timeout=300)
    assert relock.returncode == 0, relock.stderr[-2000:]
    res, data = provision(d12, project)
    assert res.returncode == 0, res.stderr[-4000:]
    step = next(s for s in data["steps"] if s["name"] == "project-venv")
    assert step["status"] == "changed" and "uv.lock" in step["reason"], step["reason"]
    assert not any("promote" in c["argv"] for c in step["commands"]), "updated in place, not rebuilt"
    have = venv_versions(d12, venv)
    assert have["idna"] == "3.7" and have["six"] == "1.17.0"
    after = snapshot(d12, venv)
    changed = {k for k in after if before.get(k) != after[k]} - {".venv", "stamp", "__pycache__"}
    # idna, and the project itself (its pyproject changed, so its metadata did): nothing else
    assert changed and all(k.startswith(("idna", "fx_uv", "__editable__")) for k in changed), changed
    assert any(k.startswith("idna-3.7") for k in changed)
    assert provision(d12, project)[1]["recap"]["changed"] == 0


def test_stale_lock_is_a_clear_error(d12):
    d12.run(["cp", "-a", "/srv/uv", "/srv/uv-stale"], check=True)
    d12.run(["rm", "-rf", "/srv/uv-stale/.venv"], check=True)
    py = d12.path("/srv/uv-stale/pyproject.toml")
    py.write_text(py.read_text().replace('"six>=1.15",', '"six>=1.15",\n    "colorama>=0.4",'))
    res, data = provision(d12, "/srv/uv-stale")
    assert res.returncode != 0
    assert "out of date" in res.stderr and "'uv lock'" in res.stderr, res.stderr[-3000:]
    assert not d12.path("/srv/uv-stale/.venv").exists() and not d12.path("/srv/uv-stale/.venv.partial").exists()


def test_python313_is_a_clear_error_on_debian12(d12):
    res, _ = provision(d12, "/srv/python313")
    assert res.returncode != 0
    err = res.stderr
    assert "3.13" in err and "/usr/bin/python3 (3.11" in err and "--python-downloads" in err and "Traceback" not in err, err[-3000:]
    assert not d12.path("/srv/python313/.venv").exists()


def test_python313_works_in_a_debian13_root():
    c = open_root("trixie", ["python313"])
    try:
        res, data = provision(c, "/srv/python313", timeout=1500)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-6000:]
        have = venv_versions(c, "/srv/python313/.venv")
        wrong = {k: (v, have.get(k)) for k, v in expected("python313")["venv"].items() if have.get(canonical(k)) != v}
        assert not wrong
        ver = c.run(["/srv/python313/.venv/bin/python", "-c", "import sys; print(sys.version_info[:2])"], check=True).stdout
        assert ver.strip() == "(3, 13)"
        tests = c.run(["/srv/python313/.venv/bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd="/srv/python313")
        assert tests.returncode == 0, tests.stdout[-2000:]
        assert provision(c, "/srv/python313")[1]["recap"]["changed"] == 0
    finally:
        c.close()


def test_requirements_venv_follows_drops_and_drift(d12):
    """A dropped requirement is uninstalled (what something left still needs stays), a distribution
    uninstalled or changed by hand is put back at its recorded version, an extra installed by hand
    survives all of it; each time the next run says changed=0 (and the no-op stays fast)."""
    project, venv = "/srv/req-drift", "/srv/req-drift/.venv"
    d12.run(["rm", "-rf", project], check=True)
    materialize("requirements", d12.path(project))
    res, data = provision(d12, project)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-6000:]
    stamp = json.loads(d12.path(f"{venv}/.provision-stamp.json").read_text())
    assert "idna-3.6" in stamp["installed"] and not any(r.startswith("pip-") for r in stamp["installed"])
    pip = [f"{venv}/bin/python", "-m", "pip", "--disable-pip-version-check", "--no-input"]
    hand = d12.run([*pip, "install", "-q", "six==1.16.0"], timeout=300)
    assert hand.returncode == 0, hand.stderr[-2000:]

    # the project drops idna (nothing else needs it) and packaging (pytest still does)
    dev, req = d12.path(f"{project}/requirements-dev.txt"), d12.path(f"{project}/requirements.txt")
    dev.write_text(dev.read_text().replace("packaging==24.2\n", ""))
    req.write_text(req.read_text().replace("idna==3.6\n", ""))
    res, data = provision(d12, project)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-6000:]
    step = next(s for s in data["steps"] if s["name"] == "project-venv")
    assert data["recap"]["changed"] == 1 and step["status"] == "changed" and "requirements" in step["reason"], step
    prune = next(c["argv"] for c in step["commands"] if "prune" in c["argv"])
    assert prune[prune.index("-y") + 1:] == ["idna", "packaging"], prune
    assert not any("promote" in c["argv"] for c in step["commands"]), "in place, not rebuilt"
    have = venv_versions(d12, venv)
    assert "idna" not in have, "dropped and needed by nothing: uninstalled"
    assert have["packaging"] == "24.2", "dropped, but pytest needs it: kept"
    assert have["six"] == "1.16.0" and have["certifi"] == "2024.2.2" and have["pytest"] == "8.3.5"
    assert provision(d12, project)[1]["recap"]["changed"] == 0

    # by hand: one distribution uninstalled, one changed
    gone = d12.run([*pip, "uninstall", "-y", "-q", "certifi"], timeout=300)
    older = d12.run([*pip, "install", "-q", "iniconfig==1.1.1"], timeout=300)
    assert gone.returncode == 0 and older.returncode == 0, gone.stderr[-2000:] + older.stderr[-2000:]
    res, data = provision(d12, project)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-6000:]
    step = next(s for s in data["steps"] if s["name"] == "project-venv")
    assert data["recap"]["changed"] == 1, data["recap"]
    assert "certifi 2024.2.2 is gone" in step["reason"] and "iniconfig 2.0.0 is now 1.1.1" in step["reason"], step["reason"]
    have = venv_versions(d12, venv)
    assert have["certifi"] == "2024.2.2" and have["iniconfig"] == "2.0.0" and have["six"] == "1.16.0" and "idna" not in have
    started = time.monotonic()
    again = provision(d12, project)[1]
    noop = time.monotonic() - started
    assert again["recap"]["changed"] == 0
    print(f"no-op run with the drift check: {noop:.2f}s")
