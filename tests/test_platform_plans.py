"""Per platform, exact argv: a first run on a fresh machine, and a run where everything is present.

Facts come from the presets (real os-release files); probes are canned (FreshProbe for a
fresh install, FakeProbe answering "installed" for the second table).
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import pytest
from fakes import FakeProbe

from provision import session
from provision.certs import fingerprint
from provision.machine.probe import ProbeResult
from provision.paths import PACKAGE
from provision.steps.venv import inputs
from tests.conftest import healthy_venv

KIT = sys.executable
APT = ("sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-q", "-o", "DPkg::Lock::Timeout=300")
APT_INSTALL = (*APT, "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold", "install", "-y", "--no-install-recommends")
DNF = ("sudo", "-n", "dnf", "install", "-y", "--setopt=install_weak_deps=False")
ZYPPER = ("sudo", "-n", "zypper", "--non-interactive", "install", "--no-recommends")
WINGET = ("--exact", "--silent", "--accept-package-agreements", "--accept-source-agreements")


def pipx_self(python: str, home: str = "/home/dev") -> list[tuple[str, ...]]:
    tmp = f"{home}/.cache/provision/pipx-bootstrap"
    return [
        (KIT, PACKAGE.parent.joinpath("provision", "atomic.py").as_posix(), "stage", tmp),
        (python, "-m", "venv", tmp),
        (f"{tmp}/bin/python", "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "pipx"),
        (f"{tmp}/bin/python", "-m", "pipx", "install", "pipx"),
        (KIT, PACKAGE.parent.joinpath("provision", "atomic.py").as_posix(), "discard", tmp),
    ]


FIRST_RUN = {
    "debian:11": [(*APT, "update"), (*APT_INSTALL, "build-essential", "python3-dev", "python3-venv"), *pipx_self("/usr/bin/python3")],
    "debian:12": [(*APT, "update"), (*APT_INSTALL, "build-essential", "python3-dev", "python3-venv", "pipx")],
    "debian:13": [(*APT, "update"), (*APT_INSTALL, "build-essential", "python3-dev", "python3-venv", "pipx")],
    "ubuntu:22.04": [(*APT, "update"), (*APT_INSTALL, "build-essential", "python3-dev", "python3-venv", "pipx")],
    "ubuntu:24.04": [(*APT, "update"), (*APT_INSTALL, "build-essential", "python3-dev", "python3-venv", "pipx")],
    "linuxmint:22": [(*APT, "update"), (*APT_INSTALL, "build-essential", "python3-dev", "python3-venv", "pipx")],
    "fedora:40": [(*DNF, "gcc", "gcc-c++", "make", "redhat-rpm-config", "python3-devel", "pipx")],
    "fedora:41": [(*DNF, "gcc", "gcc-c++", "make", "redhat-rpm-config", "python3-devel", "pipx")],
    "rocky:8": [(*DNF, "python3.11", "python3.11-devel", "gcc", "gcc-c++", "make", "redhat-rpm-config"), *pipx_self("/usr/bin/python3.11")],
    "rocky:9": [(*DNF, "gcc", "gcc-c++", "make", "redhat-rpm-config", "python3-devel"), *pipx_self("/usr/bin/python3")],
    "almalinux:9": [(*DNF, "gcc", "gcc-c++", "make", "redhat-rpm-config", "python3-devel"), *pipx_self("/usr/bin/python3")],
    "centos:9": [(*DNF, "gcc", "gcc-c++", "make", "redhat-rpm-config", "python3-devel"), *pipx_self("/usr/bin/python3")],
    "opensuse-leap:15.6": [(*ZYPPER, "python311", "python311-devel", "gcc", "gcc-c++", "make"), *pipx_self("/usr/bin/python3.11")],
    "opensuse-tumbleweed": [(*ZYPPER, "gcc", "gcc-c++", "make", "python3-devel"), *pipx_self("/usr/bin/python3")],
    "arch": [("sudo", "-n", "pacman", "-Syu", "--noconfirm"), ("sudo", "-n", "pacman", "-S", "--needed", "--noconfirm", "base-devel", "python-pipx")],
    "alpine:3.20": [("sudo", "-n", "apk", "update"), ("sudo", "-n", "apk", "add", "build-base", "python3-dev", "pipx")],
    "macos:14": [
        ("xcode-select", "--install"),
        ("brew", "install", "pipx"),
        ("/bin/sh", "/Applications/Python 3.12/Install Certificates.command"),
    ],
    "windows:11": [
        ("winget", "install", "--id", "Python.Python.3.12", *WINGET),
        ("winget", "install", "--id", "Microsoft.VisualStudio.2022.BuildTools", *WINGET, "--override",
         "--quiet --wait --add Microsoft.VisualStudio.Workload.VCTools --includeRecommended"),
        (KIT, PACKAGE.parent.joinpath("provision", "atomic.py").as_posix(), "stage", "C:\\Users\\dev\\.cache\\provision\\pipx-bootstrap"),
        ("C:\\Users\\dev\\AppData\\Local\\Programs\\Python\\Python312\\python.exe", "-m", "venv",
         "C:\\Users\\dev\\.cache\\provision\\pipx-bootstrap"),
        ("C:\\Users\\dev\\.cache\\provision\\pipx-bootstrap\\Scripts\\python.exe", "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "pipx"),
        ("C:\\Users\\dev\\.cache\\provision\\pipx-bootstrap\\Scripts\\python.exe", "-m", "pipx", "install", "pipx"),
        (KIT, PACKAGE.parent.joinpath("provision", "atomic.py").as_posix(), "discard", "C:\\Users\\dev\\.cache\\provision\\pipx-bootstrap"),
    ],
}
PLATFORM_STEPS = ("xcode-command-line-tools", "py-launcher", "msvc-build-tools", "system-packages", "python-org-certificates", "pipx")


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "provision.toml").write_text('pipx = ["ruff"]\n')
    return tmp_path


def planned(prepared, steps=PLATFORM_STEPS) -> list[tuple[str, ...]]:
    env, out = prepared.env, []
    for step in prepared.plan.steps:
        if step.name in steps and not step.skip_reason(env):
            out += [c.argv_for(is_root=False) for c in step.check(env).commands]
    return out


@pytest.mark.parametrize("key", sorted(FIRST_RUN))
def test_first_run_exact_argv(project, key):
    prepared = session.prepare(None, project=str(project), platform=key, dry_run=True)
    assert planned(prepared) == FIRST_RUN[key]


def everything_present(prepared, key: str) -> FakeProbe:
    """Canned answers of a machine the kit has already provisioned."""
    env = prepared.env
    home = env.facts.home
    sep = "\\" if env.windows else "/"
    wanted = [c for cmd in FIRST_RUN[key] for c in cmd]
    listing = "\n".join(f"{w}\tii " if env.profile.package_manager == "apt" else w for w in wanted) + "\n"
    meta = json.dumps({"main_package": {"package_version": "0.6.9"}})
    want = inputs(env)
    venv = str(env.config.venv)
    bindir = sep.join([home, ".local", "bin"])
    files = {
        sep.join([env.facts.pipx_home, "venvs", "ruff", "pipx_metadata.json"]): meta,
        **healthy_venv(venv, want, windows=env.windows),
        sep.join([bindir, "pipx.exe" if env.windows else "pipx"]): "",
    }
    commands = {(q,): ProbeResult(0, listing) for q in ("dpkg-query", "rpm", "pacman", "apk", "brew", "winget")}
    commands[("xcode-select", "-p")] = ProbeResult(0, "/Library/Developer/CommandLineTools\n")
    commands[(r"C:\Program Files (x86)\Microsoft Visual Studio\Installer\vswhere.exe",)] = ProbeResult(0, "C:\\BuildTools\n")
    return FakeProbe(commands=commands, files=files, on_path={"py": "C:\\Windows\\py.exe"}, clock=1e9,
                     mtimes={"/var/lib/apt/lists/x_Packages": 1e9, "/var/lib/pacman/sync/core.db": 1e9, "/var/cache/apk/APKINDEX.0.tar.gz": 1e9})


@pytest.mark.parametrize("key", sorted(FIRST_RUN))
def test_everything_present_changes_nothing(project, key):
    prepared = session.prepare(None, project=str(project), platform=key, dry_run=True)
    probe = everything_present(prepared, key)
    env = prepared.env
    bindir = ("\\" if env.windows else "/").join([env.facts.home, ".local", "bin"])
    facts = replace(env.facts, path=(*env.facts.path, bindir))
    python = replace(env.python, cafile="/x/cert.pem", cafile_exists=True)
    env = replace(env, probe=probe, facts=facts, python=python)
    changes = {s.name: s.check(env) for s in prepared.plan.steps if not s.skip_reason(env)}
    assert {name: [c.argv for c in ch.commands] for name, ch in changes.items() if ch.commands} == {}


CA_TRUST = {
    # preset: (anchor file, the command that rebuilds the bundle, the package that brings it)
    "debian:12": ("/usr/local/share/ca-certificates/provision-corp-{fp}.crt", ("sudo", "-n", "update-ca-certificates"), "ca-certificates"),
    "ubuntu:24.04": ("/usr/local/share/ca-certificates/provision-corp-{fp}.crt", ("sudo", "-n", "update-ca-certificates"), "ca-certificates"),
    "fedora:40": ("/etc/pki/ca-trust/source/anchors/provision-corp-{fp}.pem", ("sudo", "-n", "update-ca-trust", "extract"), "ca-certificates"),
    "rocky:9": ("/etc/pki/ca-trust/source/anchors/provision-corp-{fp}.pem", ("sudo", "-n", "update-ca-trust", "extract"), "ca-certificates"),
    "opensuse-tumbleweed": ("/etc/pki/trust/anchors/provision-corp-{fp}.pem", ("sudo", "-n", "update-ca-certificates"), "ca-certificates"),
    "arch": ("/etc/ca-certificates/trust-source/anchors/provision-corp-{fp}.crt", ("sudo", "-n", "update-ca-trust"), "ca-certificates-utils"),
    "alpine:3.20": ("/usr/local/share/ca-certificates/provision-corp-{fp}.crt", ("sudo", "-n", "update-ca-certificates"), "ca-certificates"),
}


def ca_steps(project, key: str, probe: FakeProbe):
    """The preset's env with the CA given and ``probe`` as the machine; the two CA steps and the packages step."""
    ca = project / "corp.pem"
    ca.write_text(PEM)
    prepared = session.prepare(None, project=str(project), platform=key, ca_bundle=str(ca), dry_run=True)
    env = replace(prepared.env, probe=probe)
    steps = {s.name: s for s in prepared.plan.steps}
    assert [n for n in steps if n in ("ca-anchor", "system-packages", "ca-trust")] == ["ca-anchor", "system-packages", "ca-trust"]
    anchor, update, package = CA_TRUST[key]
    return env, steps, anchor.format(fp=fingerprint(ca)[:16]), update, package, ca


