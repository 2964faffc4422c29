"""The provisioning tasks: ``bootstrap`` (the default), ``facts`` and the kit's own ``test``."""

from __future__ import annotations

import os
import sys

from invoke import Exit, task

from provision.cli import finish, user_errors
from provision.paths import REPO

BOOTSTRAP_HELP = {
    "dry_run": "print the exact commands, step by step with the reason, and change nothing (no root needed)",
    "platform": "plan for a built-in platform preset instead of this machine: ID[:VERSION], e.g. debian:12, "
    "ubuntu:24.04, fedora:40, rocky:9, arch, alpine:3.20, macos:14, windows:11 (implies nothing is run)",
    "project": "the project to provision (default: this repository); its [tool.provision] or provision.toml is read",
    "ca-bundle": "PEM file of a CA to trust (corporate TLS inspection): added to the system trust store and "
    "configured for pip and pipx; stage 0 uses it from its first pip call",
    "profile": "force a profile from profiles/ (for a distro the kit does not know that is compatible)",
    "python": "the interpreter for the project's venv (path or version), instead of the first on PATH matching 'python'",
    "json": "print the recap as JSON on stdout (steps, status, commands, durations) and nothing else there",
    "yes": "non-interactive: never prompt (sudo runs as 'sudo -n')",
    "refresh-after": "refresh the package index when it is older than this many hours (default 24)",
    "python-downloads": "when the machine has no interpreter the project allows and its platform packages none, "
    "let uv download one (as the config key python-downloads = true)",
}


@task(help=BOOTSTRAP_HELP, default=False)
def bootstrap(c, dry_run=False, platform=None, project=None, ca_bundle=None, profile=None, python=None,
              json=False, yes=False, refresh_after=24, python_downloads=False):
    """Provision this machine for Python development (packages, pipx, the project's venv)."""
    from provision.session import bootstrap as run

    with user_errors("provision: interrupted; run ./bootstrap again to converge (an interrupted venv build is discarded)"):
        code = run(c, project=project, platform=platform, profile=profile, ca_bundle=ca_bundle, python=python,
                   dry_run=dry_run, as_json=json, yes=yes, refresh_after=float(refresh_after) * 3600,
                   python_downloads=python_downloads)
    finish(code)


@task(help={"json": "print the facts as JSON", "platform": "show the facts of a built-in platform preset instead"})
def facts(c, json=False, platform=None):
    """Show what the kit detected about this machine (system, distro, Pythons, pip, compiler, CA, proxies)."""
    from provision.run import report
    from provision.session import machine_facts

    with user_errors():
        f = machine_facts(platform)
    if json:
        report.dump(f.to_json(), sys.stdout)
    else:
        print(report.facts_text(f))


@task(help={"pytest-args": "extra arguments for pytest, e.g. \"-k facts -x\"", "quick": "skip the end-to-end (chroot) tests"})
def test(c, pytest_args="", quick=False):
    """Run the kit's checks: ruff, then the test suite with the project venv's pytest (run ./bootstrap first)."""
    import shlex

    venv_python = REPO / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not venv_python.exists():
        raise Exit("provision: no project venv at .venv: run ./bootstrap first (it builds it), then ./bootstrap test", code=2)
    lint = c.run(shlex.join([str(venv_python), "-m", "ruff", "check", str(REPO)]), warn=True, pty=False, in_stream=False)
    if lint.exited:
        raise Exit("provision: ruff found problems (above)", code=lint.exited)
    argv = [str(venv_python), "-m", "pytest", str(REPO / "tests"), *shlex.split(pytest_args)]
    if quick:
        argv += ["-m", "not e2e"]
    result = c.run(shlex.join(argv), warn=True, pty=False, in_stream=False)
    if result.exited:
        raise Exit(code=result.exited)
