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

from . import indexes, memo, plan
from .certs import fingerprint
from .errors import ConfigError, ProvisionError
from .machine import facts as facts_mod
from .machine.facts import Facts
from .machine.probe import FreshProbe, LocalProbe, Probe
from .paths import default_project
from .platforms import presets, profiles
from .project import config as config_mod
from .project import detect, interpreter
from .project.detect import ProjectSpec
from .run import report
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
    choice: interpreter.Choice | None = None


def check_platform(platform: str | None) -> None:
    """An empty ``--platform`` is bad input (it once slipped past the "can only be planned" guard)."""
    if platform is not None and not platform.strip():
        raise ConfigError("--platform is empty.", "Give a preset as ID[:VERSION], e.g. --platform debian:12, or leave the option out.")


def with_choice(env: StepEnv, facts: Facts, choice: interpreter.Choice) -> StepEnv:
    """The env with these facts and this interpreter decision (what installs it, if anything)."""
    return replace(env, facts=facts, python=choice.python, python_from_packages=choice.from_packages,
                   python_packages=choice.packages or None, python_repository=choice.repository, python_download=choice.download)


def with_downloaded(facts: Facts, choice: interpreter.Choice | None) -> Facts:
    """A uv-downloaded interpreter lives outside PATH: once it exists, probe it by its path."""
    if choice is None or not choice.download or not os.path.exists(choice.python.path):
        return facts
    if any(p.path == choice.python.path for p in facts.pythons):
        return facts
    from .machine.pythons import probe_python

    found = probe_python(choice.python.path)
    return replace(facts, pythons=(*facts.pythons, found)) if found else facts


def project_text(spec: ProjectSpec, choice: interpreter.Choice) -> str:
    """What the project's files said: the source, the files used and ignored (and why), the interpreter."""
    rel = detect.rel_path
    source = {"none": "nothing declared", "pip": "pip"}.get(spec.kind, f"{spec.kind} lock, installed with {spec.tool_requirement}")
    if spec.lock_written:
        source = f"{spec.kind} without a lock, installed with {spec.tool_requirement}"
    sel = []
    if spec.all_groups:
        sel.append("groups: all")
    elif spec.groups or not spec.groups_default:
        default = {"poetry": " (Poetry's non-optional groups)", "pipenv": " (dev-packages)",
                   "uv": " (uv's default groups)"}.get(spec.kind, " (the default dev group)")
        sel.append(f"groups: {', '.join(spec.groups) or 'none'}" + (default if spec.groups_default else " (as the config asks)"))
    elif spec.tool:
        sel.append(f"groups: {spec.tool}'s defaults")
    if spec.extras:
        sel.append(f"extras: {', '.join(spec.extras)}")
    if spec.install_project or spec.kind in ("uv", "poetry", "pdm"):
        sel.append("the project itself editable" if spec.install_project or spec.kind != "pipenv" else "")
    lines = [f"  project: {spec.project} · {source}" + (f" · {' · '.join(x for x in sel if x)}" if sel else "")]
    lines += [f"    used: {rel(spec.project, u.path)} — {u.why}" for u in spec.used]
    lines += [f"    ignored: {rel(spec.project, u.path)} — {u.why}" for u in spec.ignored]
    how = f"; {choice.reason}" if choice.reason else ""
    lines.append(f"    python: {choice.python.path} ({choice.python.version}){how}")
    lines += [f"  notice: {n}" for n in spec.notices]
    return "\n".join(lines)


