"""explain asks the package index when the log cannot tell (provision/diagnose/index_lookup.py).

The index's answers are the recorded ones (tests/fixtures/index/, see capture.py there) or
small pages built here for what no real project shows; nothing reaches the network
(tests/conftest.py closes the door). Each refinement branch, each way the lookup can fail
(the finding then stays as the log alone says, with no traceback), and credentials are tables.
"""

from __future__ import annotations

import json
import socket
import ssl
import urllib.error

import pytest
from fakes import RECORDED_INDEX, RecordedFetch, recorded_index
from invoke import MockContext

from provision.diagnose import index_lookup as idx
from provision.diagnose.explain import explain, text_report
from provision.diagnose.fixes import Machine
from provision.platforms import presets, profiles

_NOMATCH = "ERROR: Could not find a version that satisfies the requirement {r}\nERROR: No matching distribution found for {r}\n"
_PIP_VERSION = "Using pip 20.3.4 from /tmp/v/lib/python3.9/site-packages/pip (python 3.9)\n"


def machine_for(key: str) -> Machine:
    facts = presets.load(key)
    return Machine(facts, profiles.resolve(facts).profile)


def first_line(f) -> str:
    return " ".join(f.commands[f.fix[0]]) if f.fix[0] in f.commands else f.fix[0]


# --- each refinement -------------------------------------------------------------------

#: (what, log, platform, HTML pages only, category, index verdict, text in the explanation, first fix line (prefix))
REFINED = [
    ("pinned release excluded by Requires-Python (Debian 11's 3.9)", _NOMATCH.format(r="django==5.0"), "debian:11", False,
     "python-version-mismatch", "requires-python", "django 5.0 requires Python >=3.10", "./bootstrap --python 3.10"),
    ("the same from the HTML page (no PEP 691 JSON)", _NOMATCH.format(r="django==5.0"), "debian:11", True,
     "python-version-mismatch", "requires-python", "django 5.0 requires Python >=3.10", "./bootstrap --python 3.10"),
    ("the log's own Python wins over the platform's", _PIP_VERSION + _NOMATCH.format(r="django==5.0"), "debian:12", False,
     "python-version-mismatch", "requires-python", "(Python 3.9 here)", "./bootstrap --python 3.10"),
    ("a range no release for this Python satisfies", _NOMATCH.format(r="django>=5,<5.1"), "debian:11", False,
     "python-version-mismatch", "requires-python", "every release of django <5.1,>=5; the newest, 5.0.1, requires Python >=3.10",
     "./bootstrap --python 3.10"),
    ("the release is there for this Python (Debian 12's 3.11)", _NOMATCH.format(r="django==5.0"), "debian:12", False,
     "no-matching-distribution", "available", "django 5.0 is there for Python 3.11.2 on cp311 manylinux_2_36_x86_64",
     "explain the log for the machine it comes from"),
    ("the version does not exist: the nearest are named", _NOMATCH.format(r="requests==0.0.999"), "debian:11", False,
     "no-matching-distribution", "no-version", "requests has no release ==0.0.999; the nearest: 0.0.1, 0.2.0, 0.2.1, 0.2.2, 0.2.3",
     "pin a release that exists: 0.0.1, 0.2.0"),
    ("the name does not exist (404, the index's root answers)", _NOMATCH.format(r="no-such-package-xyz-provision"), "debian:13", False,
     "no-matching-distribution", "no-project", "there is no project named no-such-package-xyz-provision on the index",
     "check the spelling of 'no-such-package-xyz-provision'"),
]


@pytest.mark.parametrize(("what", "log", "platform", "html", "category", "kind", "says", "fix"), REFINED, ids=[x[0] for x in REFINED])
def test_the_index_refines_the_finding(what, log, platform, html, category, kind, says, fix):
    result = explain(log, machine_for(platform), index=recorded_index(html=html))
    f = result.findings[0]
    assert (f.category, f.details["index"]["kind"]) == (category, kind), f.details
    assert says in f.explanation and "the index says: " in f.explanation.lower(), f.explanation
    assert first_line(f).startswith(fix), f.fix
    assert result.index and "asked the package index" in result.index
    assert "index: asked the package index" in text_report(result)
    assert not any("--trusted-host" in x or "-v" in x.split() for x in f.fix), f.fix


