"""The Vagrantfile and the vm.* tasks, without booting anything.

- `vagrant validate` passes with no plugin at all (--ignore-provider: without a provider
  plain validate cannot run) and, where a provider plugin is installed, in full;
- the Vagrantfile, evaluated by Ruby with a recording stand-in for Vagrant's config
  object, defines exactly the expected machines, boxes, synced folder, resources and
  provisioners, and refuses an unreadable PROVISION_CA_BUNDLE;
- the provision script it hands to the machines (the very text) runs against a fake
  ./bootstrap: twice with --yes, fails unless the second recap says changed=0, then runs
  the checks;
- provision/vm.py gives clear errors (no vagrant, no provider) and drives a test run
  against invoke's MockContext.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from invoke import MockContext, Result

from provision import vm
from provision.errors import ProvisionError
from provision.paths import REPO
from provision.run.recap import parse_recap

VAGRANTFILE = REPO / "Vagrantfile"

EXPECTED_BOXES = {
    "debian": "debian/bookworm64",
    "ubuntu": "bento/ubuntu-24.04",
    "ubuntu2204": "bento/ubuntu-22.04",
    "fedora": "bento/fedora-42",
}
GUEST_DIR = "/home/vagrant/provision"

VAGRANT = shutil.which("vagrant")
RUBY = shutil.which("ruby")
needs_vagrant = pytest.mark.skipif(VAGRANT is None, reason="the `vagrant` command is not installed (CI installs Debian's vagrant package)")
needs_ruby = pytest.mark.skipif(RUBY is None, reason="no `ruby` to evaluate the Vagrantfile with (Debian's vagrant package brings it)")


def vagrant_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PROVISION_CA_BUNDLE", None)
    env.pop("VAGRANT_DEFAULT_PROVIDER", None)
    env.update(
        HOME=env.get("HOME") or str(tmp),  # vagrant wants a HOME
        VAGRANT_HOME=str(tmp / "vagrant.d"),  # no user plugins or boxes from this machine's account
        VAGRANT_DOTFILE_PATH=str(tmp / "dotvagrant"),  # no .vagrant/ left in the repository
        VAGRANT_CHECKPOINT_DISABLE="1",  # no version check over the network
        VAGRANT_NO_COLOR="1",
        VAGRANT_CWD=str(REPO),
        TMPDIR=str(tmp),  # vagrant's own temporary files, not in /tmp
    )
    env.update(extra)
    return env


def run_vagrant(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([VAGRANT or "vagrant", *args], cwd=REPO, env=vagrant_env(tmp, **env), capture_output=True, text=True, timeout=120)


# --- vagrant validate ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def validate_no_plugins(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    return run_vagrant(tmp_path_factory.mktemp("vagrant"), "validate", "--ignore-provider", VAGRANT_NO_PLUGINS="1")


@needs_vagrant
def test_validate_passes_with_no_plugin(validate_no_plugins: subprocess.CompletedProcess[str]) -> None:
    out = validate_no_plugins.stdout + validate_no_plugins.stderr
    assert validate_no_plugins.returncode == 0, out
    assert "validated successfully" in out


@needs_vagrant
def test_vagrant_sees_exactly_the_machines(validate_no_plugins: subprocess.CompletedProcess[str]) -> None:
    seen = re.findall(r"^==> (\S+): Ignoring provider config", validate_no_plugins.stdout, re.M)
    assert sorted(seen) == sorted(EXPECTED_BOXES), validate_no_plugins.stdout


@needs_vagrant
def test_validate_in_full_with_the_installed_provider_and_a_ca_bundle(tmp_path: Path) -> None:
    ca = tmp_path / "corp-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    res = run_vagrant(tmp_path, "validate", PROVISION_CA_BUNDLE=str(ca))
    out = res.stdout + res.stderr
    if res.returncode and "No usable default provider" in out:
        pytest.skip("no Vagrant provider installed (neither vagrant-libvirt nor VirtualBox): provider blocks checked by the no-plugin test only")
    assert res.returncode == 0, out
    assert "validated successfully" in out


# --- the Vagrantfile as data, through Ruby ---------------------------------------------------

RECORDER = r"""
require "json"
class Anything
  def initialize(store); @store = store; end
  def method_missing(name, *args, &blk)
    key = name.to_s
    if key.end_with?("=") then @store[key.chomp("=")] = args.first else @store[key] = args end
    self
  end
  def respond_to_missing?(*_args); true; end
