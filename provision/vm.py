"""The kit tested for real in Vagrant machines (Debian, Ubuntu, Fedora): ``./bootstrap vm.*``.

The machines, their boxes and resources are data in ``vagrant/machines.json``, which the
``Vagrantfile`` reads as well, so the two never disagree. Every function takes an invoke
``Context``; every command is an argv list joined with ``shlex.join``. Vagrant runs with
``VAGRANT_CWD`` set to the repository, so the tasks work from any directory.

``test`` is the kit's convergence check inside a box: bring it up, push the current tree,
run ``./bootstrap --yes`` twice as the ``vagrant`` user, require ``changed=0`` from the
second run, run the kit's checks, print a report and return an exit code.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

from .errors import MachineError, ProvisionError
from .paths import REPO
from .run.recap import parse_recap

MACHINES_FILE = REPO / "vagrant" / "machines.json"

# Checks run inside the box after the second bootstrap, each an argv in the repository.
# the kit's own checks inside a box, after the two bootstrap runs (the Vagrantfile's
# provision script runs the same)
CHECKS: list[list[str]] = [["./bootstrap", "facts"], ["./bootstrap", "doctor"]]

# provider -> (program that shows it is installed, how to get it)
PROVIDER_TOOLS: dict[str, tuple[str, str]] = {
    "virtualbox": ("VBoxManage", "install VirtualBox (its VBoxManage must be on PATH)"),
    "libvirt": (
        "virsh",
        "install libvirt and the vagrant-libvirt plugin: `sudo apt-get install libvirt-daemon-system vagrant-libvirt` "
        "(Debian/Ubuntu) or `sudo dnf install @virtualization vagrant-libvirt` (Fedora), then add yourself to the "
        "group libvirt",
    ),
}
LIBVIRT_SOCKETS = ("/run/libvirt/libvirt-sock", "/var/run/libvirt/libvirt-sock")

INSTALL_VAGRANT = (
    "Install Vagrant: `sudo apt-get install vagrant` (Debian/Ubuntu), `sudo dnf install vagrant` (Fedora), "
    "or HashiCorp's Vagrant installer (macOS, Windows); then a provider: VirtualBox, or libvirt with the "
    "vagrant-libvirt plugin."
)

# what vagrant says when it has no provider it can use (any machine-readable error text)
NO_PROVIDER_MARKERS = (
    "No usable default provider",
    "isn't usable on this system",
    "could not detect VirtualBox",
    "could not be found, but was requested",
)



# --- the machines ----------------------------------------------------------------------


@dataclass(frozen=True)
class Machine:
    name: str
    box: str
    os: str


@dataclass(frozen=True)
class Spec:
    guest_dir: str
    guest_ca_bundle: str
    providers: tuple[str, ...]
    primary: str
    machines: dict[str, Machine] = field(default_factory=dict)


def load_spec(path: Path = MACHINES_FILE) -> Spec:
    """The machine list shared with the Vagrantfile."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        machines = {name: Machine(name, m["box"], m["os"]) for name, m in data["machines"].items()}
        return Spec(data["guest_dir"], data["guest_ca_bundle"], tuple(data["providers"]), data["primary"], machines)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ProvisionError(f"cannot read the machine list: {e!r}.", "Restore it from git: git checkout -- vagrant/machines.json",
                             where=str(path)) from None


def check_name(name: str, spec: Spec | None = None) -> Machine:
    spec = spec or load_spec()
    if name not in spec.machines:
        known = ", ".join(spec.machines)
        raise ProvisionError(f"no machine named {name!r} in the Vagrantfile.", f"Choose one of: {known} (e.g. ./bootstrap vm.test {spec.primary}).")
    return spec.machines[name]


# --- running vagrant ---------------------------------------------------------------------


def _env() -> dict[str, str]:
    # VAGRANT_CWD: the repository's Vagrantfile whatever the current directory;
    # no checkpoint: vagrant would otherwise ask HashiCorp for news on every call.
    return {"VAGRANT_CWD": str(REPO), "VAGRANT_CHECKPOINT_DISABLE": "1"}


def _run(ctx: Any, argv: list[str], *, capture: bool = False, probe: bool = False) -> Any:
    """Run vagrant; ``capture`` hides the output (still recorded), ``probe`` runs even under --dry."""
    kwargs: dict[str, Any] = {"warn": True, "hide": True if capture else None, "pty": False, "in_stream": False, "env": _env()}
    if probe:
        kwargs["dry"] = False
    return ctx.run(shlex.join(argv), **kwargs)


