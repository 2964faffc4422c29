"""The provisioning tasks: ``bootstrap`` (the default), ``facts`` and the kit's own ``test``."""

from __future__ import annotations

import os
import sys

from invoke import Exit, task

from provision.cli import finish, user_errors
from provision.options import bootstrap_help
from provision.paths import REPO


@task(help=bootstrap_help(), default=False)
def bootstrap(c, dry_run=False, platform=None, project=None, ca_bundle=None, profile=None, python=None,
              json=False, yes=False, refresh_after="24", python_downloads=False):
    """Provision this machine for Python development (packages, pipx, the project's venv)."""
    from provision.options import refresh_seconds
    from provision.session import bootstrap as run

    with user_errors("provision: interrupted; run ./bootstrap again to converge (an interrupted venv build is discarded)"):
        code = run(c, project=project, platform=platform, profile=profile, ca_bundle=ca_bundle, python=python,
                   dry_run=dry_run, as_json=json, yes=yes, refresh_after=refresh_seconds(refresh_after),
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
    lint = c.run(shlex.join([str(venv_python), "-m", "ruff", "check", str(REPO)]))
    if lint.exited:
        raise Exit("provision: ruff found problems (above)", code=lint.exited)
    argv = [str(venv_python), "-m", "pytest", str(REPO / "tests"), *shlex.split(pytest_args)]
    if quick:
        argv += ["-m", "not e2e"]
    result = c.run(shlex.join(argv))
    if result.exited:
        raise Exit(code=result.exited)
