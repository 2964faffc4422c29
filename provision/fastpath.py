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


def hand_over(argv: list[str]) -> None:
    """Replace this process with the invoke task (never returns)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "invoke", "--search-root", str(REPO), *argv])


def main(argv: list[str]) -> int:
    options = parse(argv)
    if options is None:
        hand_over(argv)
    from provision.machine import pyprobe

    # the interpreter probes run on another core while the rest of the kit is imported
    pyprobe.prefetch(os.environ.get("PATH", os.defpath).split(os.pathsep))

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
    sys.stdout.write(out.getvalue())
    sys.stderr.write(err.getvalue())
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