def require_vagrant(which: Callable[[str], str | None] = shutil.which) -> str:
    path = which("vagrant")
    if not path:
        raise MachineError("`vagrant` is not installed (not found on PATH).", INSTALL_VAGRANT)
    return path


def _unescape(field_: str) -> str:
    return field_.replace("%!(VAGRANT_COMMA)", ",").replace("\\n", "\n").replace("\\r", "")


def parse_machine_readable(text: str) -> list[tuple[str, str, list[str]]]:
    """``timestamp,target,type,data...`` lines as (target, type, data)."""
    rows = []
    for line in text.splitlines():
        parts = line.rstrip("\r").split(",")
        if len(parts) >= 3 and parts[0].isdigit():
            rows.append((parts[1], parts[2], [_unescape(p) for p in parts[3:]]))
    return rows


def _no_provider(spec: Spec, detail: str) -> ProvisionError:
    how = "; or ".join(f"{p}: {PROVIDER_TOOLS[p][1]}" for p in spec.providers if p in PROVIDER_TOOLS)
    supported = " and ".join(spec.providers)
    return ProvisionError(
        f"Vagrant has no usable provider on this machine ({detail}).",
        f"The Vagrantfile supports {supported}. Install one — {how}. "
        "To choose among several, set VAGRANT_DEFAULT_PROVIDER=virtualbox or =libvirt.",
    )


def provider_usable(provider: str, which: Callable[[str], str | None] = shutil.which) -> bool:
    """Whether the provider vagrant chose is installed here (vagrant-libvirt does not check)."""
    if provider not in PROVIDER_TOOLS:
        return True  # another provider (vmware, parallels, ...): vagrant knows better than we do
    if which(PROVIDER_TOOLS[provider][0]):
        return True
    return provider == "libvirt" and any(os.path.exists(s) for s in LIBVIRT_SOCKETS)


def machine_states(ctx: Any, name: str | None = None, *, which: Callable[[str], str | None] = shutil.which) -> dict[str, tuple[str, str]]:
    """{machine: (provider, state)} from ``vagrant status --machine-readable``.

    Raises ProvisionError when vagrant is missing or no provider is usable.
    """
    spec = load_spec()
    if name is not None:
        check_name(name, spec)
    require_vagrant(which)
    argv = ["vagrant", "status", "--machine-readable"] + ([name] if name else [])
    result = _run(ctx, argv, capture=True, probe=True)
    rows = parse_machine_readable(result.stdout or "")
    errors = [data[-1] for _, kind, data in rows if len(data) >= 2 and (kind == "error-exit" or (kind == "ui" and data[0] == "error"))]
    text = "\n".join(errors) + "\n" + (result.stderr or "") + "\n" + (result.stdout or "")
    if result.exited:
        marker = next((m for m in NO_PROVIDER_MARKERS if m in text), None)
        if marker:
            said = next((e for e in errors if marker in e), marker)
            said = " ".join(said.split("\n\n")[0].split()).split(" The reason is shown below")[0]
            raise _no_provider(spec, f"vagrant: {said}")
        detail = (errors[-1] if errors else (result.stderr or result.stdout or "").strip()) or f"exit status {result.exited}"
        raise MachineError(f"`{shlex.join(argv)}` failed: {detail.strip()}", "Run it yourself in the repository to see vagrant's full message.")
    states: dict[str, tuple[str, str]] = {}
    providers: dict[str, str] = {}
    for target, kind, data in rows:
        if kind == "provider-name" and data:
            providers[target] = data[0]
        elif kind == "state" and data:
            states[target] = (providers.get(target, ""), data[0])
    for target, (provider, _state) in states.items():
        if provider and not provider_usable(provider, which):
            raise _no_provider(spec, f"vagrant picked {provider} for {target}, but `{PROVIDER_TOOLS[provider][0]}` is not installed")
    return states


def vagrant_status(ctx: Any, name: str | None = None, *, which: Callable[[str], str | None] = shutil.which) -> str | None:
    """The state of machine ``name`` (default: the primary) — ``not_created``, ``running``,
    ``poweroff``, ... — or None when vagrant reports none. ProvisionError when vagrant is
    missing or no provider is usable."""
    name = name or load_spec().primary
    states = machine_states(ctx, name, which=which)
    return states[name][1] if name in states else None


# --- the tasks' functions ----------------------------------------------------------------


