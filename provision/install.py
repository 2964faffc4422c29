"""``./bootstrap install PACKAGE... [--fix] [--dry-run]``: pip in the project venv, explained.

1. ``<venv>/bin/python -m pip install PACKAGE...``, output streamed to the terminal and
   to a log file under the platformdirs log dir.
2. On failure: the same engine as ``explain`` names the cause and this machine's fix.
3. With ``--fix``: the needs of the findings (a native library, the compiler, the
   Python headers, Rust) are added to the project's needs and only the
   ``SystemPackages`` step runs, through the same ``Runner`` as ``./bootstrap`` (so
   ``--dry-run`` prints the exact package-manager command and runs nothing); then pip
   is retried once with ``--no-cache-dir`` (pip would otherwise reuse a wheel built
   without the library, or a failed build's cached result).

With ``--dry-run``, pip runs as ``pip install --dry-run`` (pip >= 22.2): it resolves and
prepares metadata, which is where most missing libraries show (psycopg2's pg_config,
lxml, mysqlclient); failures that only happen while compiling a wheel show only in a
real run.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from .diagnose import Finding
from .diagnose.explain import Explanation, explain, machine, text_report
from .diagnose.fixes import Machine
from .errors import MachineError, ProvisionError
from .paths import default_project
from .plan import Plan
from .project import config as config_mod
from .run.diagnosis import failing_distributions, with_table
from .run.log import RunLog, log_path
from .run.progress import Progress
from .run.runner import Runner
from .steps import StepEnv
from .steps.packages import SystemPackages


#: what --fix installs for each category (missing-native-library carries its own need)
class Tee:
    """A write-only stream copying to several (the terminal and the log)."""

    def __init__(self, *streams: TextIO | None) -> None:
        self.streams = [s for s in streams if s is not None]
        self.written = 0

    def write(self, text: str) -> int:
        self.written += len(text)
        for s in self.streams:
            s.write(text)
        return len(text)

    def flush(self) -> None:
        for s in self.streams:
            s.flush()


def needs_of(findings: Sequence[Finding]) -> list[str]:
    out: list[str] = []
    for f in findings:
        out += [n for n in f.installable_needs if n not in out]
    return out


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~;\[ @]", spec.strip(), maxsplit=1)[0]


def without_self(result: Explanation) -> Explanation:
    """The findings without fixes that say to run ``./bootstrap install … --fix``: that is this very command."""
    for f in result.findings:
        f.fix = [x for x in f.fix if "./bootstrap install" not in x]
    return result


def venv_python(venv: str) -> str:
    return os.path.join(venv, "Scripts", "python.exe") if os.name == "nt" else os.path.join(venv, "bin", "python")


def pip_argv(python: str, packages: Sequence[str], *extra: str) -> list[str]:
    return [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", *extra, *packages]


def default_fix_env(ctx: object, project: str | None, needs: Sequence[str], dry_run: bool) -> tuple[StepEnv, Callable[[], StepEnv]]:
    """The bootstrap's own StepEnv with the extra needs, and its re-probe function."""
    from .machine import facts as facts_mod
    from .project import interpreter
    from .session import prepare, with_choice

    prepared = prepare(ctx, project=project, dry_run=dry_run)
    env = prepared.env
    env = dataclasses.replace(env, config=dataclasses.replace(env.config, needs=tuple(dict.fromkeys((*env.config.needs, *needs)))))

    def refresh() -> StepEnv:
        fresh = facts_mod.gather()
        return with_choice(env, fresh, interpreter.decide(fresh, env.config, env.profile, env.spec, None))

    return env, refresh


