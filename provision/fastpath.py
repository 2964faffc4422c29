"""``./bootstrap`` on a machine that is already provisioned: the same checks, without invoke.

Stage 0 hands the bootstrap task's arguments here first (``python provision/fastpath.py
bootstrap [options]``). On a provisioned machine the probes are the whole run, and
importing invoke alone costs about twice what they do; so this runs the same session
(facts -> profile -> steps -> plan, the runner's pre-flight) with plain-subprocess
probes and, when every step is ok or skipped, prints the same report, recap
(``changed=0``) and log as the invoke task would.

Anything else goes to invoke, with the arguments unchanged, by ``exec``: a step with
something to do, an error (invoke's task prints it), a lock held by another run, and
any argument not among the task's plain long options. Every change is made by the one
runner, under invoke. Nothing is printed here before the run is known to be a no-op.
"""

from __future__ import annotations

import contextlib
import os
import sys

if __name__ == "__main__":  # run as a file: import the package from the repository, not this folder
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # this process lives ~0.1 s (it confirms, or execs invoke): the cyclic GC would only cost (~30 passes
    # during the imports, ~3 ms of a no-op run); what it would free goes with the process
    import gc

    gc.disable()

from provision.options import fast_path_options  # noqa: E402
from provision.paths import REPO  # noqa: E402 - after the path fix above

# the bootstrap task's options that a no-op run can take (declared once, in provision/options.py)
VALUED, FLAGS = fast_path_options()


def parse(argv: list[str]) -> dict[str, object] | None:
    """Keyword arguments for ``session.bootstrap``; None for anything this path does not take."""
    if not argv or argv[0] != "bootstrap":
        return None
    out: dict[str, object] = {}
    args = iter(argv[1:])
    for arg in args:
        name, eq, value = arg.partition("=")
        if name in FLAGS and not eq:
            out[FLAGS[name]] = True
        elif name in VALUED:
            if not eq:
                value = next(args, "")
            if not value or value.startswith("-"):
                return None  # invoke words the error
            out[VALUED[name]] = value
        else:
            return None
    if "refresh_after" in out:
        from provision.errors import ConfigError
        from provision.options import refresh_seconds

        try:  # the same reading as the task's; a bad value is for invoke's task to word
            out["refresh_after"] = refresh_seconds(out["refresh_after"])
        except ConfigError:
            return None
    return out


def queries_file() -> str:
    import platformdirs

    return os.path.join(platformdirs.user_state_dir("provision"), "noop-queries.json")


def earlier_queries(key: str) -> list[list[str]]:
    """The queries the last no-op run with these arguments asked (a file of this user's only)."""
    import json

    try:
        with open(queries_file(), encoding="utf-8") as f:
            st = os.fstat(f.fileno())
            if st.st_uid != os.getuid() or st.st_mode & 0o022:
                return []
            data = json.load(f)
        found = data.get(key) if isinstance(data, dict) else None
    except (OSError, ValueError):
        return []
    ok = isinstance(found, list) and all(isinstance(a, list) and a and all(isinstance(w, str) for w in a) for a in found)
    return found if ok else []  # type: ignore[return-value]


def remember_queries(key: str, before: list[list[str]], asked: list[tuple[str, ...]]) -> None:
    """Keep what this no-op asked, for the next run to start early (rewritten only when it differs)."""
    import json

    now = [list(a) for a in asked]
    if now == before:
        return
    path = queries_file()
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        data = data if isinstance(data, dict) and len(data) < 32 else {}
    except (OSError, ValueError):
        data = {}
    data[key] = now
    tmp = f"{path}.{os.getpid()}"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, path)
    except OSError:  # only the next run's head start is lost
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def hand_over(argv: list[str]) -> None:
    """Replace this process with the invoke task (never returns)."""
    from provision.machine import pyprobe

    pyprobe.drop_queries()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "invoke", "--search-root", str(REPO), *argv])


def main(argv: list[str]) -> int:
    options = parse(argv)
    if options is None:
        hand_over(argv)
    from provision.machine import pyprobe

    # the interpreter probes, and the queries the last no-op asked, run on another core while
    # the rest of the kit is imported
    pyprobe.prefetch(os.environ.get("PATH", os.defpath).split(os.pathsep))
    import hashlib

    key = hashlib.sha256("\0".join([os.getcwd(), *argv]).encode()).hexdigest()  # argv may name a secret's file
    before = earlier_queries(key)
    pyprobe.prefetch_queries(before)

    import io

    from provision.errors import ProvisionError
    from provision.run.runner import NotConverged
    from provision.session import bootstrap

    out, err = io.StringIO(), io.StringIO()
    try:
        code = bootstrap(None, out=out, err=err, confirm_only=True, **options)  # type: ignore[arg-type]
    except (NotConverged, ProvisionError):
        hand_over(argv)
    except KeyboardInterrupt:
        print("provision: interrupted", file=sys.stderr)
        return 130
    pyprobe.drop_queries()
    if code == 0:
        remember_queries(key, before, pyprobe.asked)
    sys.stdout.write(out.getvalue())
    sys.stderr.write(err.getvalue())
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