end
class RecordingVM
  attr_reader :data
  def initialize; @data = {"providers" => {}, "provisioners" => [], "synced_folders" => []}; end
  def box=(v); @data["box"] = v; end
  def hostname=(v); @data["hostname"] = v; end
  def synced_folder(src, dst, **opts); @data["synced_folders"] << {"src" => src, "dst" => dst, "opts" => opts}; end
  def provider(name, &blk); blk.call(Anything.new(@data["providers"][name.to_s] ||= {})); end
  def provision(name, **opts); @data["provisioners"] << opts.merge("name" => name); end
  def define(name, **opts, &blk)
    m = RecordingConfig.new
    blk.call(m)
    $machines[name.to_s] = {"options" => opts, "vm" => m.vm.data}
  end
end
class RecordingConfig
  attr_reader :vm
  def initialize; @vm = RecordingVM.new; end
end
module Vagrant
  def self.configure(version); raise "config version #{version}" unless version.to_s == "2"; yield $top; end
end
$machines = {}
$top = RecordingConfig.new
load ARGV[0]
puts JSON.generate({"top" => $top.vm.data, "machines" => $machines})
"""


def evaluate_vagrantfile(tmp: Path, ca_bundle: str | None = None) -> subprocess.CompletedProcess[str]:
    script = tmp / "record.rb"
    script.write_text(RECORDER)
    env = {k: v for k, v in os.environ.items() if k != "PROVISION_CA_BUNDLE"}
    if ca_bundle is not None:
        env["PROVISION_CA_BUNDLE"] = ca_bundle
    return subprocess.run([RUBY or "ruby", str(script), str(VAGRANTFILE)], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def vagrantfile(tmp_path_factory: pytest.TempPathFactory) -> dict:
    res = evaluate_vagrantfile(tmp_path_factory.mktemp("ruby"))
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@needs_ruby
def test_machines_and_boxes(vagrantfile: dict) -> None:
    boxes = {name: m["vm"]["box"] for name, m in vagrantfile["machines"].items()}
    assert boxes == EXPECTED_BOXES
    # one machine is primary and autostarts; `vagrant up` alone does not start four VMs
    autostart = [name for name, m in vagrantfile["machines"].items() if m["options"].get("autostart", True)]
    primary = [name for name, m in vagrantfile["machines"].items() if m["options"].get("primary")]
    assert autostart == primary == ["debian"]


def test_machine_list_is_shared_with_vm_py() -> None:
    spec = vm.load_spec()
    assert {n: m.box for n, m in spec.machines.items()} == EXPECTED_BOXES
    assert spec.guest_dir == GUEST_DIR
    assert set(spec.providers) == {"virtualbox", "libvirt"}


@needs_ruby
def test_repository_is_rsynced_without_host_builds(vagrantfile: dict) -> None:
    folders = {f["dst"]: f for f in vagrantfile["top"]["synced_folders"]}
    assert folders["/vagrant"]["opts"].get("disabled") is True
    repo = folders[GUEST_DIR]
    assert repo["src"] == "." and repo["opts"]["type"] == "rsync"
    excluded = {e.rstrip("/") for e in repo["opts"]["rsync__exclude"]}
    assert {".git", ".venv", ".tools", ".vagrant"} <= excluded


@needs_ruby
def test_resources_for_both_providers(vagrantfile: dict) -> None:
    for provider in ("virtualbox", "libvirt"):
        assert vagrantfile["top"]["providers"][provider] == {"cpus": 2, "memory": 2048}


@needs_ruby
def test_bootstrap_runs_as_the_vagrant_user_without_ca(vagrantfile: dict) -> None:
    for name, m in vagrantfile["machines"].items():
        provs = m["vm"]["provisioners"]
        assert [p["name"] for p in provs] == ["bootstrap"], name
        (boot,) = provs
        assert boot["type"] == "shell" and boot["privileged"] is False
        assert boot["args"] == [GUEST_DIR]


@needs_ruby
def test_ca_bundle_is_copied_in_and_passed(tmp_path: Path) -> None:
    ca = tmp_path / "corp-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    res = evaluate_vagrantfile(tmp_path, str(ca))
    assert res.returncode == 0, res.stderr
    for name, m in json.loads(res.stdout)["machines"].items():
        provs = {p["name"]: p for p in m["vm"]["provisioners"]}
        assert list(provs) == ["ca-bundle", "bootstrap"], name  # copied before bootstrap runs
        guest_ca = provs["ca-bundle"]["destination"]
        assert provs["ca-bundle"]["type"] == "file" and provs["ca-bundle"]["source"] == str(ca)
        assert not guest_ca.startswith(GUEST_DIR + "/")  # rsync --delete would remove it
        assert provs["bootstrap"]["args"] == [GUEST_DIR, guest_ca]


@needs_ruby
def test_unreadable_ca_bundle_stops_vagrant_with_a_clear_message(tmp_path: Path) -> None:
    res = evaluate_vagrantfile(tmp_path, str(tmp_path / "missing.pem"))
    assert res.returncode != 0
    assert "PROVISION_CA_BUNDLE" in res.stderr and "not a readable file" in res.stderr


# --- the provision script, run for real against a fake ./bootstrap -------------------------

FAKE_BOOTSTRAP = """#!/bin/sh
here=$(cd "$(dirname "$0")" && pwd)
echo "$*" >>"$here/calls"
case ${1:-} in facts) echo "system: fake"; exit "${FACTS_EXIT:-0}" ;; esac
if [ ! -e "$here/ran-once" ]; then
    touch "$here/ran-once"
    echo "recap: ok=2 changed=5 failed=0 skipped=1"
    exit 0