def _page(*files: tuple[str, str | None]) -> bytes:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "fastpkg",
                       "files": [{"filename": n, "url": f"https://<files-host>/{n}", "hashes": {}, "requires-python": rp} for n, rp in files]}).encode()


def _serving(body: bytes, status: int = 200, kind: str = idx.JSON_TYPE):
    return lambda method, url, headers: idx.Response(status, kind, body)


#: (what, the index's page, platform, verdict, text in the explanation)
BUILT = [
    ("only wheels for other platforms, no sdist", _page(("fastpkg-1.0-cp39-cp39-win_amd64.whl", None),
                                                        ("fastpkg-1.0-cp39-cp39-macosx_11_0_arm64.whl", None)),
     "debian:11", "no-file", "fastpkg 1.0 has no source distribution and no wheel for cp39 manylinux_2_31_x86_64"),
    ("a manylinux wheel newer than the platform's glibc", _page(("fastpkg-1.0-cp39-cp39-manylinux_2_34_x86_64.whl", None)),
     "debian:11", "no-file", "no wheel for cp39 manylinux_2_31_x86_64"),
    ("a musl wheel on glibc, a glibc wheel on musl", _page(("fastpkg-1.0-cp312-cp312-musllinux_1_2_x86_64.whl", None)),
     "debian:12", "no-file", "its wheels: fastpkg-1.0-cp312-cp312-musllinux_1_2_x86_64.whl"),
    ("an sdist builds anywhere", _page(("fastpkg-1.0-cp39-cp39-win_amd64.whl", None), ("fastpkg-1.0.tar.gz", None)),
     "debian:11", "available", "a source distribution"),
    ("a fitting manylinux wheel", _page(("fastpkg-1.0-cp39-cp39-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", None)),
     "debian:11", "available", "fastpkg 1.0 is there for Python 3.9.2"),
    ("only pre-releases: ==1.0 has none", _page(("fastpkg-1.0rc1.tar.gz", None)), "debian:11", "no-version", "the nearest: 1.0rc1"),
]


@pytest.mark.parametrize(("what", "page", "platform", "kind", "says"), BUILT, ids=[x[0] for x in BUILT])
def test_verdicts_no_recording_shows(what, page, platform, kind, says):
    index = idx.SimpleIndex(RECORDED_INDEX, _serving(page))
    f = explain(_NOMATCH.format(r="fastpkg==1.0"), machine_for(platform), index=index).findings[0]
    assert (f.category, f.details["index"]["kind"]) == ("no-matching-distribution", kind), f.details
    assert says in f.explanation, f.explanation


def test_yanked_files_count_only_for_an_exact_pin():
    page = json.dumps({"name": "fastpkg", "files": [{"filename": "fastpkg-1.0.tar.gz", "yanked": "broken"}]}).encode()
    project = idx.parse_json(page, "fastpkg")
    assert idx.judge("fastpkg==1.0", project, "3.9", None).kind == "available"
    assert idx.judge("fastpkg>=1", project, "3.9", None).kind == "no-file"


# --- when the index cannot be asked: the log's finding, unchanged, no traceback ------------


def _raising(exc: BaseException):
    def fetch(method, url, headers):
        raise exc
    return fetch


def _slow(method, url, headers):
    import time

    time.sleep(2)
    raise AssertionError("not reached within the bound")


