"""One provisioning run, start to end: facts -> profile -> steps -> plan -> runner -> recap.

``tasks.py`` parses options and calls ``bootstrap()``; nothing else in here knows about
invoke's command line.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TextIO

import platformdirs

from . import indexes, plan
from .certs import pem_certificates
from .errors import ConfigError, ProvisionError
from .machine import facts as facts_mod
from .machine.facts import Facts
from .machine.probe import FreshProbe, LocalProbe, Probe
from .paths import default_project
from .platforms import presets, profiles
from .project import config as config_mod
from .project import interpreter
from .run import diagnosis, report
from .run.lock import Busy, exclusive
from .run.log import RunLog, log_path
from .run.progress import Progress
from .run.runner import NotConverged, Runner, StepResult
from .steps import Options, StepEnv

if TYPE_CHECKING:
    from invoke import Context


@dataclass
class Prepared:
    facts: Facts
    resolution: profiles.Resolution
    env: StepEnv
    plan: plan.Plan
    warnings: tuple[str, ...] = ()  # shown under the header (the user's pip index settings)


def check_platform(platform: str | None) -> None:
    """An empty ``--platform`` is bad input (it once slipped past the "can only be planned" guard)."""
    if platform is not None and not platform.strip():
        raise ConfigError("--platform is empty.", "Give a preset as ID[:VERSION], e.g. --platform debian:12, or leave the option out.")


def machine_facts(platform: str | None) -> Facts:
    """This machine's facts, or a preset's; an empty --platform is an error, never this machine."""
    check_platform(platform)
    return presets.load(platform) if platform is not None else facts_mod.gather()


def prepare(
    ctx: Context | None,
    *,
    project: str | None = None,
    platform: str | None = None,
    profile: str | None = None,
    ca_bundle: str | None = None,
    python: str | None = None,
    dry_run: bool = False,
    refresh_after: float = 24 * 3600.0,
    predict: bool = True,
) -> Prepared:
    """Everything before the first command: all validation happens here."""
    facts = machine_facts(platform)
    resolution = profiles.resolve(facts, forced=profile)
    cfg = config_mod.load(project or default_project(), ca_bundle=ca_bundle)
    if cfg.ca_bundle:
        origin = "--ca-bundle" if ca_bundle else f"key 'ca-bundle' in {cfg.source}"
        pem_certificates(cfg.ca_bundle, origin=origin)
    py, from_packages = interpreter.choose(facts, cfg, resolution.profile, python)
    probe: Probe = FreshProbe() if platform is not None else LocalProbe()
    options = Options(dry_run=dry_run, refresh_after=refresh_after, preset=platform is not None)
    env = StepEnv(facts, resolution.profile, cfg, probe, py, options, from_packages)
    if predict:
        from .project import predict_env

        env = replace(env, prediction=predict_env.for_env(env))
    warnings = tuple(indexes.check(facts.pip_index))
    return Prepared(facts, resolution, env, plan.build(env), warnings)


def lock_path() -> str:
    return os.path.join(platformdirs.user_state_dir("provision"), "bootstrap.lock")


def bootstrap(
    ctx: Context | None,
    *,
    project: str | None = None,
    platform: str | None = None,
    profile: str | None = None,
    ca_bundle: str | None = None,
    python: str | None = None,
    dry_run: bool = False,
    as_json: bool = False,
    yes: bool = False,
    refresh_after: float = 24 * 3600.0,
    out: TextIO | None = None,
    err: TextIO | None = None,
    confirm_only: bool = False,
) -> int:
    """Provision this machine (or print the plan). Returns the exit code.

    ``confirm_only``: a run without an invoke Context that may only find everything done
    (see ``provision.fastpath``); anything to do, or a lock held by another run, raises
    ``NotConverged`` before any change, and the log it began is removed.
    """
    out = out or sys.stdout
    human = (err or sys.stderr) if as_json else out
    check_platform(platform)
    if platform is not None and not dry_run:
        raise ProvisionError(
            f"--platform {platform} describes another machine; it can only be planned here.",
            f"Add --dry-run: ./bootstrap --dry-run --platform {platform}",
        )
    # PROVISION_PREDICT=0 turns the prediction off: only for measuring what it saves (benchmarks/bench_predict.py)
    prepared = prepare(ctx, project=project, platform=platform, profile=profile, ca_bundle=ca_bundle,
                       python=python, dry_run=dry_run, refresh_after=refresh_after,
                       predict=os.environ.get("PROVISION_PREDICT", "1") != "0")
    facts, env = prepared.facts, prepared.env
    print(report.header(facts, prepared.resolution.profile.name, f"{env.python.path} ({env.python.version})",
                        prepared.resolution.notice, dry_run), file=human)
    for warning in prepared.warnings:
        print(f"  warning: {warning}", file=human)
    interactive = sys.stdin.isatty() and not yes
    log = RunLog(None if dry_run else log_path("bootstrap"))
    runner = Runner(ctx, dry_run=dry_run, is_root=facts.is_root, sudo=facts.sudo, interactive=interactive,
                    log=log, progress=Progress(quiet=False), confirm_only=confirm_only,
                    diagnose=lambda output: diagnosis.diagnose(output, facts, prepared.resolution.profile).text)

    def refresh() -> StepEnv:
        fresh = facts_mod.gather()
        py, from_packages = interpreter.choose(fresh, env.config, env.profile, python)
        return env.with_facts(fresh, py, from_packages)

    def show(res: StepResult) -> None:
        print(report.step_text(res, is_root=facts.is_root, dry_run=dry_run), file=human)
        human.flush()

    try:
        if dry_run:
            recap = runner.run(prepared.plan, env, refresh, show)
        else:
            log.write(f"provision bootstrap, {time.ctime()}\n{report.facts_text(facts)}\n")
            with exclusive(lock_path(), notice=human, blocking=not confirm_only) as waited:
                # after waiting, another run has changed the machine: probe again
                recap = runner.run(prepared.plan, refresh() if waited else env, refresh, show)
    except (NotConverged, Busy):
        log.discard()
        raise NotConverged from None
    finally:
        log.close()
    print(recap.line(), file=human)
    if log.path:
        print(f"log: {log.path}", file=human)
    if as_json:
        extra = {"profile": prepared.resolution.profile.name, "notice": prepared.resolution.notice,
                 "warnings": list(prepared.warnings),
                 "python": env.python.path, "log": log.path,
                 "prediction": env.prediction.to_json() if env.prediction is not None else None}
        report.dump(report.recap_json(recap, facts, extra, is_root=facts.is_root), out)
    return 1 if recap.failed else 0
