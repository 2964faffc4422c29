"""The runner against invoke's MockContext: apply, re-probe, failure, privileges, dry run."""

from __future__ import annotations

import io
import shlex
from dataclasses import dataclass

import pytest
from invoke import MockContext, Result

from provision.command import Command
from provision.errors import ProvisionError
from provision.plan import Plan
from provision.runner import Progress, RunLog, Runner
from provision.steps import Change, Step


@dataclass
class Toggle(Step):
    """A step whose state flips once its command has run."""

    name = "toggle"
    title = "Toggle"
    state: dict
    key: str = "done"
    sudo: bool = False

    def check(self, env):
        if self.state.get(self.key):
            return Change("already done")
        return Change("not done", (Command(("touch", self.key), sudo=self.sudo),))


def runner(ctx, *, dry_run=False, is_root=True, sudo="root", interactive=False):
    return Runner(ctx, dry_run=dry_run, is_root=is_root, sudo=sudo, interactive=interactive, log=RunLog(None),
                  progress=Progress(io.StringIO(), quiet=True))


def run(r, steps, state):
    reported = []

    def refresh():
        return None

    recap = r.run(Plan(tuple(steps)), None, refresh, reported.append)
    return recap, reported


def test_apply_then_reprobe():
    state: dict = {}
    ctx = MockContext(run={"touch done": Result(exited=0)})
    ctx.run.side_effect = lambda *a, **k: (state.update(done=True), Result(exited=0))[1]  # type: ignore[attr-defined]
    recap, reported = run(runner(ctx), [Toggle(state)], state)
    assert recap.line() == "recap: ok=0 changed=1 failed=0 skipped=0"
    assert reported[0].status == "changed"
    assert shlex.split(ctx.run.call_args[0][0]) == ["touch", "done"]  # type: ignore[attr-defined]


def test_second_run_is_ok_and_runs_nothing():
    state = {"done": True}
    ctx = MockContext()
    recap, _ = run(runner(ctx), [Toggle(state)], state)
    assert recap.line() == "recap: ok=1 changed=0 failed=0 skipped=0"


def test_failure_stops_later_steps_and_names_the_cause():
    state: dict = {}
    out = "Reading package lists...\nE: Unable to locate package libnothing-dev\n"
    ctx = MockContext(run=Result(stdout=out, exited=100))
    recap, reported = run(runner(ctx), [Toggle(state), Toggle(state, key="other")], state)
    assert [r.status for r in reported] == ["failed", "skipped"]
    assert "Unable to locate package libnothing-dev" in reported[0].error
    assert recap.failed


def test_a_step_that_does_not_converge_fails():
    state: dict = {}
    ctx = MockContext(run=Result(exited=0))  # the command "works" but changes nothing
    _, reported = run(runner(ctx), [Toggle(state)], state)
    assert reported[0].status == "failed" and "still not in the wanted state" in reported[0].error


def test_dry_run_runs_nothing():
    state: dict = {}
    ctx = MockContext()  # any run() would raise: nothing is canned
    recap, reported = run(runner(ctx, dry_run=True), [Toggle(state)], state)
    assert reported[0].status == "changed" and reported[0].commands[0].argv == ("touch", "done")


@pytest.mark.parametrize(
    ("sudo", "interactive", "fragment"),
    [("absent", False, "there is no sudo"), ("password", False, "asks for a password")],
)
def test_root_that_cannot_be_had_fails_before_anything_runs(sudo, interactive, fragment):
    state: dict = {}
    ctx = MockContext()
    r = runner(ctx, is_root=False, sudo=sudo, interactive=interactive)
    with pytest.raises(ProvisionError, match=fragment) as e:
        run(r, [Toggle({"done": True}, key="first"), Toggle(state, sudo=True)], state)
    assert "Nothing was changed" in str(e.value)


@pytest.mark.parametrize(
    ("sudo", "interactive", "prefix"),
    [("nopasswd", False, ["sudo", "-n"]), ("password", True, ["sudo"]), ("root", False, [])],
)
def test_sudo_is_explicit(sudo, interactive, prefix):
    state: dict = {}
    ctx = MockContext(run=Result(exited=0))
    ctx.run.side_effect = lambda *a, **k: (state.update(done=True), Result(exited=0))[1]  # type: ignore[attr-defined]
    run(runner(ctx, is_root=sudo == "root", sudo=sudo, interactive=interactive), [Toggle(state, sudo=True)], state)
    assert shlex.split(ctx.run.call_args[0][0]) == [*prefix, "touch", "done"]  # type: ignore[attr-defined]


def test_ctrl_c_stops_after_the_current_command():
    state: dict = {}
    r = runner(MockContext(run=Result(exited=0)))

    def swallowed_interrupt(*a, **k):
        # what invoke does: forward Ctrl-C, wait for the command, return its result
        r.interrupted = True
        state["done"] = True
        return Result(exited=0)

    r.ctx.run.side_effect = swallowed_interrupt  # type: ignore[attr-defined]
    with pytest.raises(KeyboardInterrupt):
        run(r, [Toggle(state), Toggle(state, key="other")], state)
    assert "other" not in state
