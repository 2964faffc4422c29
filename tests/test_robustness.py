"""No traceback, no hang, bounded resources: probes of strange programs, odd settings, machine conditions."""

from __future__ import annotations

import os
import time

import pytest

from provision import indexes
from provision.errors import ConfigError, MachineError, ProvisionError
from provision.machine import pipconf, pyprobe, pythons
from provision.machine.probe import LocalProbe
from provision.options import refresh_seconds


def fake_python(tmp_path, body: str, name: str = "python3") -> str:
    d = tmp_path / "bin"
    d.mkdir(exist_ok=True)
    p = d / name
    p.write_text("#!/bin/sh\n" + body + "\n")
    p.chmod(0o755)
    return str(d)


PIDFILE = "pids"


def _gone(pid: int) -> bool:
    """Ended: no such process, or a zombie waiting for a parent that reaps (pid 1 of a container may not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True

STRANGE = [
    # what the program on PATH does -> it is skipped, nothing crashes
    ("undecodable bytes", "printf '\\377\\376\\375 not utf-8\\n'"),
    ("undecodable bytes then JSON-like", "printf '\\377{\"executable\": \"\\377\", \"version\": \"3.12.0\"}\\n'"),
    ("empty JSON object", "echo '{}'"),
    ("wrong types", "echo '{\"executable\": 1, \"version\": [3]}'"),
    ("version not a version", "echo '{\"executable\": \"/x\", \"version\": \"abc\"}'"),
    ("deeply nested JSON", "python3 -c 'print(\"[\" * 200000 + \"]\" * 200000)'"),
    ("a list", "echo '[1, 2]'"),
    ("nothing", "true"),
    ("exit 1", "echo oops >&2; exit 1"),
    ("killed by a signal", "kill -9 $$"),
    ("huge output", "yes 'x' | head -c 3000000"),
]


@pytest.mark.parametrize(("case", "body"), STRANGE, ids=[s[0] for s in STRANGE])
def test_strange_interpreter_on_path_is_skipped(tmp_path, case, body):
    d = fake_python(tmp_path, body, "python3.99")
    found = pythons.gather_pythons((d,))
    assert all(p.path != os.path.join(d, "python3.99") for p in found)
    assert pythons.probe_python(os.path.join(d, "python3.99")) is None


@pytest.mark.parametrize("orphan", ["in the group", "escaped with setsid"])
def test_hanging_interpreter_is_bounded_with_its_children(tmp_path, orphan):
    pids = tmp_path / PIDFILE
    child = "sleep 300 &" if orphan == "in the group" else "setsid sleep 300 &"
    d = fake_python(tmp_path, f"{child}\necho $! >> {pids}\nexec sleep 300", "python3.99")
    started = time.monotonic()
    probes = pyprobe.Probes([os.path.join(d, "python3.99")])
    assert probes.answers(timeout=1.0) == [None]
    assert time.monotonic() - started < 8, "bounded: the orphan's open pipe is not waited for"
    for pid in pids.read_text().split():
        if orphan == "in the group":
            time.sleep(0.2)
            assert _gone(int(pid)), "ended with its group"
        else:
            os.kill(int(pid), 9)  # the test's own leftover


def test_tool_probe_and_fact_queries_are_bounded(tmp_path, monkeypatch):
    d = fake_python(tmp_path, "sleep 300 &\nexec sleep 300", "slowtool")
    monkeypatch.setattr("provision.machine.probe.TOOL_TIMEOUT", 1.0)
    monkeypatch.setattr(pyprobe, "PROBE_TIMEOUT", 1.0)
    started = time.monotonic()
    res = LocalProbe({"PATH": d}).run([os.path.join(d, "slowtool")])
    assert not res.ok and "did not answer" in res.stderr
    assert pythons._run([os.path.join(d, "slowtool")]).returncode != 0
    assert time.monotonic() - started < 8


def test_tool_probe_with_undecodable_output(tmp_path):
    d = fake_python(tmp_path, "printf '\\377\\376 ok\\n'", "odd")
    res = LocalProbe({"PATH": d}).run([os.path.join(d, "odd")])
    assert res.ok and "ok" in res.stdout


REFRESH = [("24", 86400.0), ("0.5", 1800.0), ("0", 0.0), (" 1 ", 3600.0), (2, 7200.0), ("1e1", 36000.0)]


@pytest.mark.parametrize(("hours", "seconds"), REFRESH)
def test_refresh_after_accepts_hours(hours, seconds):
    assert refresh_seconds(hours) == seconds


@pytest.mark.parametrize("hours", ["abc", "", "nan", "NaN", "inf", "-inf", "-1", "-0.5", "1h", "0x10", "1e400"])
def test_refresh_after_refuses(hours):
    with pytest.raises(ConfigError, match="not a number of hours") as e:
        refresh_seconds(hours)
    assert e.value.exit_code == 2


def conf(tmp_path, rel: str, text: str) -> str:
    p = tmp_path / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return str(p)


def test_pip_config_files_in_pips_order(tmp_path):
    home = str(tmp_path / "home")
    env = {"XDG_CONFIG_DIRS": f"{tmp_path}/xdg1:{tmp_path}/xdg2", "XDG_CONFIG_HOME": f"{home}/.config"}
    assert pipconf.pip_config_files(env, home) == [
        f"{tmp_path}/xdg1/pip/pip.conf", f"{tmp_path}/xdg2/pip/pip.conf", "/etc/pip.conf",
        f"{home}/.pip/pip.conf", f"{home}/.config/pip/pip.conf"]
    assert pipconf.pip_config_files({}, home)[:2] == ["/etc/xdg/pip/pip.conf", "/etc/pip.conf"]
    own = conf(tmp_path, "own.conf", "")
    assert pipconf.pip_config_files({"PIP_CONFIG_FILE": own}, home)[-2:] == ["/etc/pip.conf", own], "no user files then"
    missing = str(tmp_path / "missing.conf")
    assert pipconf.pip_config_files({"PIP_CONFIG_FILE": missing}, home)[-1] == missing
    assert f"{home}/.pip/pip.conf" in pipconf.pip_config_files({"PIP_CONFIG_FILE": missing}, home)
    assert pipconf.pip_config_files({"PIP_CONFIG_FILE": os.devnull}, home) == []


@pytest.mark.parametrize(
    ("files", "env", "expected"),
    [
        # later files win: the new per-user file over the legacy one, over site-wide ones
        ({"home/.pip/pip.conf": "https://legacy/", "home/.config/pip/pip.conf": "https://new/"}, {}, "https://new/"),
        ({"xdg/pip/pip.conf": "https://xdg/", "home/.pip/pip.conf": "https://legacy/"}, {}, "https://legacy/"),
        ({"home/.config/pip/pip.conf": "https://user/", "own.conf": "https://own/"}, {"PIP_CONFIG_FILE": "own.conf"}, "https://own/"),
        ({"home/.config/pip/pip.conf": "https://user/"}, {"PIP_INDEX_URL": "https://env/"}, "https://env/"),
        ({"home/.config/pip/pip.conf": "https://user/"}, {"PIP_CONFIG_FILE": os.devnull}, None),
    ],
)
def test_pip_settings_later_wins(tmp_path, files, env, expected):
    for rel, url in files.items():
        conf(tmp_path, rel, f"[global]\nindex-url = {url}\n")
    env = {k: (str(tmp_path / v) if k == "PIP_CONFIG_FILE" and v != os.devnull else v) for k, v in env.items()}
    env.update({"XDG_CONFIG_DIRS": str(tmp_path / "xdg"), "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config")})
    settings = pipconf.pip_settings(env, str(tmp_path / "home"))
    assert settings.get("index-url", (None, None))[1] == expected


def test_unreadable_or_broken_pip_config_is_skipped(tmp_path):
    conf(tmp_path, "own.conf", "not an ini file [[[\n")
    (tmp_path / "bin.conf").write_bytes(b"[global]\nindex-url = \xff\n")
    for name in ("own.conf", "bin.conf"):
        settings = pipconf.pip_settings({"PIP_CONFIG_FILE": str(tmp_path / name)}, str(tmp_path))
        assert str(tmp_path) not in " ".join(where for where, _ in settings.values())


INDEXES = [
    # settings -> error fragment or warnings fragments
    ({"index-url": ("PIP_INDEX_URL", "http://mirror.invalid/simple")}, "error", "plain-http package index"),
    ({"extra-index-url": ("/etc/pip.conf [global] extra-index-url", "https://a.invalid http://b.invalid:8080/simple")},
     "error", "/etc/pip.conf [global] extra-index-url = http://b.invalid:8080/simple"),
    ({"index-url": ("PIP_INDEX_URL", "HTTP://mirror.invalid/simple")}, "error", "plain-http"),
    ({"index-url": ("PIP_INDEX_URL", "http://mirror.invalid/simple"),
      "trusted-host": ("PIP_TRUSTED_HOST", "mirror.invalid")}, "warn", "trusted by PIP_TRUSTED_HOST"),
    ({"index-url": ("PIP_INDEX_URL", "http://mirror.invalid:8080/simple"),
      "trusted-host": ("PIP_TRUSTED_HOST", "mirror.invalid:8080")}, "warn", "unauthenticated"),
    ({"index-url": ("PIP_INDEX_URL", "http://mirror.invalid/simple"),
      "trusted-host": ("PIP_TRUSTED_HOST", "other.invalid")}, "error", "plain-http"),
    ({"trusted-host": ("/etc/pip.conf [global] trusted-host", "a.invalid b.invalid")}, "warn", "does not verify TLS"),
    ({"index-url": ("PIP_INDEX_URL", "https://mirror.invalid/simple")}, "none", ""),
    ({"index-url": ("PIP_INDEX_URL", "file:///srv/wheels")}, "none", ""),
    ({}, "none", ""),
]


@pytest.mark.parametrize(("settings", "outcome", "fragment"), INDEXES)
def test_pip_index_settings(settings, outcome, fragment):
    if outcome == "error":
        with pytest.raises(ConfigError) as e:
            indexes.check(settings)
        assert fragment in str(e.value) and "--trusted-host" in str(e.value) and e.value.exit_code == 2
        return
    warnings = indexes.check(settings)
    assert (fragment in " ".join(warnings)) if outcome == "warn" else warnings == []


def test_machine_conditions_exit_1_bad_input_exit_2(tmp_path):
    from provision.run.lock import exclusive
    from provision.run.log import RunLog
    from provision.run.progress import Progress
    from provision.run.runner import Runner
    from provision.steps import Change, Step

    (tmp_path / "file").write_text("")
    cases: list[tuple[str, object]] = []

    class Root(Step):
        name, title = "root", "Root"

    change = [(Root(), Change("x", (__import__("provision.command").command.Command(("apt-get", "install", "x"), sudo=True),)))]
    for sudo, interactive in (("absent", False), ("absent", True), ("password", False)):
        r = Runner(None, dry_run=False, is_root=False, sudo=sudo, interactive=interactive, log=RunLog(None), progress=Progress(quiet=True))
        cases.append((f"sudo={sudo} interactive={interactive}", lambda r=r: r.check_privileges(change)))
    cases.append(("log directory not writable", lambda: RunLog(str(tmp_path / "file" / "log" / "x.log"))))

    def lock() -> None:
        with exclusive(str(tmp_path / "file" / "state" / "bootstrap.lock")):
            pass

    cases.append(("state directory not writable", lock))

    def no_interpreter() -> None:
        from dataclasses import replace

        from provision.platforms import presets, profiles
        from provision.project import config, interpreter

        (tmp_path / "p").mkdir()
        (tmp_path / "p" / "provision.toml").write_text('python = ">=3.99"\n')
        facts = presets.load("macos:14")
        interpreter.choose(replace(facts, pythons=facts.pythons[:1]), config.load(tmp_path / "p"), profiles.resolve(facts).profile)

    cases.append(("no interpreter in the range", no_interpreter))

    def no_venv() -> None:
        from provision.install import install

        (tmp_path / "q").mkdir()
        install(None, ["six"], project=str(tmp_path / "q"))

    cases.append(("install without the project venv", no_venv))
    for name, call in cases:
        with pytest.raises(ProvisionError) as e:
            call()  # type: ignore[operator]
        assert isinstance(e.value, MachineError) and e.value.exit_code == 1, name
    for bad in (lambda: refresh_seconds("x"), lambda: indexes.check({"index-url": ("X", "http://h.invalid/")})):
        with pytest.raises(ConfigError) as e:
            bad()
        assert e.value.exit_code == 2
