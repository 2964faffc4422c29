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
4. A header, command, library or pkg-config module that no table knows (not the rules'
   tables, not the build-needs table) is looked up in the distro's own file index
   (``diagnose.fileindex``): the ``FileIndexReady`` step installs and fills the search
   tool where it needs that (``apt-file``, ``pacman -Fy``), the search runs as a
   read-only probe, and the package it names joins the same one transaction. In a dry
   run whose search tool is not there yet, the search cannot run: its exact command is
   printed, and that the package it names would be installed.

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

from .diagnose import Finding, fileindex
from .diagnose.explain import Explanation, explain, machine, text_report
from .diagnose.fixes import Machine
from .errors import MachineError, ProvisionError
from .paths import default_project
from .plan import Plan
from .project import config as config_mod
from .redact import safe
from .run.diagnosis import failing_distributions, with_table
from .run.log import RunLog, log_path
from .run.progress import Progress
from .run.runner import Recap, Runner, StepResult
from .steps import StepEnv
from .steps.fileindex import FileIndexReady
from .steps.packages import SystemPackages


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


def lookups_of(findings: Sequence[Finding]) -> list[fileindex.Missing]:
    """The files no table knows (a finding without an installable need): the file index's to find."""
    out: list[fileindex.Missing] = []
    for f in findings:
        m = f.details.get("missing")
        item = fileindex.missing(m.get("kind"), m.get("name")) if isinstance(m, dict) and not f.installable_needs else None
        if item is not None and item not in out:
            out.append(item)
    return out


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~;\[ @]", spec.strip(), maxsplit=1)[0]


def without_self(result: Explanation) -> Explanation:
    """The findings without fixes that say to run ``./bootstrap install … --fix``: that is this very command."""
    for f in result.findings:
        f.fix = [x for x in f.fix if "./bootstrap install" not in x]
    return result


def fileindex_argv(index: fileindex.Index, item: fileindex.Missing) -> tuple[str, ...]:
    argv = index.argv(item)
    assert argv is not None  # cannot_look_up checked the kind
    return argv


def cannot_look_up(index: fileindex.Index | None, items: Sequence[fileindex.Missing], pm: str) -> str | None:
    """Why install --fix cannot search this platform's file index for these items (None: it can)."""
    for item in items:
        if index is not None and index.runnable:
            said = index.cannot(item)
            if said:
                return f"{pm} cannot search its file index for {item.words}, so --fix cannot tell which package has it. {said}; then retry."
            continue
        head = f"{pm} has no file index this kit can search for {item.words}, so --fix cannot tell which package has it. "
        offered = index.cannot(item) if index else None
        argv = index.argv(item) if index else None
        if offered:
            return head + f"{offered[0].upper()}{offered[1:]}; then retry."
        if argv:
            return head + f"Search for it yourself ({shlex.join(argv)}), install the package it names, then retry."
        return head + "Find the package that provides it, install it with the system's package manager, then retry."
    return None


