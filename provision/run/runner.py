"""The runner: checks each step, applies it, re-probes, and records what happened.

It wraps an invoke ``Context`` (or a Fabric ``Connection``, which is one). Probes always
really run; changes run only when applying. Before anything changes, every step is
checked once (pre-flight): a plan that needs root where root cannot be had fails
before its first command, so nothing is left half-done. The plan's lanes (steps that
need nothing of each other) run at the same time, each in its own thread.
"""

from __future__ import annotations

import shlex
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from ..command import Command
from ..errors import MachineError, ProvisionError
from ..plan import Plan
from ..steps import Change, Step, StepEnv
from .log import RunLog
from .progress import Progress, summarize_failure
from .recap import RECAP_KEYS, recap_line

if TYPE_CHECKING:
    from invoke import Context


class NotConverged(Exception):
    """A runner that may only confirm found a step with something to do (or in error)."""


@dataclass
class StepResult:
    name: str
    title: str
    status: str  # ok | changed | failed | skipped
    reason: str
    commands: list[Command] = field(default_factory=list)
    duration: float = 0.0
    error: str | None = None

    def to_json(self, *, is_root: bool) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "reason": self.reason,
            "commands": [c.to_json(is_root=is_root) for c in self.commands],
            "duration": round(self.duration, 3),
            "error": self.error,
        }


@dataclass
class Recap:
    results: list[StepResult]
    dry_run: bool

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0

    def line(self) -> str:
        return recap_line({k: self.count(k) for k in RECAP_KEYS})


Preflight = tuple[Step, "str | None", "Change | None", "str | None"]  # step, skip reason, change, error


@dataclass
class _Chain:
    """Where a run of steps one after another stands: the env, whether it is stale, whether one failed,
    whether a step changed the machine since the pre-flight checks (the next steps are checked again)."""

    env: StepEnv
    stale: bool = False
    failed: bool = False
    moved: bool = False