fi
echo "recap: ok=7 changed=${SECOND_CHANGED:-0} failed=0 skipped=1"
exit "${SECOND_EXIT:-0}"
"""


@pytest.fixture(scope="module")
def provision_script(vagrantfile: dict) -> str:
    (boot,) = [p for p in vagrantfile["machines"]["debian"]["vm"]["provisioners"] if p["name"] == "bootstrap"]
    script = boot["inline"]
    assert script.startswith("#!/bin/sh\n")
    return script


def run_provision(tmp: Path, script: str, *args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    repo = tmp / "provision"
    repo.mkdir()
    (repo / "bootstrap").write_text(FAKE_BOOTSTRAP)
    (repo / "bootstrap").chmod(0o755)
    (tmp / "provision.sh").write_text(script)
    env = {**os.environ, "TMPDIR": str(tmp), **env}  # the script's mktemp: under tmp, not /tmp
    res = subprocess.run(["sh", str(tmp / "provision.sh"), str(repo), *args], env=env, capture_output=True, text=True, timeout=30)
    calls = (repo / "calls").read_text().splitlines() if (repo / "calls").exists() else []
    return res, calls


@needs_ruby
def test_provision_script_bootstraps_twice_then_checks(tmp_path: Path, provision_script: str) -> None:
    res, calls = run_provision(tmp_path, provision_script)
    assert res.returncode == 0, res.stdout + res.stderr
    assert calls == ["--yes", "--yes", "facts", "doctor"]
    assert "converged (recap: ok=7 changed=0 failed=0 skipped=1)" in res.stdout


@needs_ruby
def test_provision_script_fails_when_the_second_run_changes_something(tmp_path: Path, provision_script: str) -> None:
    res, calls = run_provision(tmp_path, provision_script, SECOND_CHANGED="1")
    assert res.returncode != 0
    assert "must change nothing" in res.stderr and "changed=1" in res.stderr
    assert calls == ["--yes", "--yes"]  # no checks after a failure


@needs_ruby
def test_provision_script_fails_when_the_second_run_fails(tmp_path: Path, provision_script: str) -> None:
    res, _ = run_provision(tmp_path, provision_script, SECOND_EXIT="1")
    assert res.returncode != 0 and "exited with 1" in res.stderr


@needs_ruby
def test_provision_script_fails_when_a_check_fails(tmp_path: Path, provision_script: str) -> None:
    res, calls = run_provision(tmp_path, provision_script, FACTS_EXIT="3")
    assert res.returncode != 0 and calls[-1] == "facts"


@needs_ruby
def test_provision_script_passes_the_ca_bundle(tmp_path: Path, provision_script: str) -> None:
    res, calls = run_provision(tmp_path, provision_script, "/home/vagrant/provision-ca.pem")
    assert res.returncode == 0, res.stderr
    assert calls[:2] == ["--yes --ca-bundle /home/vagrant/provision-ca.pem"] * 2


# --- provision/vm.py ---------------------------------------------------------------------------


def test_vagrant_missing_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without vagrant
    ctx = MockContext()  # any command run would raise NotImplementedError
    with pytest.raises(ProvisionError) as e:
        vm.vagrant_status(ctx, "debian")
    msg = str(e.value)
    assert "`vagrant` is not installed" in msg and "apt-get install vagrant" in msg and "dnf install vagrant" in msg
    for fn in (vm.up, vm.test, vm.destroy):
        with pytest.raises(ProvisionError, match="not installed"):
            fn(ctx, "debian")


def test_unknown_machine_names_the_known_ones() -> None:
    with pytest.raises(ProvisionError) as e:
        vm.up(MockContext(), "centos")
    assert "debian, ubuntu, ubuntu2204, fedora" in str(e.value)


def mr(*rows: str) -> str:
    return "".join(f"1700000000,{row}\n" for row in rows)


STATUS = shlex.join(["vagrant", "status", "--machine-readable", "debian"])
NO_DEFAULT = mr(
    ",ui,error,No usable default provider could be found for your system.\\n\\nVagrant relies on ...",
    ",error-exit,Vagrant::Errors::NoDefaultProvider,No usable default provider could be found for your system.\\n\\nVagrant relies on ...",
)


def test_no_usable_provider_names_the_supported_ones() -> None:
    ctx = MockContext(run={STATUS: Result(stdout=NO_DEFAULT, exited=1)})
    with pytest.raises(ProvisionError) as e:
        vm.vagrant_status(ctx, "debian", which=lambda prog: "/usr/bin/vagrant" if prog == "vagrant" else None)
    msg = str(e.value)
    assert "no usable provider" in msg and "No usable default provider" in msg
    assert "virtualbox and libvirt" in msg and "VirtualBox" in msg and "vagrant-libvirt" in msg


def test_libvirt_plugin_without_libvirt_is_no_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    out = mr("debian,metadata,provider,libvirt", "debian,provider-name,libvirt", "debian,state,not_created")
    monkeypatch.setattr(vm, "LIBVIRT_SOCKETS", ())
    ctx = MockContext(run={STATUS: Result(stdout=out)})
    with pytest.raises(ProvisionError, match="picked libvirt for debian, but `virsh` is not installed"):
        vm.vagrant_status(ctx, "debian", which=lambda prog: "/usr/bin/vagrant" if prog == "vagrant" else None)


def test_state_with_a_usable_provider() -> None:
    out = mr("debian,provider-name,virtualbox", "debian,state,not_created", "debian,state-human-short,not created")
    ctx = MockContext(run={STATUS: Result(stdout=out)})
    assert vm.vagrant_status(ctx, "debian", which=lambda prog: f"/usr/bin/{prog}") == "not_created"


def test_recap_of() -> None:
    assert parse_recap("x\r\nrecap: ok=1 changed=3 failed=0 skipped=0\r\nrecap: ok=4 changed=0 failed=0 skipped=2\r\nlog: /x\r\n") == {
        "ok": 4, "changed": 0, "failed": 0, "skipped": 2}
    assert parse_recap("no recap here") is None


def ssh(name: str, argv: list[str]) -> str:
    return shlex.join(["vagrant", "ssh", name, "-c", f"cd {GUEST_DIR} && {shlex.join(argv)}"])


@pytest.mark.parametrize(("second_recap", "code"), [("recap: ok=9 changed=0 failed=0 skipped=1", 0), ("recap: ok=8 changed=1 failed=0 skipped=1", 1)])
def test_vm_test_runs_bootstrap_twice_and_checks(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], second_recap: str, code: int) -> None:
    monkeypatch.delenv("PROVISION_CA_BUNDLE", raising=False)
    monkeypatch.setattr(vm, "vagrant_status", lambda ctx, name: "not_created")
    boot = ["./bootstrap", "--yes"]
    ctx = MockContext(run={
        "vagrant up --no-provision fedora": Result(),
        "vagrant rsync fedora": Result(),
        ssh("fedora", boot): [Result(stdout="recap: ok=3 changed=6 failed=0 skipped=1\n"), Result(stdout=second_recap + "\n")],
        ssh("fedora", ["./bootstrap", "facts"]): Result(stdout="system: Linux\n"),
        ssh("fedora", ["./bootstrap", "doctor"]): Result(stdout="doctor: healthy\n"),
    })
    assert vm.test(ctx, "fedora") == code
    report = capsys.readouterr().out
    if code == 0:
        assert "vm.test fedora: PASS" in report and "[PASS] ./bootstrap facts" in report and "[PASS] ./bootstrap doctor" in report
    else:
        assert "[FAIL] second run reports changed=0: ok=8 changed=1" in report
        assert "[SKIP] ./bootstrap facts" in report
    # every vagrant call runs against this repository's Vagrantfile, wherever we are
    for call in ctx.run.call_args_list:
        assert call.kwargs["env"]["VAGRANT_CWD"] == str(REPO)


@pytest.fixture
def vagrant_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`vagrant` and VirtualBox "installed" (never run: MockContext answers), no CA bundle."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for prog in ("vagrant", "VBoxManage"):
        (bin_dir / prog).write_text("#!/bin/sh\nexit 99\n")
        (bin_dir / prog).chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("PROVISION_CA_BUNDLE", raising=False)


def status_of(*machines: str) -> str:
    return mr(*(row for m in machines for row in (f"{m},provider-name,virtualbox", f"{m},state,not_created")))


@pytest.mark.parametrize(("task", "args", "answers", "code"), [
    ("up", ["debian"], {STATUS: Result(stdout=status_of("debian")), "vagrant up debian": Result()}, 0),
    ("up", ["debian"], {STATUS: Result(stdout=status_of("debian")), "vagrant up debian": Result(exited=3)}, 3),
    ("destroy", ["fedora"], {"vagrant destroy --force fedora": Result()}, 0),
    ("status", [], {"vagrant status --machine-readable": Result(stdout=status_of("debian", "ubuntu", "ubuntu2204", "fedora"))}, 0),
])
def test_cli_vm_tasks_run_vagrant_through_the_context(vagrant_on_path: None, capsys: pytest.CaptureFixture[str], task: str,
                                                      args: list[str], answers: dict[str, Result], code: int) -> None:
    """Each task hands its Context to provision/vm.py: exactly these vagrant commands, this repository's
    Vagrantfile, and vagrant's exit status as the task's."""
    from invoke import Collection, Exit

    import provision.cli.vm

    ns = Collection.from_module(provision.cli.vm)
    assert {"up", "test", "destroy", "status"} <= set(ns.task_names)
    ctx = MockContext(run=answers)  # any other command raises NotImplementedError
    if code:
        with pytest.raises(Exit) as e:
            ns[task](ctx, *args)
        assert e.value.code == code
    else:
        ns[task](ctx, *args)
    assert [call.args[0] for call in ctx.run.call_args_list] == list(answers)
    for call in ctx.run.call_args_list:
        assert call.kwargs["env"]["VAGRANT_CWD"] == str(REPO) and call.kwargs["in_stream"] is False
    if task == "status":
        rows = [line.split()[:4] for line in capsys.readouterr().out.splitlines()]
        assert rows == [[name, "not_created", "virtualbox", box] for name, box in EXPECTED_BOXES.items()]


def test_cli_vm_task_errors_are_one_paragraph_and_exit_2(vagrant_on_path: None) -> None:
    from invoke import Exit

    import provision.cli.vm

    ctx = MockContext(run={})  # a recording run that answers nothing
    with pytest.raises(Exit) as e:
        provision.cli.vm.up(ctx, "centos")
    assert e.value.code == 2 and "no machine named 'centos'" in str(e.value.message)
    assert ctx.run.call_args_list == []