#: (what, fetch, words in the note)
FAILURES = [
    ("timeout", _raising(socket.timeout("timed out")), "timed out"),
    ("TLS verification", _raising(urllib.error.URLError(ssl.SSLCertVerificationError(1, "certificate verify failed"))), "TLS verification"),
    ("DNS", _raising(urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution"))), "name resolution"),
    ("connection refused", _raising(ConnectionRefusedError(111, "Connection refused")), "Connection refused"),
    ("HTTP 500", _serving(b"oops", 500, "text/plain"), "HTTP 500"),
    ("HTTP 401 (credentials refused)", _serving(b"", 401, "text/plain"), "HTTP 401"),
    ("404 from a wrong index URL (its root 404s too)", _serving(b"", 404, "text/html"), "not a simple index"),
    ("bad JSON", _serving(b"{not json"), "could not be read"),
    ("JSON that is no project page", _serving(b'{"files": 3}'), "could not be read"),
    ("not UTF-8", _serving(b"\xff\xfe\x00"), "could not be read"),
    ("a login page instead of the index", _serving(b"<html>sign in</html>", 200, "application/xhtml+xml"), "not a project page"),
    ("a CA bundle that cannot be read", idx.live_fetch("/nonexistent/ca.pem"), "the CA bundle /nonexistent/ca.pem cannot be used"),
    ("anything else that goes wrong", _raising(RuntimeError("surprise")), "RuntimeError"),
    ("no answer within the bound", _slow, "no answer within"),
]


@pytest.mark.parametrize(("what", "fetch", "note"), FAILURES, ids=[x[0] for x in FAILURES])
def test_a_failed_lookup_leaves_the_finding_as_the_log_says(what, fetch, note, monkeypatch, capsys):
    monkeypatch.setattr(idx, "TOTAL", 0.5)
    log, where = _NOMATCH.format(r="django==5.0"), machine_for("debian:11")
    alone = explain(log, where)
    result = explain(log, where, index=idx.SimpleIndex(RECORDED_INDEX, fetch))
    assert [f.to_json() for f in result.findings] == [f.to_json() for f in alone.findings]
    assert result.index and "could not be asked" in result.index and note in result.index, result.index
    out = text_report(result)
    assert "Traceback" not in out and "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(("url", "note"), [
    ("http://<index-host>/simple/", "not https"),
    ("", "no index URL"),
])
def test_an_http_or_missing_index_is_not_asked(url, note):
    fetch = RecordedFetch()
    result = explain(_NOMATCH.format(r="django==5.0"), machine_for("debian:11"), index=idx.SimpleIndex(url, fetch))
    assert result.findings[0].category == "no-matching-distribution" and note in (result.index or "")
    assert fetch.asked == []


def test_nothing_is_asked_when_the_log_tells():
    fetch = RecordedFetch()
    text = "src/x.c:1:10: fatal error: ffi.h: No such file or directory\n" + _NOMATCH.format(r="cffi")
    result = explain(text, machine_for("debian:12"), index=idx.SimpleIndex(RECORDED_INDEX, fetch))
    assert result.findings[0].category == "missing-native-library" and result.index is None and fetch.asked == []


# --- credentials ---------------------------------------------------------------------------

TOKEN = "s3cr3t-t0ken"


@pytest.mark.parametrize("fetch", [RecordedFetch(), _raising(urllib.error.URLError(f"bad host https://user:{TOKEN}@<index-host>/"))],
                         ids=["answered", "failed"])
def test_a_token_in_the_index_url_is_sent_as_a_header_and_never_shown(fetch, monkeypatch):
    monkeypatch.setattr(idx, "TOTAL", 0.5)
    url = f"https://user:{TOKEN}@<index-host>/simple/"
    result = explain(_NOMATCH.format(r="django==5.0"), machine_for("debian:11"), index=idx.SimpleIndex(url, fetch))
    shown = text_report(result) + json.dumps(result.to_json())
    assert TOKEN not in shown and "***" in shown, shown
    if isinstance(fetch, RecordedFetch):
        method, asked, headers = fetch.asked[0]
        assert asked == "https://<index-host>/simple/django/" and TOKEN not in asked
        assert headers["Authorization"].startswith("Basic ") and result.findings[0].category == "python-version-mismatch"


def test_the_credentials_header_does_not_follow_a_redirect(monkeypatch):
    """live_fetch: the URL without userinfo, the header unredirected, the CA file verified with."""
    seen = {}

    def door(opener, req, timeout):
        seen.update(url=req.full_url, redirected=dict(req.headers), once=dict(req.unredirected_hdrs), timeout=timeout, method=req.get_method())
        raise urllib.error.URLError("stop here")

    monkeypatch.setattr(idx, "_urlopen", door)
    url, auth = idx.split_credentials(f"https://user:{TOKEN}@<index-host>/simple/")
    with pytest.raises(urllib.error.URLError):
        idx.live_fetch(None, timeout=5)("GET", url + "django/", {"Accept": idx.ACCEPT, **auth})
    assert seen["url"] == "https://<index-host>/simple/django/" and seen["timeout"] == 5 and seen["method"] == "GET"
    assert "Authorization" in seen["once"] and "Authorization" not in seen["redirected"]