def install(
    ctx: Any,
    packages: Sequence[str],
    *,
    project: str | None = None,
    fix: bool = False,
    dry_run: bool = False,
    as_json: bool = False,
    yes: bool = False,
    out: TextIO | None = None,
    where: Machine | None = None,
    fix_env: Callable[[Sequence[str]], tuple[StepEnv, Callable[[], StepEnv]]] | None = None,
    log_file: str | None = None,
) -> int:
    """Install into the project venv; explain and (with ``fix``) repair a failure. Exit code."""
    out = out or sys.stdout
    human = sys.stderr if as_json else out
    if not packages:
        raise ProvisionError("no package given.", "Usage: ./bootstrap install PACKAGE... [--fix] [--dry-run]")
    for p in packages:
        if p.startswith("-"):
            raise ProvisionError(f"'{p}' is an option, not a package.", "Pass only requirement specifiers, e.g. ./bootstrap install 'psycopg2>=2.9'.")
    cfg = config_mod.load(project or default_project())
    python = venv_python(str(cfg.venv))
    if not os.path.exists(python):
        raise MachineError(f"the project venv {cfg.venv} does not exist (no {python}).",
                             "Run ./bootstrap first: it builds the venv; then ./bootstrap install PACKAGE.")
    report: dict[str, Any] = {"packages": list(packages), "venv": str(cfg.venv), "dry_run": dry_run, "attempts": [], "findings": [], "fix": None}
    log = RunLog(None if (dry_run and log_file is None) else (log_file or log_path("install")))
    report["log"] = log.path

    def pip(*extra: str) -> tuple[int, str]:
        argv = pip_argv(python, packages, *extra)
        print(f"$ {shlex.join(argv)}", file=human)
        log.write(f"\n$ {shlex.join(argv)}\n")
        tee = Tee(human, log.stream)
        res = ctx.run(shlex.join(argv), warn=True, hide=False, out_stream=tee, err_stream=tee, in_stream=False, pty=False, dry=False)
        output = (res.stdout or "") + (res.stderr or "")
        if not tee.written and output:  # a context that captured without streaming (hidden, or a mock)
            tee.write(output if output.endswith("\n") else output + "\n")
        log.end_output()
        log.write(f"[exit {res.exited}]\n")
        report["attempts"].append({"argv": argv, "exit": res.exited})
        return res.exited, output

    def finish(code: int) -> int:
        log.close()
        if log.path:
            print(f"log: {log.path}", file=human)
        if as_json:
            report["exit"] = code
            from .run import report as report_mod

            report_mod.dump(report, out)
        return code

    try:
        code, output = pip("--dry-run") if dry_run else pip()
        if code == 0:
            print(f"install: {' '.join(packages)} {'would install' if dry_run else 'installed'} in {cfg.venv}", file=human)
            return finish(0)
        if dry_run and "no such option: --dry-run" in output:
            print("install: this venv's pip is older than 22.2 and has no --dry-run; upgrade it (python -m pip install --upgrade pip) "
                  "or run without --dry-run.", file=human)
            return finish(1)
        if where is None:
            where, notice = machine(None)
        else:
            notice = None
        result: Explanation = without_self(explain(output, where, notice))
        report["findings"] = [f.to_json() for f in result.findings]
        print("", file=human)
        print(text_report(result, "pip's output"), file=human)
        # the build-needs table completes explain's needs (or stands in when explain names none)
        needs, known = with_table(needs_of(result.findings), [*failing_distributions(output), *(requirement_name(p) for p in packages)])
        if known:
            report["table"] = {"distributions": known, "needs": needs}
            print(f"\ninstall: {', '.join(known)} failed to build from source; the build-needs table says it needs "
                  f"{', '.join(needs)}", file=human)
        if not fix:
            if needs:
                print(f"\ninstall: run again with --fix to install the system packages for: {', '.join(needs)} "
                      f"(./bootstrap install {' '.join(shlex.quote(p) for p in packages)} --fix)", file=human)
            return finish(1)
        if not needs:
            print("\ninstall: --fix installs system packages only; nothing among the findings above is one. Follow the fix shown.", file=human)
            return finish(1)
        print(f"\ninstall --fix: installing the system packages for {', '.join(needs)}", file=human)
        env, refresh = (fix_env or (lambda n: default_fix_env(ctx, project, n, dry_run)))(needs)
        facts = env.facts
        runner = Runner(ctx, dry_run=dry_run, is_root=facts.is_root, sudo=facts.sudo, interactive=sys.stdin.isatty() and not yes,
                        log=log, progress=Progress(stream=sys.stderr, quiet=as_json))
        from .run import report as report_mod

        def show(res: object) -> None:
            print(report_mod.step_text(res, is_root=facts.is_root, dry_run=dry_run), file=human)  # type: ignore[arg-type]

        if dry_run:
            recap = runner.run(Plan((SystemPackages(),)), env, refresh, show)
        else:
            # the package manager runs under the same lock as ./bootstrap: never two writers at once
            from .run.lock import exclusive
            from .session import lock_path

            with exclusive(lock_path(), notice=human) as waited:
                recap = runner.run(Plan((SystemPackages(),)), refresh() if waited else env, refresh, show)
        print(recap.line(), file=human)
        report["fix"] = {"needs": needs, "steps": [r.to_json(is_root=facts.is_root) for r in recap.results]}
        if recap.failed:
            return finish(1)
        retry = pip_argv(python, packages, "--no-cache-dir")
        if dry_run:
            print(f"would then retry: {shlex.join(retry)}", file=human)
            return finish(0)
        code, output = pip("--no-cache-dir")
        if code == 0:
            print(f"install: {' '.join(packages)} installed in {cfg.venv} after installing the system packages for {', '.join(needs)}", file=human)
            return finish(0)
        again = without_self(explain(output, where))  # --fix is what just failed: never offered again
        report["findings_after_fix"] = [f.to_json() for f in again.findings]
        print("\ninstall: pip still fails after the fix:", file=human)
        print(text_report(again, "pip's output (retry)"), file=human)
        return finish(1)
    finally:
        log.close()