def argvs(step, env) -> list[tuple[str, ...]]:
    return [c.argv_for(is_root=False) for c in step.check(env).commands]


@pytest.mark.parametrize("key", sorted(CA_TRUST))
def test_ca_on_a_machine_without_the_store_tool(project, key):
    # the anchor goes in first; the store's package comes with the one transaction and its
    # install builds the bundle with the anchor there: no rebuild of the kit's own
    env, steps, anchor, update, package, ca = ca_steps(project, key, FakeProbe())
    assert argvs(steps["ca-anchor"], env) == [("sudo", "-n", "install", "-D", "-m", "0644", str(ca), anchor)]
    assert package in [a for argv in argvs(steps["system-packages"], env) for a in argv]
    trust = steps["ca-trust"].check(env)
    assert not trust.commands and package in trust.reason
    # pip and pipx then use the completed system bundle
    assert env.pip_cert == env.profile.trust_store.bundle


@pytest.mark.parametrize("key", sorted(CA_TRUST))
def test_ca_on_a_machine_with_the_store_tool(project, key):
    # the anchor step rebuilds at once (an https mirror behind the same interception works for the transaction)
    tool = CA_TRUST[key][1][2]  # after "sudo -n"
    env, steps, anchor, update, _, ca = ca_steps(project, key, FakeProbe(on_path={tool: f"/usr/sbin/{tool}"}))
    assert argvs(steps["ca-anchor"], env) == [("sudo", "-n", "install", "-D", "-m", "0644", str(ca), anchor), update]
    assert not steps["ca-trust"].check(env).commands