def test_a_redirect_to_http_is_refused():
    handler = idx._HttpsOnlyRedirects()
    req = urllib.request.Request("https://<index-host>/simple/django/")
    with pytest.raises(urllib.error.URLError):
        handler.redirect_request(req, None, 302, "Found", {}, "http://elsewhere/simple/django/")


# --- where pip looks -------------------------------------------------------------------------

#: (what, environment, pip.conf, the kit's values, index URL, CA file)
WHERE = [
    ("PIP_INDEX_URL and PIP_CERT", {"PIP_INDEX_URL": "https://a/simple", "PIP_CERT": "/env.pem"}, "", (None, None), "https://a/simple", "/env.pem"),
    ("pip.conf", {}, "[global]\nindex-url = https://b/simple\ncert = /conf.pem\n", (None, None), "https://b/simple", "/conf.pem"),
    ("[install] over [global]", {}, "[global]\nindex-url = https://b/simple\n[install]\nindex-url = https://c/simple\n", (None, None),
     "https://c/simple", None),
    ("the kit's config, then --ca-bundle first", {"PIP_CERT": "/env.pem"}, "", ("https://k/simple", "/kit.pem"), "https://k/simple", "/kit.pem"),
    ("REQUESTS_CA_BUNDLE last", {"REQUESTS_CA_BUNDLE": "/req.pem"}, "", (None, None), "DEFAULT", "/req.pem"),
]


@pytest.mark.parametrize(("what", "env", "conf", "kit", "url", "ca"), WHERE, ids=[x[0] for x in WHERE])
def test_the_index_and_ca_bundle_pip_would_use(what, env, conf, kit, url, ca, tmp_path, monkeypatch):
    from provision.machine import pipconf

    monkeypatch.setattr(idx, "_pip_default", lambda: "DEFAULT")
    cfg = tmp_path / "pip.conf"
    cfg.write_text(conf)
    monkeypatch.setattr(pipconf, "pip_config_files", lambda env, home: [str(cfg)])  # not this machine's /etc/pip.conf
    assert idx.index_url(env, str(tmp_path), kit[0]) == url
    assert idx.ca_bundle(env, str(tmp_path), kit[1]) == ca


# --- the task ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("offline", "env"), [(True, "0"), (False, "1")], ids=["--offline", "PROVISION_EXPLAIN_OFFLINE=1"])
def test_the_task_can_be_kept_offline(offline, env, monkeypatch, tmp_path, capsys):
    from provision.cli import diagnose

    monkeypatch.setenv(idx.OFFLINE_VAR, env)
    asked = []
    monkeypatch.setattr(idx, "live", lambda *a, **k: asked.append(a) or recorded_index())
    log = tmp_path / "pip.log"
    log.write_text(_NOMATCH.format(r="django==5.0"))
    diagnose.explain(MockContext(), str(log), json=True, platform="debian:11", offline=offline)
    data = json.loads(capsys.readouterr().out)
    assert data["findings"][0]["category"] == "no-matching-distribution" and data["index"] is None and asked == []


def test_the_task_asks_by_default(monkeypatch, tmp_path, capsys):
    from provision.cli import diagnose

    monkeypatch.setenv(idx.OFFLINE_VAR, "0")
    monkeypatch.setattr(idx, "live", lambda *a, **k: recorded_index())
    log = tmp_path / "pip.log"
    log.write_text(_NOMATCH.format(r="django==5.0"))
    diagnose.explain(MockContext(), str(log), platform="debian:11")
    out = capsys.readouterr().out
    assert "index: asked the package index https://<index-host>/simple/ about django (Python 3.9.2, debian:11's default)" in out
    assert "1. python-version-mismatch" in out and "The index says: django 5.0 requires Python >=3.10" in out
    assert "$ ./bootstrap --python 3.10" in out
