"""The task collection, for ``./bootstrap`` (through tasks.py) and the ``provision`` command of the wheel."""

from __future__ import annotations

from invoke import Collection, Program

from provision import __version__
from provision.cli import bootstrap, diagnose, remote, vm

ns = Collection(bootstrap.bootstrap, bootstrap.facts, diagnose.doctor, diagnose.explain, diagnose.install, bootstrap.test,
                remote.remote)
ns.add_collection(Collection.from_module(vm), name="vm")
# every ctx.run of the tasks: no echo, a non-zero exit is the caller's to judge, no terminal tricks
ns.configure({"run": {"echo": False, "warn": True, "pty": False, "in_stream": False}})

program = Program(namespace=ns, name="provision", binary="provision", version=__version__)


def main() -> None:
    """The ``provision`` console script: the same tasks as ./bootstrap."""
    program.run()