def project_json(spec: ProjectSpec, choice: interpreter.Choice) -> dict[str, object]:
    return {
        "source": spec.kind, "tool": spec.tool_requirement, "lock": str(spec.lock.path) if spec.lock else None,
        "used": [{"file": str(u.path), "why": u.why} for u in spec.used],
        "ignored": [{"file": str(u.path), "why": u.why} for u in spec.ignored],
        "groups": "all" if spec.all_groups else list(spec.groups), "extras": list(spec.extras),
        "editable": spec.install_project, "notices": list(spec.notices),
        "python": {"path": choice.python.path, "version": choice.python.version, "reason": choice.reason,
                   "packages": list(choice.packages), "repository": choice.repository, "download": choice.download,
                   "constraints": [{"text": c.text, "source": c.source} for c in choice.constraints]},
    }


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
    python_downloads: bool = False,
) -> Prepared:
    """Everything before the first command: all validation happens here."""
    facts = machine_facts(platform)
    resolution = profiles.resolve(facts, forced=profile)
    cfg = config_mod.load(project or default_project(), ca_bundle=ca_bundle, python_downloads=python_downloads)
    if cfg.ca_bundle:
        origin = "--ca-bundle" if ca_bundle else f"key 'ca-bundle' in {cfg.source}"
        fingerprint(cfg.ca_bundle, origin=origin)  # validated (a private key in it is refused), or known valid
    spec = detect.detect(cfg)
    choice = interpreter.decide(facts, cfg, resolution.profile, spec, python)
    probe: Probe = FreshProbe() if platform is not None else LocalProbe()
    options = Options(dry_run=dry_run, refresh_after=refresh_after, preset=platform is not None)
    env = with_choice(StepEnv(facts, resolution.profile, cfg, probe, choice.python, options, spec=spec), facts, choice)
    if predict:
        from .project import predict_env

        env = replace(env, prediction=predict_env.for_env(env))
    warnings = tuple(indexes.check(facts.pip_index))
    return Prepared(facts, resolution, env, plan.build(env), warnings, choice)


def diagnose_failure(output: str, facts: Facts, profile: profiles.Profile) -> str:
    """A failed command's output -> the diagnosis text (the runner asks only when a step fails)."""
    from .run import diagnosis  # explain's rules and the build-needs table: a no-op run never needs them

    return diagnosis.diagnose(output, facts, profile).text


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
    python_downloads: bool = False,
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
                       python=python, dry_run=dry_run, refresh_after=refresh_after, python_downloads=python_downloads,
                       predict=os.environ.get("PROVISION_PREDICT", "1") != "0")
    facts, env = prepared.facts, prepared.env
    spec = env.project
    choice = prepared.choice or interpreter.Choice(env.python, env.python_from_packages)
    print(report.header(facts, prepared.resolution.profile.name, f"{env.python.path} ({env.python.version})",
                        prepared.resolution.notice, dry_run), file=human)
    print(project_text(spec, choice), file=human)
    for warning in prepared.warnings:
        print(f"  warning: {warning}", file=human)
    interactive = sys.stdin.isatty() and not yes
    log = RunLog(None if dry_run else log_path("bootstrap"))
    runner = Runner(ctx, dry_run=dry_run, is_root=facts.is_root, sudo=facts.sudo, interactive=interactive,
                    log=log, progress=Progress(quiet=False), confirm_only=confirm_only,
                    diagnose=lambda output: diagnose_failure(output, facts, prepared.resolution.profile))

    def refresh() -> StepEnv:
        fresh = with_downloaded(facts_mod.gather(), choice)
        return with_choice(env, fresh, interpreter.decide(fresh, env.config, env.profile, spec, python))

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
    if not dry_run:  # a run that went through keeps what it parsed and answered (a dry run touches nothing)
        memo.flush()
    if spec.nothing:
        print(f"notice: {spec.notices[-1]}", file=human)
    print(recap.line(), file=human)
    if log.path:
        print(f"log: {log.path}", file=human)
    if as_json:
        extra = {"profile": prepared.resolution.profile.name, "notice": prepared.resolution.notice,
                 "warnings": list(prepared.warnings),
                 "python": env.python.path, "log": log.path, "project": project_json(spec, choice),
                 "prediction": env.prediction.to_json() if env.prediction is not None else None}
        report.dump(report.recap_json(recap, facts, extra, is_root=facts.is_root), out)
    return 1 if recap.failed else 0