def not_found(index: fileindex.Index, lk: fileindex.Lookup) -> str:
    """One paragraph: the file searched, the search run, and what the user can do."""
    argv = safe(shlex.join(lk.argv))
    if lk.error:
        return (f"the search of {index.pm}'s file index for {lk.item.words} failed ({safe(lk.error)}). It was: {argv}. "
                "Run it yourself to see why (a stale or missing index, no network), install the package it names with the "
                "system's package manager, then retry.")
    return (f"no package in {index.pm}'s file index has {lk.item.words} (searched for {lk.item.file} with: {argv}). "
            "It may come from a repository this machine does not use, or under another file name: run that search yourself, "
            "or a looser one, install the package that has it with the system's package manager, then retry.")


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
        lookups = lookups_of(result.findings)
        if known:
            report["table"] = {"distributions": known, "needs": needs}
            print(f"\ninstall: {', '.join(known)} failed to build from source; the build-needs table says it needs "
                  f"{', '.join(needs)}", file=human)
            lookups = []  # the table knows the package: no file-index search
        if not fix:
            todo = [f"install the system packages for: {', '.join(needs)}"] if needs else []
            todo += [f"look up {', '.join(i.words for i in lookups)} in the distro's file index and install the package that has it"] if lookups else []
            if todo:
                print(f"\ninstall: run again with --fix to {' and '.join(todo)} "
                      f"(./bootstrap install {' '.join(shlex.quote(p) for p in packages)} --fix)", file=human)
            return finish(1)
        if not needs and not lookups:
            print("\ninstall: --fix installs system packages only; nothing among the findings above is one. Follow the fix shown.", file=human)
            return finish(1)
        if needs:
            print(f"\ninstall --fix: installing the system packages for {', '.join(needs)}", file=human)
        env, refresh = (fix_env or (lambda n: default_fix_env(ctx, project, n, dry_run)))(needs)
        facts = env.facts
        from .run import report as report_mod

        def runner() -> Runner:
            return Runner(ctx, dry_run=dry_run, is_root=facts.is_root, sudo=facts.sudo, interactive=sys.stdin.isatty() and not yes,
                          log=log, progress=Progress(stream=sys.stderr, quiet=as_json))

        def show(res: object) -> None:
            print(report_mod.step_text(res, is_root=facts.is_root, dry_run=dry_run), file=human)  # type: ignore[arg-type]

        def apply(env: StepEnv) -> tuple[list[StepResult], bool]:
            """The file index (when a lookup is needed), then the one package transaction: (results, ok)."""
            results: list[StepResult] = []
            found: tuple[tuple[str, str], ...] = ()
            if lookups:
                index = fileindex.index_for(env.profile.package_manager)
                blocked = cannot_look_up(index, lookups, env.profile.package_manager)
                if blocked:
                    print(f"\ninstall --fix: {blocked}", file=human)
                    return results, False
                assert index is not None
                print(f"\ninstall --fix: no table knows {', '.join(i.words for i in lookups)}: looking it up in the distro's file index "
                      f"({index.tool})", file=human)
                ready = runner().run(Plan((FileIndexReady(),)), env, refresh, show)
                results += ready.results
                if ready.failed:
                    return results, False
                if dry_run and any(r.status == "changed" for r in ready.results):
                    for item in lookups:
                        print(f"would then look up {item.words}: $ {safe(shlex.join(fileindex_argv(index, item)))}", file=human)
                        print("  then install the package it names" + (f", with the system packages for {', '.join(needs)}, in one transaction"
                                                                       if needs else ""), file=human)
                    report["lookups"] = [{**i.to_json(), "argv": list(fileindex_argv(index, i)), "choice": None} for i in lookups]
                else:
                    done = [look_up(env, index, item) for item in lookups]
                    report["lookups"] = [lk.to_json() for lk in done]
                    failed = [lk for lk in done if lk.choice is None]
                    if failed:
                        for lk in failed:
                            print(f"\ninstall --fix: {not_found(index, lk)}", file=human)
                        return results, False
                    found = tuple((lk.choice.package, lk.item.words) for lk in done if lk.choice)
            if not needs and not found:
                return results, True
            with_found = dataclasses.replace(env, packages=found)
            recap = runner().run(Plan((SystemPackages(),)), with_found, lambda: dataclasses.replace(refresh(), packages=found), show)
            return results + recap.results, not recap.failed

        def look_up(env: StepEnv, index: fileindex.Index, item: fileindex.Missing) -> fileindex.Lookup:
            preferred = [p for pkgs in env.profile.needs.values() for p in pkgs]
            lk = fileindex.search(env.probe, index, item, preferred)
            argv = shlex.join(lk.argv)
            print(f"file index: $ {safe(argv)}", file=human)
            log.write(f"\n$ {argv}\n")
            if lk.choice:
                c = lk.choice
                line = f"  {item.words} is in {c.package}" + (f" ({c.path})" if c.path else "")
                if c.others:
                    line += f"; also in {', '.join(c.others[:5])}{' …' if len(c.others) > 5 else ''}: {c.package} chosen, {c.why}"
                print(safe(line), file=human)
                log.write(line + "\n")
            return lk

        if dry_run:
            results, ok = apply(env)
        else:
            # the package manager runs under the same lock as ./bootstrap: never two writers at once
            from .run.lock import exclusive
            from .session import lock_path

            with exclusive(lock_path(), notice=human) as waited:
                results, ok = apply(refresh() if waited else env)
        recap = Recap(results, dry_run)
        if results:
            print(recap.line(), file=human)
        report["fix"] = {"needs": needs, "lookups": report.pop("lookups", []), "steps": [r.to_json(is_root=facts.is_root) for r in results]}
        if not ok:
            return finish(1)
        retry = pip_argv(python, packages, "--no-cache-dir")
        if dry_run:
            print(f"would then retry: {shlex.join(retry)}", file=human)
            return finish(0)
        code, output = pip("--no-cache-dir")
        if code == 0:
            what = [*needs, *(lk["choice"]["package"] for lk in report["fix"]["lookups"] if lk.get("choice"))]
            print(f"install: {' '.join(packages)} installed in {cfg.venv} after installing the system packages for {', '.join(what)}",
                  file=human)
            return finish(0)
        again = without_self(explain(output, where))  # --fix is what just failed: never offered again
        report["findings_after_fix"] = [f.to_json() for f in again.findings]
        print("\ninstall: pip still fails after the fix:", file=human)
        print(text_report(again, "pip's output (retry)"), file=human)
        return finish(1)
    finally:
        log.close()
