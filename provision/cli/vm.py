"""``./bootstrap vm.*``: the kit tested for real in Vagrant machines. Thin: see provision/vm.py.

  ./bootstrap vm.status            the machines, their state, provider and box
  ./bootstrap vm.up debian         create and provision one machine (bootstrap twice + checks)
  ./bootstrap vm.test fedora       up, ./bootstrap --yes twice inside, changed=0, checks, report
  ./bootstrap vm.destroy fedora    remove it

Machines: debian, ubuntu, ubuntu2204, fedora (vagrant/machines.json). A corporate CA:
PROVISION_CA_BUNDLE=/path/to/ca.pem on the host.
"""

from __future__ import annotations

from invoke import task

from provision.cli import finish, user_errors

NAME_HELP = {"name": "the machine: debian, ubuntu (24.04), ubuntu2204, fedora (see vagrant/machines.json)"}


def _call(fn, *args) -> None:
    with user_errors():
        code = fn(*args)
    finish(code)


@task
def status(c):
    """Show the Vagrant machines, their state, provider and box."""
    from provision import vm

    _call(vm.status, c)


@task(help=NAME_HELP)
def up(c, name):
    """Create (and on first boot provision) a Vagrant machine, or start it."""
    from provision import vm

    _call(vm.up, c, name)


@task(help=NAME_HELP)
def test(c, name):
    """Run ./bootstrap --yes twice inside a Vagrant machine, require changed=0, run the checks; report."""
    from provision import vm

    _call(vm.test, c, name)


@task(help=NAME_HELP)
def destroy(c, name):
    """Destroy a Vagrant machine (vagrant destroy --force NAME)."""
    from provision import vm

    _call(vm.destroy, c, name)
