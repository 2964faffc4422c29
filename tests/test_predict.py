"""#13 as tables: a real resolver report (or lock records) and a platform in, verdicts and packages out."""

from __future__ import annotations

import json
import subprocess
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import FakeProbe
from test_steps import dpkg, make_env

from provision.machine.facts import TagFacts
from provision.machine.pythons import tag_facts
from provision.platforms import presets, profiles
from provision.project import predict, predict_env, predict_probe
from provision.project.predict import SOURCE, UNKNOWN, WHEEL, Candidate, Prediction
from provision.run import diagnosis
from provision.steps.packages import SystemPackages

FIXTURES = Path(__file__).parent / "fixtures" / "native"
REPORT = json.loads((FIXTURES / "resolver-report.json").read_text())


@pytest.mark.parametrize(("key", "first", "also"), [
    ("debian:12", "manylinux_2_36_x86_64", ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux1_x86_64", "linux_x86_64")),
    ("debian:11", "manylinux_2_31_x86_64", ("manylinux2014_x86_64",)),
    ("rocky:8", "manylinux_2_28_x86_64", ("manylinux2010_x86_64",)),
    ("alpine:3.20", "musllinux_1_2_x86_64", ("musllinux_1_1_x86_64", "linux_x86_64")),
    ("raspbian:12", "manylinux_2_36_armv7l", ("manylinux_2_17_armv7l",)),
    ("macos:14", "macosx_14_0_arm64", ("macosx_11_0_arm64", "macosx_14_0_universal2")),
    ("windows:11", "win_amd64", ()),
])
def test_platform_tags_per_preset(key, first, also):
    tags = predict.platform_tags(presets.load(key).pythons[0].tags)
    assert tags[0] == first
    assert set(also) <= set(tags)
    assert not any("musllinux" in t for t in tags) or "alpine" in key


def test_free_threaded_and_32_bit():
    t = TagFacts("cpython", "313", "cp313t", "linux-x86_64", "glibc", "2.36", bits64=False)
    tags = {str(x) for x in predict.supported_tags(t)}
    assert "cp313-cp313t-manylinux_2_17_i686" in tags and "cp313-cp313-manylinux_2_17_i686" not in tags
    assert predict.label(t) == "cp313t manylinux_2_36_i686"


# The one report, judged for each platform: sdists build everywhere; the cp311 manylinux wheel of
# psycopg2-binary fits Debian 12 only (elsewhere the report cannot say: unknown, nothing added).
@pytest.mark.parametrize(("key", "packages", "binary_kind"), [
    ("debian:12", {"libpq-dev", "libldap2-dev", "libsasl2-dev", "libcairo2-dev", "pkg-config", "libmagic-dev"}, WHEEL),
    # the report was made by a cp311: its psycopg2-binary wheel does not fit a cp39 or cp312
    ("debian:11", {"libpq-dev", "libldap2-dev", "libsasl2-dev", "libcairo2-dev", "pkg-config", "libmagic-dev"}, UNKNOWN),
    ("ubuntu:24.04", {"libpq-dev", "libldap2-dev", "libsasl2-dev", "libcairo2-dev", "pkg-config", "libmagic-dev"}, UNKNOWN),
    ("fedora:40", {"libpq-devel", "openldap-devel", "cyrus-sasl-devel", "cairo-devel", "pkgconf-pkg-config", "file-libs"}, UNKNOWN),
    ("alpine:3.20", {"libpq-dev", "openldap-dev", "cyrus-sasl-dev", "cairo-dev", "pkgconf", "libmagic"}, UNKNOWN),
    ("macos:14", {"libpq", "openldap", "cyrus-sasl", "cairo", "pkgconf", "libmagic"}, UNKNOWN),
])
def test_report_in_needs_out(key, packages, binary_kind):
    facts = presets.load(key)
    prof = profiles.resolve(facts).profile
    verdicts = predict.classify(predict.from_report(REPORT), facts.pythons[0].tags)
    kinds = {v.name: v.kind for v in verdicts}
    assert kinds["psycopg2"] == kinds["python-ldap"] == kinds["pycairo"] == SOURCE
    assert kinds["psycopg2-binary"] == binary_kind and kinds["python-magic"] == WHEEL
    pairs, lines = predict_env.needs_pairs(Prediction(verdicts), prof)
    got = {p for _, pkgs in pairs for p in pkgs}
    assert packages <= got, got
    # nothing installed for psycopg2-binary (a wheel, or not known: then only said), pyasn1 & co. bring nothing
    brought = {v.name for vs in Prediction(verdicts).needs().values() for v in vs}
    assert "psycopg2-binary" not in brought and not any(line.startswith("pyasn1") for line in lines)
    said = [line for line in lines if line.startswith("psycopg2-binary")]
    assert said == [] if binary_kind == WHEEL else "a source build would need postgres-client" in said[0]


def test_plan_says_why_per_package(tmp_path):
    env = make_env(tmp_path, probe=FakeProbe({"dpkg-query": dpkg(["build-essential", "python3-dev", "python3-venv", "pipx"])}))
    verdicts = predict.classify(predict.from_report(REPORT), env.python.tags)
    change = SystemPackages().check(replace(env, prediction=Prediction(verdicts, source="pip resolver report")))
    assert "psycopg2 2.9.9 builds from source here (no cp311 manylinux_2_36_x86_64 wheel) → postgres-client: libpq-dev" in change.reason
    assert "python-magic 0.4.27 installs as a wheel" in change.reason
    install = next(c.argv for c in change.commands if "install" in c.argv)
    assert {"libpq-dev", "libldap2-dev", "libsasl2-dev", "libcairo2-dev", "libmagic-dev"} <= set(install)


def test_wheels_present_add_nothing(tmp_path):
    env = make_env(tmp_path)
    report = {"install": [i for i in REPORT["install"] if i["metadata"]["name"] in ("psycopg2-binary", "pyasn1")]}
    pred = Prediction(predict.classify(predict.from_report(report), env.python.tags))
    assert predict_env.needs_pairs(pred, env.profile) == ([], [])


def test_prediction_that_could_not_run_is_said_not_fatal(tmp_path):
    env = make_env(tmp_path, probe=FakeProbe({"dpkg-query": dpkg([])}))
    change = SystemPackages().check(replace(env, prediction=Prediction(error="pip's resolver failed: ResolutionImpossible")))
    assert "prediction of native needs could not run: pip's resolver failed: ResolutionImpossible" in change.reason


def test_unavailable_need_is_reported_not_raised():
    prof = profiles.resolve(presets.load("alpine:3.20")).profile
    v = predict.Verdict("systemd-python", "235", SOURCE, "builds from source here", ("systemd",))
    pairs, lines = predict_env.needs_pairs(Prediction((v,)), prof)
    assert pairs == [] and "systemd: not available here" in lines[0]


@pytest.mark.parametrize(("record", "kind", "needs"), [
    # lock records: wheel file names + whether an sdist exists
    (("psycopg2-binary", "2.9.9", ("psycopg2_binary-2.9.9-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",), True), WHEEL, ()),
    (("psycopg2-binary", "2.9.9", ("psycopg2_binary-2.9.9-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",), True), SOURCE, ("postgres-client",)),
    (("psycopg2", "2.9.9", ("psycopg2-2.9.9-cp311-cp311-win_amd64.whl",), True), SOURCE, ("postgres-client",)),
    (("python-ldap", "3.4.4", (), True), SOURCE, ("ldap", "sasl")),
    (("pycurl", "7.45.2", ("pycurl-7.45.2-cp311-cp311-manylinux_2_28_x86_64.whl",), True), WHEEL, ()),
    (("pycurl", "7.45.2", ("pycurl-7.45.2-cp311-cp311-musllinux_1_2_x86_64.whl",), False), UNKNOWN, ()),
    (("python-magic", "0.4.27", ("python_magic-0.4.27-py2.py3-none-any.whl",), True), WHEEL, ("magic",)),
    (("cx-oracle", "8.3.0", (), True), SOURCE, ()),
])
def test_lock_records_judged_for_debian12(record, kind, needs):
    name, version, wheels, sdist = record
    cands = predict.from_locked([Candidate(name, version, wheels=wheels, sdist=sdist)])
    (v,) = predict.classify(cands, presets.load("debian:12").pythons[0].tags)
    assert (v.kind, v.needs) == (kind, needs)
    if name == "cx-oracle":
        assert "Oracle" in v.manual


def test_tag_facts_from_probe_and_this_interpreter():
    out = subprocess.run(["python3", "-I", str(Path(predict.__file__).parents[1] / "machine" / "interp_probe.py")],
                         capture_output=True, text=True, check=True).stdout
    t = tag_facts(json.loads(out)["tags"])
    assert t is not None and t.nodot and t.platform
    assert tag_facts({"nodot": "311"}) is None and tag_facts(None) is None


# ------------------------------------------------------------------ the probe, with pip faked

PYCURL_FAIL = """Collecting psycopg2==2.9.9
  Downloading psycopg2-2.9.9.tar.gz (384 kB)
  Preparing metadata (setup.py): finished with status 'done'
Collecting pycurl==7.45.2
  Downloading pycurl-7.45.2.tar.gz (234 kB)
  Preparing metadata (setup.py): finished with status 'error'
  error: subprocess-exited-with-error
  × python setup.py egg_info did not run successfully.
      ConfigurationError: Could not run curl-config: [Errno 2] No such file or directory: 'curl-config'
error: metadata-generation-failed
"""
PSYCOPG2_GET_REQUIRES = """Collecting psycopg2==2.9.9
  Using cached psycopg2-2.9.9.tar.gz (384 kB)
  Installing build dependencies: finished with status 'done'
  Getting requirements to build wheel: finished with status 'error'
  error: subprocess-exited-with-error
  × Getting requirements to build wheel did not run successfully.
      Error: pg_config executable not found.
"""


@pytest.mark.parametrize(("output", "expected"), [
    (PYCURL_FAIL, ("pycurl", "7.45.2")),
    (PSYCOPG2_GET_REQUIRES, ("psycopg2", "2.9.9")),
    ("ERROR: ResolutionImpossible: ...", None),
    ("ERROR: Could not find a version that satisfies the requirement nosuch==1", None),
])
def test_failed_sdist(output, expected):
    assert predict_probe.failed_sdist(output) == expected


def test_evidence():
    assert predict_probe.evidence(PYCURL_FAIL) == "No such file or directory: 'curl-config'"
    assert predict_probe.evidence(PSYCOPG2_GET_REQUIRES) == "pg_config executable not found"


class FakePip:
    """pip's answers in order; writes the report when an answer carries one."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls: list[list[str]] = []

    def __call__(self, argv, env):
        self.calls.append(list(argv))
        self.env = dict(env)
        code, out, report = self.answers.pop(0)
        if report is not None:
            Path(argv[argv.index("--report") + 1]).write_text(json.dumps(report))
        return subprocess.CompletedProcess(argv, code, out, "")


def test_resolve_goes_past_a_failed_metadata_step_with_a_stand_in(tmp_path):
    done = {"install": [*REPORT["install"], {"metadata": {"name": "pycurl", "version": "7.45.2+provision.standin"},
                                              "download_info": {"url": "file:///tmp/x/pycurl-7.45.2+provision.standin.tar.gz", "archive_info": {}}}]}
    pip = FakePip((1, PYCURL_FAIL, None), (0, "", done))
    res = predict_probe.resolve("/usr/bin/python3", "/w/pip-23.0.1-py3-none-any.whl", predict_probe.PipInputs(requirements=("r.txt",), cert="/ca.pem"),
                                env={}, run=pip)
    assert res.error == ""
    first, second = pip.calls
    assert first[:8] == ["/usr/bin/python3", "/w/pip-23.0.1-py3-none-any.whl/pip", "install", "--dry-run", "--ignore-installed", "--report",
                         first[6], "--disable-pip-version-check"]
    assert first[first.index("--cert"):first.index("--cert") + 2] == ["--cert", "/ca.pem"] and "--trusted-host" not in first
    assert "--find-links" in second and "--find-links" not in first
    assert pip.env["PIP_CERT"] == "/ca.pem", "pip's build-requirements subprocess reads the environment, not our argv"
    pycurl = next(c for c in res.candidates if c.name == "pycurl")
    assert pycurl.version == "7.45.2" and "curl-config" in pycurl.source_why
    (v,) = [v for v in predict.classify(res.candidates, presets.load("debian:12").pythons[0].tags) if v.name == "pycurl"]
    assert v.kind == SOURCE and v.needs == ("curl", "ssl")


@pytest.mark.parametrize(("answers", "fragment"), [
    (((1, "ERROR: ResolutionImpossible: for help visit ...", None),), "ResolutionImpossible"),
    (((1, "WARNING: Retrying ... ERROR: Could not find a version that satisfies the requirement x==1", None),), "Could not find a version"),
    (((1, PYCURL_FAIL, None), (1, PYCURL_FAIL, None)), "curl-config"),  # --no-binary refused the stand-in too
])
def test_resolve_failures_become_reasons(answers, fragment):
    res = predict_probe.resolve("/py", "/w/pip-24.0-py3-none-any.whl", predict_probe.PipInputs(requirements=("r.txt",)), env={}, run=FakePip(*answers))
    assert fragment in res.error and res.candidates == []


def test_externally_managed_refusal_is_retried_with_target():
    pip = FakePip((1, "error: externally-managed-environment", None), (0, "", {"install": []}))
    res = predict_probe.resolve("/py", "/w/pip-23.0-py3-none-any.whl", predict_probe.PipInputs(requirements=("r.txt",)), env={}, run=pip)
    assert res.error == "" and "--target" in pip.calls[1] and "--target" not in pip.calls[0]


def test_old_pip_fetches_a_newer_one_first(tmp_path, monkeypatch):
    monkeypatch.setattr(predict_probe, "cache_dir", lambda: tmp_path)

    def run(argv, env):
        if "download" in argv:
            (tmp_path / "pip" / "pip-25.3-py3-none-any.whl").write_text("")
            return subprocess.CompletedProcess(argv, 0, "", "")
        Path(argv[argv.index("--report") + 1]).write_text('{"install": []}')
        return subprocess.CompletedProcess(argv, 0, "", "")

    calls = []
    res = predict_probe.resolve("/py", "/usr/share/python-wheels/pip-20.3.4-py2.py3-none-any.whl",
                                predict_probe.PipInputs(requirements=("r.txt",), index_url="https://idx.example/simple"),
                                env={}, run=lambda a, e: calls.append(a) or run(a, e))
    assert res.error == ""
    assert "download" in calls[0] and "https://idx.example/simple" in calls[0] and "r.txt" not in calls[0]
    assert calls[1][1] == str(tmp_path / "pip" / "pip-25.3-py3-none-any.whl" / "pip")


def test_stand_in_sdist_has_static_metadata(tmp_path):
    path = predict_probe.standin_sdist(tmp_path, "pycurl", "7.45.2")
    assert path.name == "pycurl-7.45.2+provision.standin.tar.gz"
    with tarfile.open(path) as tar:
        names = tar.getnames()
        assert "pycurl-7.45.2+provision.standin/PKG-INFO" in names and "pycurl-7.45.2+provision.standin/_standin.py" in names


def test_probe_skipped_when_venv_is_up_to_date(tmp_path, monkeypatch):
    env = make_env(tmp_path)
    monkeypatch.setattr("provision.steps.venv.ProjectVenv.current", lambda self, e: (None, False, {}))
    monkeypatch.setattr(predict_env, "run_probe", lambda e: pytest.fail("the probe ran"))
    assert predict_env.for_env(env).skipped == "the project venv is up to date"


def test_probe_result_is_cached(tmp_path, monkeypatch):
    env = make_env(tmp_path)
    env = replace(env, python=replace(env.python, tags=presets.load("debian:12").pythons[0].tags))
    monkeypatch.setattr(predict_probe, "cache_dir", lambda: tmp_path / "cache")
    runs = []
    monkeypatch.setattr(predict_env, "run_probe", lambda e, r=None: runs.append(1) or predict_probe.ProbeResult(predict.from_report(REPORT)))
    first, second = predict_env.for_env(env), predict_env.for_env(env)
    assert len(runs) == 1 and first.verdicts == second.verdicts and first.from_source


# ------------------------------------------------------------------ a failed build, diagnosed

LBER = """Building wheel for python-ldap (pyproject.toml): started
  In file included from Modules/LDAPObject.c:3:
  Modules/common.h:15:10: fatal error: lber.h: No such file or directory
  error: command '/usr/bin/x86_64-linux-gnu-gcc' failed with exit code 1
  ERROR: Failed building wheel for python-ldap
Failed to build python-ldap
"""


@pytest.mark.parametrize(("output", "asked", "needs", "text"), [
    (PYCURL_FAIL, (), ("curl", "ssl"), "libcurl4-openssl-dev"),
    (LBER, (), ("ldap", "sasl"), "libldap2-dev libsasl2-dev"),
    ("ERROR: Failed building wheel for pycurl\nsubprocess-exited-with-error", ("pycurl==7.45.2",), ("curl", "ssl"), "libcurl4-openssl-dev"),
    ("  Error: pg_config executable not found.\nsubprocess-exited-with-error\nFailed to build psycopg2", (), ("postgres-client",), "libpq-dev"),
    # pip 25: the name quoted, and curl-config in no rule of explain
    ("Could not run curl-config: [Errno 2] No such file or directory: 'curl-config'\nerror: subprocess-exited-with-error\n"
     "ERROR: Failed to build 'pycurl' when getting requirements to build wheel", (), ("curl", "ssl"), "libcurl4-openssl-dev libssl-dev"),
])
def test_failed_build_is_diagnosed_for_this_machine(output, asked, needs, text):
    facts = presets.load("debian:12")
    d = diagnosis.diagnose(output, facts, profiles.resolve(facts).profile, asked=[a.split("==")[0] for a in asked])
    assert d.needs == needs and text in d.text, d.text


@pytest.mark.parametrize(("found", "names", "needs", "known"), [
    ((), ["pycurl"], ["curl", "ssl"], ["pycurl"]),  # explain names nothing: the table stands in
    (("ldap",), ["python-ldap"], ["ldap", "sasl"], ["python-ldap"]),  # the first missing of two: the table adds the next
    (("postgres-client",), ["psycopg2"], ["postgres-client"], []),  # the table knows no more
    (("ffi",), ["python-ldap"], ["ffi"], []),  # the table disagrees with the log: the log wins
    (("zlib",), ["no-such-dist"], ["zlib"], []),
])
def test_table_completes_explains_needs(found, names, needs, known):
    assert diagnosis.with_table(found, names) == (needs, known)


# ------------------------------------------------------------------ install --fix with only the name known


@pytest.mark.parametrize(("spec", "output", "needs"), [
    ("pycurl==7.45.2", PYCURL_FAIL, ("curl", "ssl")),  # explain: "Not recognised" (curl-config is in no rule)
    ("python-ldap", LBER, ("ldap", "sasl")),  # explain names ldap (lber.h); the table adds sasl, the next to fail
])
def test_install_fix_uses_the_table_and_never_offers_itself(tmp_path, spec, output, needs):
    import io

    from invoke import MockContext, Result
    from test_install import WHERE, fix_env_for

    from provision import install as inst

    (tmp_path / "provision.toml").write_text('venv = ".venv"\n')
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").write_text("")
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")  # a venv (the kit never touches anything else)
    pip = inst.pip_argv(str(tmp_path / ".venv" / "bin" / "python"), [spec], "--dry-run")
    ctx = MockContext(run={" ".join(__import__("shlex").quote(a) for a in pip): Result(stdout=output, exited=1)})
    make, seen, _ = fix_env_for(tmp_path)
    out = io.StringIO()
    code = inst.install(ctx, [spec], project=str(tmp_path), fix=True, dry_run=True, out=out, where=WHERE,
                        log_file=str(tmp_path / "install.log"), fix_env=make)
    text = out.getvalue()
    assert code == 0, text
    assert seen == [needs]
    assert "./bootstrap install" not in text, text
    assert "the build-needs table says it needs" in text


def test_runner_failure_block_carries_the_diagnosis():
    from invoke import MockContext, Result

    from provision.command import Command
    from provision.run.log import RunLog
    from provision.run.progress import Progress
    from provision.run.runner import Runner
    from provision.steps import Change, Step

    facts = presets.load("debian:12")
    prof = profiles.resolve(facts).profile

    class Fails(Step):
        name, title = "fails", "Fails"

    cmd = Command(("/v/bin/python", "-m", "pip", "install", "-r", "r.txt"))
    ctx = MockContext(run={"/v/bin/python -m pip install -r r.txt": Result(stdout=PSYCOPG2_GET_REQUIRES + "Failed to build psycopg2\n", exited=1)})
    runner = Runner(ctx, dry_run=False, is_root=True, sudo="absent", interactive=False, log=RunLog(None), progress=Progress(quiet=True),
                    diagnose=lambda out: diagnosis.diagnose(out, facts, prof).text)
    res, _ = runner.apply(Fails(), Change("why", (cmd,)), lambda: pytest.fail("no re-probe after a failure"))
    assert res.status == "failed"
    assert "diagnosis: missing-native-library (postgres-client)" in res.error
    assert "fix: sudo apt-get install libpq-dev" in res.error


def test_distro_pip_wheel_newest(tmp_path):
    (tmp_path / "pip-20.3.4-py2.py3-none-any.whl").write_text("")
    (tmp_path / "pip-9.0.1-py2.py3-none-any.whl").write_text("")
    assert predict_probe.distro_pip_wheel((str(tmp_path), str(tmp_path / "none"))) == str(tmp_path / "pip-20.3.4-py2.py3-none-any.whl")
    assert predict_probe.distro_pip_wheel((str(tmp_path / "none"),)) is None


def test_for_lock_judges_records_for_a_preset():
    records = [Candidate("psycopg2", "2.9.9", wheels=("psycopg2-2.9.9-cp312-cp312-win_amd64.whl",), sdist=True),
               Candidate("psycopg2-binary", "2.9.9", wheels=("psycopg2_binary-2.9.9-cp312-cp312-macosx_11_0_arm64.whl",), sdist=True)]
    pred = predict_env.for_lock(records, presets.load("macos:14").pythons[0].tags, "uv.lock")
    assert [(v.name, v.kind) for v in pred.verdicts] == [("psycopg2", SOURCE), ("psycopg2-binary", WHEEL)]
    assert list(pred.needs()) == ["postgres-client"]


def test_a_locked_project_is_predicted_from_its_lock_without_a_resolver(tmp_path, monkeypatch):
    from provision import session
    from tests.fixtures.projects import materialize

    project = materialize("uv", tmp_path / "p")
    monkeypatch.setattr(predict_env, "run_probe", lambda *a, **k: pytest.fail("the resolver ran for a locked project"))
    prepared = session.prepare(None, project=str(project), platform="debian:12", dry_run=True)
    prediction = prepared.env.prediction
    assert prediction is not None and not prediction.error, prediction
    assert prediction.source.startswith("uv.lock")
    names = {v.name for v in prediction.verdicts}
    assert {"idna", "six", "pytest"} <= names
    assert not prediction.from_source  # pure-Python wheels in the lock: nothing builds, nothing is added
