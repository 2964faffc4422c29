"""explain against the real-failure corpus (tests/fixtures/piplogs/manifest.toml).

Every manifest entry is checked: the first (root-cause) finding's category and need,
and, for every need category, the exact fix command rendered for a table of platform
presets. The corpus size and the accuracy are written to /tmp/explain-accuracy.txt.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from invoke import Exit, MockContext

from provision.diagnose import conflicts
from provision.diagnose.explain import explain, text_report
from provision.diagnose.fixes import Machine
from provision.platforms import presets, profiles

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PIPLOGS = Path(__file__).resolve().parent / "fixtures" / "piplogs"
MANIFEST = PIPLOGS / "manifest.toml"
ENTRIES: list[dict] = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))["log"] if MANIFEST.exists() else []

#: logs whose output cannot tell their category apart, with the reason (strict xfail:
#: when the engine or the corpus changes so they pass, this table must shrink).
KNOWN_MISSES = {
    "debian11/requires-python-mismatch.log": "pip 20.3 prints exactly the same two lines for a version excluded by Requires-Python "
    "as for a version that does not exist (compare debian11/no-such-package.log); explain says no-matching-distribution "
    "and names the Requires-Python possibility in its explanation",
}


def _machine(key: str) -> Machine:
    facts = presets.load(key)
    return Machine(facts, profiles.resolve(facts).profile)


MACHINES = {k: _machine(k) for k in ("debian:12", "fedora:40", "macos:14", "alpine:3.20")}


def _text(entry: dict) -> str:
    return (PIPLOGS / entry["file"]).read_text(encoding="utf-8", errors="replace")


def _params():
    out = []
    for e in ENTRIES:
        marks = [pytest.mark.xfail(reason=KNOWN_MISSES[e["file"]], strict=True)] if e["file"] in KNOWN_MISSES else []
        out.append(pytest.param(e, id=e["file"], marks=marks))
    return out


def test_corpus_is_there():
    assert ENTRIES, f"no [[log]] entries in {MANIFEST}"
    for e in ENTRIES:
        assert (PIPLOGS / e["file"]).is_file(), e["file"]


@pytest.mark.parametrize("entry", _params())
def test_corpus_log_is_classified(entry):
    result = explain(_text(entry), MACHINES["debian:12"])
    assert result.findings, f"not recognised; considered: {result.considered}"
    first = result.findings[0]
    assert (first.category, first.need) == (entry["category"], entry.get("need") or None), [(f.category, f.need) for f in result.findings]
    assert first.evidence and first.explanation and first.fix


def test_accuracy_is_reported():
    correct, misses = 0, []
    for e in ENTRIES:
        found = explain(_text(e), MACHINES["debian:12"]).findings
        got = (found[0].category, found[0].need) if found else None
        if got == (e["category"], e.get("need") or None):
            correct += 1
        else:
            misses.append(f"{e['file']}: expected {e['category']}/{e.get('need')}, got {got}")
    report = f"explain accuracy: {correct}/{len(ENTRIES)} logs classified correctly ({100 * correct / max(1, len(ENTRIES)):.1f}%)\n"
    report += "".join(f"  miss: {m}\n" for m in misses)
    Path("/tmp/explain-accuracy.txt").write_text(report, encoding="utf-8")
    print(report)
    assert len(misses) <= len(KNOWN_MISSES)


# --- fixes per platform ---------------------------------------------------------------

#: need (or the category's need) -> exact first fix line per platform preset (not root: sudo).
FIXES = {
    "debian:12": {
        "postgres-client": "sudo apt-get install libpq-dev", "cairo": "sudo apt-get install libcairo2-dev",
        "xml": "sudo apt-get install libxml2-dev libxslt1-dev", "mysql-client": "sudo apt-get install default-libmysqlclient-dev",
        "ffi": "sudo apt-get install libffi-dev", "ssl": "sudo apt-get install libssl-dev", "jpeg": "sudo apt-get install libjpeg-dev",
        "zlib": "sudo apt-get install zlib1g-dev", "missing-compiler": "sudo apt-get install build-essential",
        "missing-python-headers": "sudo apt-get install python3-dev", "missing-rust": "sudo apt-get install rustc cargo",
        "venv-unavailable": "sudo apt-get install python3-venv",
    },
    "fedora:40": {
        "postgres-client": "sudo dnf install libpq-devel", "cairo": "sudo dnf install cairo-devel",
        "xml": "sudo dnf install libxml2-devel libxslt-devel", "mysql-client": "sudo dnf install mariadb-connector-c-devel",
        "ffi": "sudo dnf install libffi-devel", "ssl": "sudo dnf install openssl-devel", "jpeg": "sudo dnf install libjpeg-turbo-devel",
        "zlib": "sudo dnf install zlib-devel", "missing-compiler": "sudo dnf install gcc gcc-c++ make redhat-rpm-config",
        "missing-python-headers": "sudo dnf install python3-devel", "missing-rust": "sudo dnf install rust cargo",
    },
    "macos:14": {
        "postgres-client": "brew install libpq", "cairo": "brew install cairo", "xml": "brew install libxml2 libxslt",
        "mysql-client": "brew install mysql-client", "ffi": "brew install libffi", "ssl": "brew install openssl@3",
        "jpeg": "brew install jpeg", "missing-compiler": "xcode-select --install", "missing-rust": "brew install rust",
    },
    "alpine:3.20": {
        "postgres-client": "sudo apk add libpq-dev", "cairo": "sudo apk add cairo-dev", "xml": "sudo apk add libxml2-dev libxslt-dev",
        "mysql-client": "sudo apk add mariadb-connector-c-dev", "ffi": "sudo apk add libffi-dev", "ssl": "sudo apk add openssl-dev",
        "jpeg": "sudo apk add libjpeg-turbo-dev", "zlib": "sudo apk add zlib-dev", "missing-compiler": "sudo apk add build-base",
        "missing-python-headers": "sudo apk add python3-dev", "missing-rust": "sudo apk add rust cargo",
    },
}
WITH_FIX = [e for e in ENTRIES if e["file"] not in KNOWN_MISSES and (e.get("need") or any(e["category"] in t for t in FIXES.values()))]


@pytest.mark.parametrize("platform", sorted(FIXES))
@pytest.mark.parametrize("entry", WITH_FIX, ids=[e["file"] for e in WITH_FIX])
def test_fix_is_rendered_for_the_platform(entry, platform):
    key = entry.get("need") or entry["category"]
    expected = FIXES[platform].get(key)
    if expected is None:
        pytest.skip(f"{platform} maps {key} to the base system")
    first = explain(_text(entry), MACHINES[platform]).findings[0]
    assert first.fix[0] == expected
    forbidden = ("--break-system-packages", "--trusted-host", "sudo pip", "verify=False", "--no-verify")
    assert not any(bad in line for line in first.fix for bad in forbidden if "never" not in line and "do not" not in line)


def test_macos_zlib_is_in_the_sdk():
    e = next((e for e in ENTRIES if e.get("need") == "zlib"), None)
    if e is None:
        pytest.skip("no zlib log in the corpus")
    fix = explain(_text(e), MACHINES["macos:14"]).findings[0].fix
    assert "base system" in fix[0] and "brew install" not in fix[0]


def test_root_gets_no_sudo():
    from dataclasses import replace

    m = MACHINES["debian:12"]
    root = Machine(replace(m.facts, is_root=True, preset=None), m.profile)
    e = next(e for e in ENTRIES if e.get("need") == "postgres-client")
    assert explain(_text(e), root).findings[0].fix[0] == "apt-get install libpq-dev"


def test_ssl_certificate_fix_is_the_ca_bundle_never_disabling_verification():
    e = next(e for e in ENTRIES if e["category"] == "ssl-certificate")
    f = explain(_text(e), MACHINES["debian:12"]).findings[0]
    assert f.fix[0].startswith("./bootstrap --ca-bundle /path/to/corporate-ca.pem")
    assert any("export" in x.lower() and "PEM" in x for x in f.fix)
    assert not any("--trusted-host" in x and "never" not in x for x in f.fix)


def test_externally_managed_fix_is_a_venv_first():
    e = next(e for e in ENTRIES if e["category"] == "externally-managed")
    f = explain(_text(e), MACHINES["debian:12"]).findings[0]
    assert "venv" in f.fix[0]
    assert not any("--break-system-packages" in x and "do not" not in x for x in f.fix)


# --- unknown output -------------------------------------------------------------------


def test_unknown_output_is_said_plainly_with_the_lines_considered():
    text = "Collecting foo\nSomething unusual happened\nERROR: the flux capacitor is misaligned\n"
    result = explain(text, MACHINES["debian:12"])
    assert not result.recognised
    assert "ERROR: the flux capacitor is misaligned" in result.considered
    out = text_report(result)
    assert "Not recognised" in out and "flux capacitor" in out
    data = result.to_json()
    assert data["recognised"] is False and data["findings"] == [] and data["considered"]


def test_explain_task_exit_codes_and_json(tmp_path, capsys):
    from provision.cli.diagnose import explain as task

    unknown = tmp_path / "odd.log"
    unknown.write_text("all is fine, just odd\n")
    with pytest.raises(Exit) as exc:
        task(MockContext(), str(unknown), json=True, platform="debian:12")
    assert exc.value.code == 1
    assert json.loads(capsys.readouterr().out)["recognised"] is False
    e = next(e for e in ENTRIES if e.get("need") == "postgres-client")
    task(MockContext(), str(PIPLOGS / e["file"]), json=True, platform="fedora:40")  # exit 0: no Exit raised
    data = json.loads(capsys.readouterr().out)
    assert data["findings"][0]["category"] == "missing-native-library" and data["findings"][0]["need"] == "postgres-client"
    assert data["findings"][0]["fix"][0] == "sudo dnf install libpq-devel"
    with pytest.raises(Exit) as exc:
        task(MockContext(), str(tmp_path / "missing.log"))
    assert exc.value.code == 2 and "cannot read" in str(exc.value.message)


def test_explain_reads_stdin(monkeypatch, capsys):
    from provision.cli.diagnose import explain as task

    e = next(e for e in ENTRIES if e["category"] == "externally-managed")
    monkeypatch.setattr(sys, "stdin", io.StringIO(_text(e)))
    task(MockContext(), "-", platform="debian:12")
    assert "externally-managed" in capsys.readouterr().out


# --- resolution-impossible ------------------------------------------------------------

CONFLICT_LOGS = [e for e in ENTRIES if e["category"] == "resolution-impossible"]


@pytest.mark.parametrize("entry", CONFLICT_LOGS, ids=[e["file"] for e in CONFLICT_LOGS])
def test_conflict_table_from_real_logs(entry):
    text = _text(entry)
    rows = conflicts.parse(text)
    assert len(rows) >= 2
    assert any(r.who.startswith("you") for r in rows) and any(not r.who.startswith("you") for r in rows)
    analyses = conflicts.analyse(rows)
    broken = [a for a in analyses if a.agreed is None]
    assert broken, "the conflicting package's specifiers must not intersect"
    assert broken[0].relax, "at least one pin can be loosened"
    f = explain(text, MACHINES["debian:12"]).findings[0]
    table = f.details["table"]
    assert table[0].split() == ["who", "needs", "of", "package"]
    assert len(table) == 2 + len(rows)
    assert any("loosen your pin" in x for x in f.fix)


def test_conflict_of_the_corpus_scenario():
    text = ("The conflict is caused by:\n    The user requested urllib3<1.21\n"
            "    requests 2.31.0 depends on urllib3<3 and >=1.21.1\n\nTo fix this you could try to:\n")
    rows = conflicts.parse(text)
    assert [(r.who, r.package, r.spec) for r in rows] == [("you (requested)", "urllib3", "<1.21"), ("requests 2.31.0", "urllib3", "<3,>=1.21.1")]
    (a,) = conflicts.analyse(rows)
    assert a.agreed is None
    assert a.relax[0][0].who == "you (requested)" and a.relax[0][1] == ">=1.21.1, <3"


@pytest.mark.parametrize(("specs", "agreed"), [
    (["<3,>=1.21.1", ">=2"], ">=2, <3"),
    (["==1.4.*", ">=1.4.2"], ">=1.4.2, <1.5"),
    (["~=2.2", "<2.5"], ">=2.2, <2.5"),
    (["==2.0", "!=2.0"], None),
    (["==1.0", ">1.0"], None),
    (["", ">=1"], ">=1"),
])
def test_specifier_intersection(specs, agreed):
    rows = [conflicts.Requirement(f"r{i}", "pkg", s) for i, s in enumerate(specs)]
    (a,) = conflicts.analyse(rows)
    assert a.agreed == agreed


def test_pip_20_comma_format_and_constraints():
    text = ("The conflict is caused by:\n    The user requested (constraint) six==1.10\n"
            "    foo 1.0 depends on six<2,>=1.12; python_version >= \"3\"\n\n")
    rows = conflicts.parse(text)
    assert [(r.who, r.spec) for r in rows] == [("you (constraint)", "==1.10"), ("foo 1.0", "<2,>=1.12")]
    assert conflicts.analyse(rows)[0].agreed is None