class Runner:
    """Runs commands through an invoke Context; sudo is explicit in the argv it prints."""

    def __init__(
        self,
        ctx: Context | None,
        *,
        dry_run: bool,
        is_root: bool,
        sudo: str,
        interactive: bool,
        log: RunLog,
        progress: Progress,
        confirm_only: bool = False,
        diagnose: Callable[[str], str] | None = None,
    ) -> None:
        self.ctx = ctx
        self.diagnose = diagnose  # a failed command's output -> explain's finding and fix, for the failure block
        self._report_lock = threading.Lock()
        self.confirm_only = confirm_only  # raise NotConverged instead of changing anything
        self.dry_run = dry_run
        self.is_root = is_root
        self.sudo = sudo
        self.interactive = interactive
        self.log = log
        self.progress = progress
        self.interrupted = False  # set by Ctrl-C during run()

    @property
    def sudo_flags(self) -> tuple[str, ...]:
        return () if (self.sudo == "password" and self.interactive) else ("-n",)

    def argv(self, command: Command) -> tuple[str, ...]:
        return command.argv_for(is_root=self.is_root, sudo_flags=self.sudo_flags)

    def check_privileges(self, changes: list[tuple[Step, Change]]) -> None:
        """Refuse, before running anything, a plan that needs root that cannot be had."""
        needs = [(s, c) for s, ch in changes for c in ch.commands if c.sudo]
        if not needs or self.is_root or self.dry_run:
            return
        titles = ", ".join(dict.fromkeys(s.title for s, _ in needs))
        first = needs[0][1].shell(is_root=False, sudo_flags=())
        if self.sudo == "absent":
            raise MachineError(
                f"this run needs root for: {titles}, but you are not root and there is no sudo.",
                f"Nothing was changed. Run it as root, or have an administrator install sudo for you, or run the root part by hand: {first}",
            )
        if self.sudo == "password" and not self.interactive:
            raise MachineError(
                f"this run needs root for: {titles}, and sudo asks for a password, which a non-interactive run cannot give.",
                "Nothing was changed. Run it in a terminal (sudo will ask once), or as root, or allow passwordless sudo for this user.",
            )

    def _on_interrupt(self, signum: int, frame: object) -> None:
        # invoke forwards Ctrl-C to the command and then waits for it, swallowing the
        # KeyboardInterrupt (right for REPLs, wrong for a provisioning run): remember it,
        # so the run stops after the current command instead of going on to the next step.
        self.interrupted = True
        raise KeyboardInterrupt

    def execute(self, step: Step, command: Command) -> tuple[bool, str]:
        if self.interrupted:
            raise KeyboardInterrupt
        argv = self.argv(command)
        visible = command.shown(is_root=self.is_root, sudo_flags=self.sudo_flags)  # masked per argument, before quoting
        shown = " ".join(visible) if len(" ".join(visible)) < 200 else " ".join(visible)[:197] + "..."
        self.log.write(f"\n$ {shlex.join(visible)}\n")
        token = self.progress.start(step.title, command.purpose or shown)
        try:
            # explicit on purpose: the Context may be a Fabric Connection or a test double,
            # which do not carry the task collection's run defaults
            direct = {} if command.env_inline(is_root=self.is_root) else dict(command.env)
            result = self.ctx.run(
                shlex.join(argv),
                env=direct,
                warn=True,
                hide=self.log.stream is None,
                in_stream=False,
                out_stream=self.log.stream,
                err_stream=self.log.stream,
                pty=False,
                dry=False,
                timeout=command.timeout,
            )
        finally:
            self.progress.stop(token)
            self.log.end_output()
        output = (result.stdout or "") + (result.stderr or "")
        self.log.write(f"[exit {result.exited}]\n")
        if self.interrupted:
            self.log.write("[interrupted]\n")
            raise KeyboardInterrupt
        return result.exited == 0, output

    def run(self, plan: Plan, env: StepEnv, refresh: Callable[[], StepEnv], report: Callable[[StepResult], None]) -> Recap:
        self.interrupted = False
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, self._on_interrupt) if main_thread and not self.dry_run else None
        try:
            return self._run(plan, env, refresh, report)
        finally:
            self.progress.close()
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def _run(self, plan: Plan, env: StepEnv, refresh: Callable[[], StepEnv], report: Callable[[StepResult], None]) -> Recap:
        preflight: list[Preflight] = []
        for step in plan.steps:
            try:
                skip = step.skip_reason(env)
                preflight.append((step, skip, None if skip else step.check(env), None))
            except ProvisionError as e:
                preflight.append((step, None, None, str(e)))
        if self.confirm_only and any(e or (c is not None and c.commands) for _, _, c, e in preflight):
            raise NotConverged
        self.check_privileges([(s, c) for s, _, c, _ in preflight if c is not None])
        lanes = plan.lane_indexes()
        first_lane = min((i for lane in lanes for i in lane), default=len(preflight))
        results: dict[int, StepResult] = {}
        chain = _Chain(env)
        for i in range(first_lane):
            results[i] = self._step(preflight[i], chain, refresh, report)
        if self._overlap(lanes, preflight, chain):
            self._run_lanes(lanes, preflight, chain, refresh, report, results)
        else:
            for i in range(first_lane, len(preflight)):
                results[i] = self._step(preflight[i], chain, refresh, report)
        return Recap([results[i] for i in sorted(results)], self.dry_run)

    def _step(self, item: Preflight, chain: _Chain, refresh: Callable[[], StepEnv], report: Callable[[StepResult], None]) -> StepResult:
        """One step: skip, fail, confirm or apply it, as its pre-flight check and the chain say."""
        step, skip, change, error = item
        started = time.monotonic()
        if chain.failed:
            res = StepResult(step.name, step.title, "skipped", "not run: an earlier step failed")
        elif error:
            res = StepResult(step.name, step.title, "failed", error, error=error)
        else:
            if chain.stale:
                chain.env = refresh()
            if chain.stale or chain.moved:  # planned from the machine as it is now: an earlier step may have
                # brought what this one plans from (the interpreter's pip wheel, a compiler)
                skip = step.skip_reason(chain.env)
                change = None if skip else step.check(chain.env)
            if skip:
                res = StepResult(step.name, step.title, "skipped", skip)
            elif change is None or not change.commands:
                res = StepResult(step.name, step.title, "ok", change.reason if change else "")
            elif self.dry_run:
                res = StepResult(step.name, step.title, "changed", change.reason, list(change.commands))
            else:
                res, fresh = self.apply(step, change, refresh)
                chain.env, chain.stale = (fresh, False) if fresh is not None else (chain.env, True)
                chain.moved = True
        res.duration = time.monotonic() - started
        chain.failed = chain.failed or res.status == "failed"
        with self._report_lock:
            report(res)
        return res

    def _overlap(self, lanes: list[list[int]], preflight: list[Preflight], chain: _Chain) -> bool:
        """Lanes run at once when applying for real, after a clean start, with no sudo prompt to share."""
        if len(lanes) < 2 or self.dry_run or chain.failed:
            return False
        planned = [[c for i in lane if (ch := preflight[i][2]) is not None for c in ch.commands] for lane in lanes]
        if sum(1 for commands in planned if commands) < 2 and not chain.stale:
            return False  # at most one lane has work (a no-op run: none): threads would only cost
        return self.is_root or not any(c.sudo for commands in planned for c in commands)

    def _run_lanes(self, lanes: list[list[int]], preflight: list[Preflight], chain: _Chain,
                   refresh: Callable[[], StepEnv], report: Callable[[StepResult], None], results: dict[int, StepResult]) -> None:
        """Each lane in a thread of its own; Ctrl-C lets each finish its current command, then stops."""
        from concurrent.futures import ThreadPoolExecutor, wait

        def run_lane(lane: list[int], own: _Chain) -> None:
            for i in lane:
                with self.log.section():
                    results[i] = self._step(preflight[i], own, refresh, report)

        interrupted = False
        with ThreadPoolExecutor(max_workers=len(lanes), thread_name_prefix="provision-lane") as pool:
            futures = [pool.submit(run_lane, lane, _Chain(chain.env, chain.stale, moved=chain.moved)) for lane in lanes]
            while True:
                try:
                    wait(futures)
                    break
                except KeyboardInterrupt:  # raised here by _on_interrupt; the lanes see self.interrupted
                    interrupted = True
        errors = [e for e in (f.exception() for f in futures) if e is not None]
        if interrupted or any(isinstance(e, KeyboardInterrupt) for e in errors):
            raise KeyboardInterrupt
        if errors:
            raise errors[0]

    def apply(self, step: Step, change: Change, refresh: Callable[[], StepEnv]) -> tuple[StepResult, StepEnv | None]:
        """Run the step's commands, then re-probe: the step must now have nothing to do."""
        self.log.write(f"\n=== {step.title}: {change.reason}\n")
        for command in change.commands:
            ok, output = self.execute(step, command)
            if not ok:
                why = summarize_failure(output, command)
                if self.diagnose is not None:
                    try:
                        why += "\n" + self.diagnose(output)
                    except Exception as e:  # noqa: BLE001 - the diagnosis must never hide the failure itself
                        why += f"\n(diagnosis failed: {e})"
                return StepResult(step.name, step.title, "failed", change.reason, list(change.commands),
                                  error=f"{self.argv(command)[0]} failed:\n{why}"), None
        env = refresh()
        after = step.check(env)
        if after.commands:
            return StepResult(step.name, step.title, "failed", change.reason, list(change.commands),
                              error=f"still not in the wanted state after applying: {after.reason}"), env
        return StepResult(step.name, step.title, "changed", change.reason, list(change.commands)), env
