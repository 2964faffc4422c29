"""The runner against invoke's MockContext: apply, re-probe, failure, privileges, dry run."""

from __future__ import annotations

import io
import shlex
import threading
import time
from dataclasses import dataclass

import pytest
from invoke import MockContext, Result

from provision.command import Command
from provision.errors import ProvisionError
from provision.plan import Plan
from provision.run.log import RunLog
from provision.run.progress import Progress
from provision.run.runner import Runner
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


@dataclass
class Follows(Step):
    """A step whose command depends on what an earlier step brought (pip's wheel after the packages)."""

    name = "follows"
    title = "Follows"
    state: dict

    def check(self, env):
        if self.state.get("built"):
            return Change("built")
        return Change("not built", (Command(("build", "--with" if self.state.get("done") else "--without")),))


def test_a_step_after_a_change_is_planned_from_the_machine_as_it_is_then():
    state: dict = {}
    ran: list[str] = []

    def do(cmd, *a, **k):
        ran.append(cmd)
        state.update(done=True) if cmd == "touch done" else state.update(built=True)
        return Result(exited=0)

    ctx = MockContext(run=Result(exited=0))
    ctx.run.side_effect = do  # type: ignore[attr-defined]
    reported: list = []
    recap = runner(ctx).run(Plan((Toggle(state), Follows(state))), "env", lambda: "env after", reported.append)
    assert ran == ["touch done", "build --with"], "the pre-flight's 'build --without' was planned before the first step ran"
    assert reported[1].commands[0].argv == ("build", "--with") and recap.line().endswith("changed=2 failed=0 skipped=0")


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


# --- lanes: steps that need nothing of each other run at the same time --------------------------------------------


@dataclass
class Named(Toggle):
    """A Toggle with a name of its own (lanes are named by step)."""

    label: str = "x"

    @property
    def name(self):  # type: ignore[override]
        return self.label

    @property
    def title(self):  # type: ignore[override]
        return self.label.upper()


def lanes_plan(state, *, sudo=False):
    steps = [Named(state, key="base", label="base"), Named(state, key="a", label="a"), Named(state, key="b1", label="b1", sudo=sudo),
             Named(state, key="b2", label="b2")]
    return Plan(tuple(steps), lanes=(("a",), ("b1", "b2")))


def lanes_ctx(state, on_run):
    """Runs ``touch KEY`` by setting state[KEY], after on_run(key) (where a test makes threads meet)."""
    ctx = MockContext(run=Result(exited=0))
    threads: dict[str, str] = {}

    def side_effect(cmd, **kw):
        key = shlex.split(cmd)[-1]
        threads[key] = threading.current_thread().name
        on_run(key)
        state[key] = True
        return Result(exited=0)

    ctx.run.side_effect = side_effect  # type: ignore[attr-defined]
    return ctx, threads


def test_lanes_run_at_the_same_time():
    state: dict = {}
    meet = threading.Barrier(2, timeout=10)  # a and b1 must be running at once, or this breaks
    ctx, threads = lanes_ctx(state, lambda key: meet.wait() if key in ("a", "b1") else None)
    recap = runner(ctx).run(lanes_plan(state), None, lambda: None, lambda res: None)
    assert [res.name for res in recap.results] == ["base", "a", "b1", "b2"], "the recap keeps plan order"
    assert recap.line() == "recap: ok=0 changed=4 failed=0 skipped=0"
    assert threads["a"] != threads["b1"] and threads["b1"] == threads["b2"]


def test_a_failed_lane_does_not_stop_the_other():
    state: dict = {}
    ctx = MockContext(run=Result(exited=0))

    def side_effect(cmd, **kw):
        key = shlex.split(cmd)[-1]
        if key == "b1":
            return Result(stdout="ERROR: no such thing\n", exited=1)
        state[key] = True
        return Result(exited=0)

    ctx.run.side_effect = side_effect  # type: ignore[attr-defined]
    recap = runner(ctx).run(lanes_plan(state), None, lambda: None, lambda res: None)
    assert {res.name: res.status for res in recap.results} == {"base": "changed", "a": "changed", "b1": "failed", "b2": "skipped"}


@pytest.mark.parametrize(
    ("kw", "together"),
    [
        ({}, True),
        ({"is_root": False, "sudo": "password", "interactive": True}, False),  # one sudo prompt at a time
        ({"dry_run": True}, False),
    ],
)
def test_when_lanes_overlap(kw, together):
    state: dict = {}
    ctx, threads = lanes_ctx(state, lambda key: None)
    r = runner(ctx, **kw)
    recap = r.run(lanes_plan(state, sudo=True), None, lambda: None, lambda res: None)
    assert [res.name for res in recap.results] == ["base", "a", "b1", "b2"]
    if kw.get("dry_run"):
        assert not threads
    else:
        assert (len(set(threads.values())) > 1) is together