@pytest.mark.parametrize(
    ("anchor_at", "bundle_at", "rebuild"),
    [
        (100.0, 200.0, False),  # rebuilt after the anchor was placed (by the package or the anchor step)
        (100.0, 100.0, False),  # the same second on a file system with coarse times
        (200.0, 100.0, True),  # placed, never rebuilt (an interrupted run, a package that did not rebuild)
        (100.0, None, True),  # no bundle at all
    ],
)
def test_ca_trust_rebuilds_a_bundle_older_than_the_anchor(project, anchor_at, bundle_at, rebuild):
    store_bundle = "/etc/ssl/certs/ca-certificates.crt"
    probe = FakeProbe(on_path={"update-ca-certificates": "/usr/sbin/update-ca-certificates"})
    env, steps, anchor, update, _, _ = ca_steps(project, "debian:12", probe)
    probe.mtimes.update({anchor: anchor_at, **({store_bundle: bundle_at} if bundle_at is not None else {})})
    assert argvs(steps["ca-trust"], env) == ([update] if rebuild else [])


@pytest.mark.parametrize(
    ("ca_bytes", "installed", "in_place"),
    [
        (PEM_LF := b"-----BEGIN CERTIFICATE-----\nMIIBCgAAAAAAAAAAAAAA\n-----END CERTIFICATE-----\n", PEM_LF.decode(), True),
        (PEM_LF.replace(b"\n", b"\r\n"), PEM_LF.decode(), True),  # exported on Windows; read back with universal newlines
        (PEM_LF, PEM_LF.decode().replace("MIIB", "MIIC"), False),  # another certificate
        (PEM_LF, None, False),
    ],
)
def test_ca_already_in_the_trust_store(project, ca_bytes, installed, in_place):
    ca = project / "corp.pem"
    ca.write_bytes(ca_bytes)
    prepared = session.prepare(None, project=str(project), platform="debian:12", ca_bundle=str(ca), dry_run=True)
    anchor = CA_TRUST["debian:12"][0].format(fp=fingerprint(ca)[:16])
    env = replace(prepared.env, probe=FakeProbe(files={anchor: installed} if installed is not None else {}))
    step = next(s for s in prepared.plan.steps if s.name == "ca-anchor")
    assert (not step.check(env).commands) is in_place


@pytest.mark.parametrize("key", ["macos:14", "windows:11"])
def test_no_system_store_step_where_the_profile_has_none(project, key):
    ca = project / "corp.pem"
    ca.write_text(PEM)
    prepared = session.prepare(None, project=str(project), platform=key, ca_bundle=str(ca), dry_run=True)
    steps = [s for s in prepared.plan.steps if s.name in ("ca-anchor", "ca-trust")]
    assert len(steps) == 2 and steps[0].skip_reason(prepared.env) == steps[1].skip_reason(prepared.env)
    reason = steps[0].skip_reason(prepared.env)
    assert reason and ("security add-trusted-cert" in reason if key.startswith("macos") else "pip.conf" in reason)
    assert prepared.env.pip_cert == str(ca)


PEM = "-----BEGIN CERTIFICATE-----\nMIIBCgAAAAAAAAAAAAAA\n-----END CERTIFICATE-----\n"
