"""The doctor, explain and install tasks (registered by tasks.py). Thin: parse, call, exit.

Exit codes:
  explain  0 a cause was recognised · 1 nothing recognised (the lines considered are shown) · 2 bad input
  doctor   0 healthy (info/ok only) · 1 an error or warning was found · 2 bad input
  install  0 installed (or, with --dry-run, the plan was printed) · 1 pip failed (explained) or the fix failed · 2 bad input
"""

from __future__ import annotations

import sys

from invoke import Exit, task

from provision.cli import finish, user_errors
from provision.errors import ProvisionError
from provision.paths import default_project


@task(help={
    "file": "the file with pip's (or venv's, or a build's) output; '-' reads standard input",
    "json": "print the findings as JSON (recognised, findings with category/need/evidence/explanation/fix, considered lines)",
    "platform": "whose fixes to show: auto (default: the platform the log shows, else this machine) or a preset "
    "ID[:VERSION], e.g. debian:12, fedora:40, macos:14, windows:11",
    "offline": "never ask the package index (also PROVISION_EXPLAIN_OFFLINE=1); by default, when the log cannot tell why "
    "nothing matched a requirement, the index pip uses is asked once (5 s timeout)",
    "ca-bundle": "PEM file to verify the package index with (default: the one pip uses: PIP_CERT, pip.conf's cert)",
})
def explain(c, file, json=False, platform="auto", offline=False, ca_bundle=None):
    """Name the cause of a pip failure and this machine's fix (exit 0: recognised, 1: not recognised)."""
    from provision.diagnose.explain import explain_file, text_report
    from provision.run import report

    with user_errors():
        result = explain_file(file, platform or "auto", index=None if offline else _index(ca_bundle))
    if json:
        report.dump(result.to_json(), sys.stdout)
    else:
        print(text_report(result, "" if file == "-" else file))
    if not result.recognised:
        raise Exit(code=1)


def _index(ca_bundle: str | None):  # -> provision.diagnose.index_lookup.SimpleIndex | None
    """The package index explain may ask: pip's (its URL and CA bundle as pip would use them, the
    kit's config otherwise); None when PROVISION_EXPLAIN_OFFLINE is set."""
    import os
    from pathlib import Path

    from provision.diagnose import index_lookup
    from provision.project import config as config_mod

    if os.environ.get(index_lookup.OFFLINE_VAR, "") not in ("", "0"):
        return None
    kit_index, kit_ca = None, ca_bundle
    try:
        cfg = config_mod.load(default_project())
        kit_index, kit_ca = cfg.index_url, kit_ca or (str(cfg.ca_bundle) if cfg.ca_bundle else None)
    except ProvisionError:
        pass
    return index_lookup.live(os.environ, str(Path.home()), kit_index=kit_index, kit_ca=kit_ca)


@task(help={
    "json": "print the findings as JSON (category, need, severity, evidence, explanation, fix) and nothing else on stdout",
    "platform": "check a built-in platform preset's facts instead of this machine (no network checks): ID[:VERSION]",
    "project": "the project whose venv's CA bundle (certifi) is also checked (default: this repository)",
    "offline": "skip the network checks (DNS, proxy, connection and TLS to the package index)",
})
def doctor(c, json=False, platform=None, project=None, offline=False):
    """Check this machine for every pip failure class visible without running pip (exit 1 when something is wrong)."""
    from provision.diagnose import doctor as doc
    from provision.diagnose.explain import machine
    from provision.project import config as config_mod
    from provision.run import report

    with user_errors():
        where, notice = machine(platform)
        venvs: list[str] = []
        index = ""
        try:
            cfg = config_mod.load(project or default_project())
            venvs.append(str(cfg.venv))
            index = cfg.index_url or ""
        except ProvisionError:
            if project:
                raise
        if not platform and not offline:
            index = index or doc.index_url(dict(where.facts.ca))
        ca = where.facts.ca
        pip_cert = ca.get("PIP_CERT") or ca.get("pip:cert") or ca.get("REQUESTS_CA_BUNDLE")
        inputs = doc.Inputs(where, index=index, pip_cert=pip_cert, venvs=venvs if not platform else ())
        findings = doc.run(inputs, network=not (platform or offline))
        build: tuple[list[str], list[str]] | None = None
        if project:
            from provision.project import predict_env

            build = predict_env.doctor(project, platform=platform)
    if json:
        report.dump({"platform": where.facts.platform_key, "profile": where.profile.name if where.profile else None, "notice": notice,
                     "index": index, "healthy": not doc.failed(findings), "findings": [f.to_json() for f in findings],
                     "source_builds": {"lines": build[0], "missing": build[1]} if build else None}, sys.stdout)
    else:
        head = f"doctor: {where.facts.distro_name or where.facts.system} {where.facts.distro_version}".rstrip()
        head += f" · profile {where.profile.name}" if where.profile else ""
        if notice:
            head += f"\n  notice: {notice}"
        print(doc.text_report(findings, head))
        if build:
            print("\nsource builds (predicted with pip's resolver, nothing installed):")
            print("\n".join(f"  {ln}" for ln in build[0]))
            print(f"  missing system packages: {' '.join(build[1])}" if build[1] else "  missing system packages: none")
    if doc.failed(findings) or (build and build[1]):
        raise Exit(code=1)


@task(
    help={
        "package": "what to install into the project venv: one requirement, or several in one quoted argument separated by spaces "
        "(e.g. psycopg2, or \"psycopg2 lxml>=5\")",
        "fix": "when pip fails for a missing system library/compiler/headers/Rust, install those system packages "
        "(same plan and runner as ./bootstrap) and retry pip once with --no-cache-dir",
        "dry-run": "run pip as 'pip install --dry-run' and print the exact package-manager command --fix would run; change nothing",
        "project": "the project whose venv to install into (default: this repository)",
        "json": "print a JSON report (attempts, findings, fix steps, log) on stdout; pip's output goes to stderr",
        "yes": "non-interactive: never prompt (sudo runs as 'sudo -n')",
    },
)
def install(c, package, fix=False, dry_run=False, project=None, json=False, yes=False):
    """Install packages into the project venv; explain a failure and, with --fix, install what it lacks."""
    from provision.install import install as run

    with user_errors():
        code = run(c, package.split(), project=project, fix=fix, dry_run=dry_run, as_json=json, yes=yes)
    finish(code)