def status(ctx: Any, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    spec = load_spec()
    states = machine_states(ctx)
    for name, m in spec.machines.items():
        provider, state = states.get(name, ("", "unknown"))
        print(f"{name:<12} {state:<12} {provider:<10} {m.box}  ({m.os})", file=out)
    return 0


def up(ctx: Any, name: str) -> int:
    """Create and provision (first boot: bootstrap twice, then the checks) or start ``name``."""
    check_name(name)
    _ca_bundle()
    vagrant_status(ctx, name)
    return _run(ctx, ["vagrant", "up", name]).exited


def destroy(ctx: Any, name: str) -> int:
    check_name(name)
    require_vagrant()
    return _run(ctx, ["vagrant", "destroy", "--force", name]).exited


def _ca_bundle() -> str | None:
    ca = os.environ.get("PROVISION_CA_BUNDLE", "").strip()
    if ca and not os.access(os.path.expanduser(ca), os.R_OK):
        raise ProvisionError(f"PROVISION_CA_BUNDLE={ca} is not a readable file.", "Point it at your organisation's CA certificate (PEM), or unset it.")
    return ca or None


def guest_command(spec: Spec, argv: list[str]) -> str:
    """A shell line for ``vagrant ssh -c``: into the repository, then argv."""
    return f"{shlex.join(['cd', spec.guest_dir])} && {shlex.join(argv)}"


@dataclass
class Report:
    name: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (check, PASS/FAIL/SKIP, detail)

    def add(self, check: str, ok: bool, detail: str = "") -> bool:
        self.rows.append((check, "PASS" if ok else "FAIL", detail))
        return ok

    @property
    def passed(self) -> bool:
        return all(status != "FAIL" for _, status, _ in self.rows)

    def text(self) -> str:
        lines = [f"vm.test {self.name}: {'PASS' if self.passed else 'FAIL'}"]
        lines += [f"  [{status}] {check}" + (f": {detail}" if detail else "") for check, status, detail in self.rows]
        return "\n".join(lines)


def test(ctx: Any, name: str, out: TextIO | None = None) -> int:
    """Bootstrap machine ``name`` twice, require changed=0 the second time, run the checks."""
    out = out or sys.stdout
    spec = load_spec()
    machine = check_name(name, spec)
    ca = _ca_bundle()
    vagrant_status(ctx, name)
    report = Report(name)
    print(f"vm.test {name}: {machine.os} ({machine.box})", file=out)

    def ssh(argv: list[str], capture: bool = False) -> Any:
        return _run(ctx, ["vagrant", "ssh", name, "-c", guest_command(spec, argv)], capture=capture)

    steps_ok = (
        report.add("vagrant up", _run(ctx, ["vagrant", "up", "--no-provision", name]).exited == 0)
        and report.add("copy the repository in (vagrant rsync)", _run(ctx, ["vagrant", "rsync", name]).exited == 0)
    )
    bootstrap = ["./bootstrap", "--yes"]
    if steps_ok and ca:
        steps_ok = report.add("CA bundle into the box", _run(ctx, ["vagrant", "provision", name, "--provision-with", "ca-bundle"]).exited == 0, ca)
        bootstrap += ["--ca-bundle", spec.guest_ca_bundle]
    if steps_ok:
        first = ssh(bootstrap)
        steps_ok = report.add(f"first run: {shlex.join(bootstrap)}", first.exited == 0, f"exit status {first.exited}" if first.exited else "")
    if steps_ok:
        second = ssh(bootstrap)  # shown as it runs, and recorded
        recap = parse_recap((second.stdout or "") + (second.stderr or ""))
        if second.exited:
            steps_ok = report.add("second run", False, f"exit status {second.exited}")
        elif recap is None:
            steps_ok = report.add("second run reports changed=0", False, "no recap line in its output")
        else:
            line = " ".join(f"{k}={v}" for k, v in recap.items())
            steps_ok = report.add("second run reports changed=0", recap["changed"] == 0 and recap["failed"] == 0, line)
    for check in CHECKS:
        if steps_ok:
            res = ssh(check)
            report.add(shlex.join(check), res.exited == 0, f"exit status {res.exited}" if res.exited else "")
        else:
            report.rows.append((shlex.join(check), "SKIP", "not run after an earlier failure"))
    print(report.text(), file=out)
    if not report.passed:
        print(f"The machine is left as it is: `vagrant ssh {name}` to look inside, ./bootstrap vm.destroy {name} to remove it.", file=out)
    return 0 if report.passed else 1