def test_ctrl_c_stops_each_lane_after_its_current_command():
    state: dict = {}
    both_running, both_told = threading.Barrier(2, timeout=10), threading.Barrier(2, timeout=10)
    r = runner(MockContext(run=Result(exited=0)))

    def on_run(key):
        if key in ("a", "b1"):
            both_running.wait()  # both lanes are in a command
            if key == "a":
                r.interrupted = True  # Ctrl-C (what _on_interrupt records); invoke lets commands finish
            both_told.wait()

    ctx, _ = lanes_ctx(state, on_run)
    r.ctx = ctx
    with pytest.raises(KeyboardInterrupt):
        r.run(lanes_plan(state), None, lambda: None, lambda res: None)
    assert "b2" not in state, "no lane starts another command after Ctrl-C"


def test_lane_logs_do_not_interleave(tmp_path):
    state: dict = {}
    meet = threading.Barrier(2, timeout=10)
    ctx, _ = lanes_ctx(state, lambda key: meet.wait() if key in ("a", "b1") else None)
    log = RunLog(str(tmp_path / "run.log"))
    r = Runner(ctx, dry_run=False, is_root=True, sudo="root", interactive=False, log=log, progress=Progress(io.StringIO(), quiet=True))
    r.run(lanes_plan(state), None, lambda: None, lambda res: None)
    log.close()
    text = (tmp_path / "run.log").read_text()
    for key in ("a", "b1", "b2"):
        head = text.index(f"=== {key.upper()}:")
        assert text.index(f"$ touch {key}", head) < text.find("===", head + 1) or text.find("===", head + 1) == -1


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_live_progress_line_on_a_terminal():
    term = _Terminal()
    progress = Progress(stream=term)
    assert progress.live
    first = progress.start("System packages", "install system packages in one transaction")
    second = progress.start("Project venv", "the project's requirements")
    time.sleep(0.7)  # the spinner redraws every 0.2 s
    progress.stop(first)
    progress.stop(second)
    progress.close()
    out = term.getvalue()
    assert "\r  " in out and any(frame in out for frame in Progress.FRAMES)
    assert "System packages · Project venv" in out  # two lanes at once share the line
    assert out.endswith("\r\033[K")  # the live line is cleared when the last command ends


def test_plain_progress_lines_when_not_a_terminal():
    stream = io.StringIO()
    progress = Progress(stream=stream)
    token = progress.start("pipx tools", "install ruff")
    progress.stop(token)
    progress.close()
    assert stream.getvalue() == "  … pipx tools: install ruff\n"


@dataclass
class WithEnv(Toggle):
    """A step whose command carries an environment (a lock tool's index with a token, or not)."""

    env_pairs: tuple = ()

    def check(self, env):
        if self.state.get(self.key):
            return Change("already done")
        return Change("not done", (Command(("touch", self.key), env=self.env_pairs, sudo=self.sudo),))


@pytest.mark.parametrize(
    ("pairs", "sudo", "is_root", "on_line", "direct"),
    [
        # a secret goes to the process, never into its command line (the process list)
        ((("UV_DEFAULT_INDEX", "https://u:s3cr3t@h.invalid/simple"),), False, True, [], {"UV_DEFAULT_INDEX": "https://u:s3cr3t@h.invalid/simple"}),
        ((("POETRY_HTTP_BASIC_CORP_PASSWORD", "s3cr3t"),), False, False, [], {"POETRY_HTTP_BASIC_CORP_PASSWORD": "s3cr3t"}),
        # nothing secret: the exact command shown is the one run
        ((("DEBIAN_FRONTEND", "noninteractive"),), False, True, ["env", "DEBIAN_FRONTEND=noninteractive"], {}),
        # through sudo, which would drop a process environment: on the line
        ((("DEBIAN_FRONTEND", "noninteractive"),), True, False, ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"], {}),
    ],
)
def test_a_commands_environment_reaches_it(pairs, sudo, is_root, on_line, direct):
    state: dict = {}
    ctx = MockContext(run={"touch done": Result(exited=0)})
    ctx.run.side_effect = lambda *a, **k: (state.update(done=True), Result(exited=0))[1]  # type: ignore[attr-defined]
    recap, _ = run(runner(ctx, is_root=is_root, sudo="nopassword" if not is_root else "root"),
                   [WithEnv(state, sudo=sudo, env_pairs=pairs)], state)
    assert recap.line() == "recap: ok=0 changed=1 failed=0 skipped=0"
    args, kwargs = ctx.run.call_args  # type: ignore[attr-defined]
    assert shlex.split(args[0]) == [*on_line, "touch", "done"]
    assert kwargs["env"] == direct
