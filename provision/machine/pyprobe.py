"""Asking interpreters about themselves: which to ask, the question, and the answers.

Each answer costs a process start (20-100 ms), the largest part of a run on a provisioned
machine. The probes of all candidates run at once, and ``prefetch`` can start them before
the rest of the kit is imported, so they overlap the imports on another core. For that
reason only small standard modules are imported here.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence

# the probe each interpreter runs, as a file beside this one (``python -I interp_probe.py``)
PROBE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "interp_probe.py")



def pip_command() -> list[str]:
    """How this interpreter runs pip: its own, else pip from ensurepip's wheel, else from the
    wheel stage 0 kept in the tool venv (built without pip, where the system's wheel may only
    have been downloaded); [] when it has none of them."""
    import glob
    import importlib.util

    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    from .interp_probe import pip_wheel

    wheel = pip_wheel() or max(glob.glob(os.path.join(sys.prefix, "share", "provision", "pip-*.whl")), default=None)
    return [sys.executable, os.path.join(wheel, "pip")] if wheel else []


def candidate_pythons(path_dirs: Iterable[str]) -> list[str]:
    """Interpreters on PATH plus the OS's default, one per real file, the kit's own venv excluded."""
    names = ["python3"] + [f"python3.{m}" for m in range(20, 8, -1)]
    found: list[str] = []
    seen: set[str] = set()
    kit_tools = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), ".tools")
    for d in (*path_dirs, "/usr/bin"):
        if not d or d.startswith(kit_tools) or d == os.path.dirname(sys.executable):
            continue
        for n in names:
            p = os.path.join(d, n)
            if os.path.isfile(p) and os.access(p, os.X_OK):
                real = os.path.realpath(p)
                if real not in seen:
                    seen.add(real)
                    found.append(p)
    return found


PROBE_TIMEOUT = 15.0  # seconds for all interpreter probes together: a hung python on PATH must not stall the run


def spawn(argv: list[str], *, stderr: int = subprocess.DEVNULL) -> subprocess.Popen[str]:
    """A probe process in a process group of its own (so a timeout can end it and its children).

    Output is decoded leniently: a program that prints undecodable bytes is an answer to
    judge, never a traceback.
    """
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, text=True,
                            encoding="utf-8", errors="replace", start_new_session=os.name == "posix")


def end(proc: subprocess.Popen[str]) -> None:
    """Kill the probe's whole process group and stop listening to its pipes.

    Not ``communicate()`` again: a child that left the group (or a daemon) may keep the
    pipe open for as long as it lives, which is what made a hung probe stall the run.
    """
    import signal

    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except OSError:
        pass
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def run_bounded(argv: list[str], timeout: float) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of a read-only query, bounded in time (-9 when it was ended);
    the same query started early (``prefetch_queries``) is taken instead of a new one."""
    asked.append(tuple(argv))
    proc = take_query(argv) or spawn(argv, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        end(proc)
        return -9, "", f"{argv[0]} did not answer within {timeout:.0f} s and was stopped"
    return proc.returncode, out, err


class Probes:
    """The probes of some interpreters, started together; ``answers`` waits for them all (bounded)."""

    def __init__(self, candidates: list[str]) -> None:
        self.candidates = candidates
        self._procs: list[subprocess.Popen[str] | None] = []
        for path in candidates:
            try:
                proc: subprocess.Popen[str] | None = spawn([path, "-I", PROBE_SCRIPT])
            except (OSError, ValueError):
                proc = None
            self._procs.append(proc)

    def answers(self, timeout: float | None = None) -> list[dict[str, object] | None]:
        """Each candidate's answer, in order; None for one that did not run, cannot say, or hangs."""
        import time

        deadline = time.monotonic() + (PROBE_TIMEOUT if timeout is None else timeout)
        out: list[dict[str, object] | None] = []
        for proc in self._procs:
            if proc is None:
                out.append(None)
                continue
            try:
                stdout, _ = proc.communicate(timeout=max(0.05, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                end(proc)
                out.append(None)
                continue
            out.append(parse(stdout) if proc.returncode == 0 else None)
        return out


def parse(stdout: str) -> dict[str, object] | None:
    """The probe's JSON line (the last one: a sitecustomize may print before it)."""
    try:
        data = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("executable"), str):
        return None
    version = data.get("version")
    if not isinstance(version, str) or not version.replace(".", "").isdigit() or version.count(".") != 2:
        return None  # not this probe's answer (a wrapper printing JSON of its own)
    return data


_prefetched: Probes | None = None


def prefetch(path_dirs: Iterable[str]) -> None:
    """Start probing now; the next ``start`` for the same candidates takes these probes."""
    global _prefetched
    _prefetched = Probes(candidate_pythons(path_dirs))


# -- read-only queries started early (the package manager's status query of a no-op run) ----------

#: the programs whose queries may be started early: the package managers' status queries
#: (provision/platforms/pkgmgr.py; tests/test_fastpath.py keeps the two in step)
QUERY_TOOLS = frozenset({"dpkg-query", "rpm", "pacman", "apk", "brew", "winget"})

_queries: dict[tuple[str, ...], subprocess.Popen[str]] = {}
asked: list[tuple[str, ...]] = []  # the queries this run asked (LocalProbe.run), in order


def prefetch_queries(argvs: Iterable[Sequence[str]]) -> None:
    """Start queries the last no-op run asked; ``take_query`` hands one out when the run asks
    the same. A query is read-only and its answer is the state of a moment earlier, as the
    interpreter probes' are; an answer the run does not ask for is dropped."""
    for argv in argvs:
        key = tuple(argv)
        if key and key[0] in QUERY_TOOLS and key not in _queries:
            try:
                _queries[key] = spawn(list(key), stderr=subprocess.PIPE)
            except (OSError, ValueError):
                continue


def take_query(argv: Sequence[str]) -> subprocess.Popen[str] | None:
    return _queries.pop(tuple(argv), None)


def drop_queries() -> None:
    """End the queries nobody asked for (before this process is replaced or exits)."""
    while _queries:
        end(_queries.popitem()[1])


def start(path_dirs: Iterable[str]) -> Probes:
    """Probes of the candidates on ``path_dirs``: the prefetched ones once, if they match."""
    global _prefetched
    candidates = candidate_pythons(path_dirs)
    early, _prefetched = _prefetched, None
    if early is not None and early.candidates == candidates:
        return early
    if early is not None:
        early.answers()  # reap them
    return Probes(candidates)
