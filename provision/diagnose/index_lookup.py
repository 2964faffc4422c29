"""When the log alone cannot tell: what the package index says about one requirement.

pip 20.3 prints the same two lines for a release that does not exist and for one whose
Requires-Python excludes this interpreter. The index knows which: its project page (PEP 691
JSON, else PEP 503 HTML) lists every file with its ``requires-python``. This module asks it,
once, with the CA bundle pip would use and a short timeout, and judges the requirement for
the log's Python and platform (``judge``). It never raises into explain: an index that
cannot be asked (offline, timeout, TLS, 5xx, a page it cannot read) is ``Unavailable``, and
the finding stays as the log alone says.

Network: https only (an http index or redirect is refused); credentials in the index URL are
sent as a Basic header that does not follow redirects and are never shown (``shown``).
The page is fetched by an injected ``Fetch`` (``live_fetch`` here; recorded responses in tests).
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from ..redact import mask

#: seconds for one connection/read, and for the whole question (DNS has no timeout of its own)
TIMEOUT = 5.0
TOTAL = 8.0
MAX_BYTES = 32 << 20  # the largest project pages are a few MB
ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
#: sdist suffixes pip accepts; packaging parses the first two, the others are read as .tar.gz
_SDIST = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar")
#: env var that turns the lookup off (as --offline does)
OFFLINE_VAR = "PROVISION_EXPLAIN_OFFLINE"


class Unavailable(Exception):
    """The index could not be asked or did not answer readably (the reason holds no secret)."""


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes


#: (method, URL without credentials, request headers) -> the response; raises OSError & co. on failure
Fetch = Callable[[str, str, Mapping[str, str]], Response]


@dataclass(frozen=True)
class IndexFile:
    """One file of a project page: its release, Requires-Python, and wheel tags (None: an sdist)."""

    filename: str
    version: Version
    requires_python: str | None = None
    yanked: bool = False
    tags: frozenset[Tag] | None = None

    @property
    def sdist(self) -> bool:
        return self.tags is None


@dataclass(frozen=True)
class Project:
    """A project page: ``exists`` False when the index answers 404 for the name."""

    name: str
    exists: bool
    files: tuple[IndexFile, ...] = ()
    versions: tuple[Version, ...] = ()  # releases listed (PEP 700), with or without files


class Index(Protocol):
    """What explain asks: one project page, or ``Unavailable``."""

    shown: str

    def project(self, name: str) -> Project: ...


# ----------------------------------------------------------------------------- parsing


def file_of(filename: str, project: str, requires_python: str | None = None, yanked: bool = False) -> IndexFile | None:
    """An index file named ``filename`` of ``project``, or None (another project's, an egg, a name packaging rejects)."""
    try:
        if filename.endswith(".whl"):
            name, version, _, tags = parse_wheel_filename(filename)
            fitted: frozenset[Tag] | None = frozenset(tags)
        else:
            suffix = next((s for s in _SDIST if filename.endswith(s)), None)
            if suffix is None:
                return None
            name, version = parse_sdist_filename(filename[: -len(suffix)] + ".tar.gz")
            fitted = None
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    if canonicalize_name(name) != canonicalize_name(project):
        return None
    return IndexFile(filename, version, (requires_python or "").strip() or None, yanked, fitted)


def _versions(values: Iterable[object]) -> tuple[Version, ...]:
    out = []
    for v in values:
        try:
            out.append(Version(str(v)))
        except InvalidVersion:
            continue
    return tuple(out)


def parse_json(body: bytes, project: str) -> Project:
    """A PEP 691 JSON project page."""
    data = json.loads(body.decode("utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise ValueError("not a PEP 691 project page")
    files = []
    for f in data["files"]:
        if isinstance(f, dict) and isinstance(f.get("filename"), str):
            rp = f.get("requires-python")
            got = file_of(f["filename"], project, rp if isinstance(rp, str) else None, bool(f.get("yanked")))
            if got:
                files.append(got)
    versions = data.get("versions")
    return Project(canonicalize_name(project), True, tuple(files), _versions(versions) if isinstance(versions, list) else ())


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str | None, bool]] = []  # (file name, requires-python, yanked)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        a = dict(attrs)
        href = a.get("href") or ""
        name = unquote(urlsplit(href).path.rsplit("/", 1)[-1])
        if name:
            self.links.append((name, a.get("data-requires-python"), "data-yanked" in a))


def parse_html(body: bytes, project: str) -> Project:
    """A PEP 503 HTML project page (``data-requires-python``, HTML-unescaped by the parser)."""
    parser = _Anchors()
    parser.feed(body.decode("utf-8", errors="replace"))
    files = [f for name, rp, yanked in parser.links if (f := file_of(name, project, rp, yanked))]
    return Project(canonicalize_name(project), True, tuple(files))


# ----------------------------------------------------------------------------- the index


def split_credentials(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its userinfo, and the Basic header that carries it instead."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, {}
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
    return urlunsplit(parts._replace(netloc=host)), {"Authorization": f"Basic {token}"}


@dataclass
class SimpleIndex:
    """A simple-API index at ``url`` (pip's index-url, e.g. ``https://HOST/simple/``), asked through ``fetch``.

    ``url`` may be a function: the configured URL is then found only when a question is asked
    (a log with nothing to ask about costs nothing)."""

    url: str | Callable[[], str]
    fetch: Fetch
    _resolved: str | None = field(default=None, repr=False)

    def _url(self) -> str:
        if self._resolved is None:
            self._resolved = self.url() if callable(self.url) else self.url
        return self._resolved

    @property
    def shown(self) -> str:
        """The index as it may be printed: credentials masked."""
        return mask(self._resolved if self._resolved is not None else (self.url if isinstance(self.url, str) else "the configured index"))

    def project(self, name: str) -> Project:
        base = self._url()
        if not base:
            raise Unavailable("no index URL is configured and pip's default could not be read")
        if not base.lower().startswith("https://"):
            raise Unavailable(f"the index {mask(base)} is not https: the kit never asks an http index")
        plain, auth = split_credentials(base)
        root = plain.rstrip("/") + "/"
        res = self.fetch("GET", root + canonicalize_name(name) + "/", {"Accept": ACCEPT, **auth})
        if res.status == 404:
            # no such project -- if the index itself answers: a wrong index URL 404s for every name
            status = self.fetch("HEAD", root, {"Accept": ACCEPT, **auth}).status
            if status != 200:
                raise Unavailable(f"the index answers 404 for {name} and HTTP {status} for its own root: not a simple index")
            return Project(canonicalize_name(name), False)
        if res.status != 200:
            raise Unavailable(f"the index answered HTTP {res.status}")
        kind = res.content_type.split(";")[0].strip().lower()
        try:
            if kind == JSON_TYPE:
                return parse_json(res.body, name)
            if kind in ("text/html", "application/vnd.pypi.simple.v1+html"):
                return parse_html(res.body, name)
        except (ValueError, UnicodeError) as e:  # JSONDecodeError is a ValueError
            raise Unavailable(f"the index's page for {name} could not be read ({type(e).__name__})") from None
        raise Unavailable(f"the index answered with {kind or 'no content type'}, not a project page")


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to https (the credentials header is unredirected: it stays behind)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if not newurl.lower().startswith("https://"):
            raise urllib.error.URLError("the index redirected to a non-https URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _urlopen(opener: urllib.request.OpenerDirector, req: urllib.request.Request, timeout: float):  # type: ignore[no-untyped-def]
    """The one door to the network (tests close it: tests/conftest.py)."""
    return opener.open(req, timeout=timeout)


def live_fetch(cafile: str | None, timeout: float = TIMEOUT) -> Fetch:
    """urllib, verifying against ``cafile`` (the bundle pip would use), else the default trust."""

    def fetch(method: str, url: str, headers: Mapping[str, str]) -> Response:
        try:
            context = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
        except (OSError, ValueError) as e:  # ssl.SSLError is an OSError
            raise Unavailable(f"the CA bundle {cafile} cannot be used ({getattr(e, 'strerror', None) or e})") from None
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _HttpsOnlyRedirects())
        req = urllib.request.Request(url, headers={k: v for k, v in headers.items() if k != "Authorization"}, method=method)
        if "Authorization" in headers:
            req.add_unredirected_header("Authorization", headers["Authorization"])
        try:
            with _urlopen(opener, req, timeout) as r:
                body = r.read(MAX_BYTES + 1)
                if len(body) > MAX_BYTES:
                    raise Unavailable("the index's page is larger than the kit reads")
                return Response(r.status, r.headers.get("Content-Type", ""), body)
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers.get("Content-Type", "") if e.headers else "", b"")

    return fetch


def ask(index: Index, name: str, total: float | None = None) -> Project:
    """``index.project(name)`` within ``total`` seconds (default ``TOTAL``); any failure is
    ``Unavailable`` with a reason that holds no secret (never a traceback)."""
    total = TOTAL if total is None else total
    box: dict[str, Project | str] = {"out": f"no answer within {total:g}s"}

    def work() -> None:
        try:
            box["out"] = index.project(name)
        except Exception as e:  # noqa: BLE001 - the network boundary: whatever happens, the log's finding stands
            box["out"] = _reason(e)

    t = threading.Thread(target=work, name="index-lookup", daemon=True)
    t.start()
    t.join(total)
    out = box["out"]
    if isinstance(out, Project):
        return out
    raise Unavailable(mask(out))


def _reason(e: BaseException) -> str:
    """Why the index could not be asked, for people (URLs in it masked)."""
    if isinstance(e, Unavailable):
        return str(e)
    if isinstance(e, urllib.error.URLError) and isinstance(e.reason, BaseException):
        e = e.reason
    if isinstance(e, ssl.SSLCertVerificationError):
        why = getattr(e, "verify_message", None) or str(e)
        return f"TLS verification failed ({why}): pass the CA bundle pip uses (--ca-bundle, PIP_CERT)"
    return f"{type(e).__name__}: {mask(str(e))[:200]}"


# ----------------------------------------------------------------------------- where pip looks


def _pip_config(env: Mapping[str, str], home: str) -> dict[str, str]:
    """pip's index-url and cert from its config files, unmasked (they are used, never shown)."""
    import configparser

    from ..machine.pipconf import pip_config_files

    out: dict[str, str] = {}
    for f in pip_config_files(env, home):
        if not os.path.isfile(f):
            continue
        cp = configparser.RawConfigParser()
        try:
            cp.read(f, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in ("global", "install"):
            for key in ("index-url", "cert"):
                if cp.has_option(section, key):
                    out[key] = cp.get(section, key).strip()
    return out


def _pip_default() -> str:
    """pip's own default index, from pip's code (no host name is written in the kit)."""
    try:
        from pip._internal.models.index import PyPI  # type: ignore[import-not-found]

        return str(PyPI.simple_url)
    except Exception:  # noqa: BLE001 - pip absent or changed: ask the interpreter that owns pip
        from .doctor import index_url

        return index_url(env={})


def index_url(env: Mapping[str, str], home: str, kit: str | None = None) -> str:
    """The index pip would ask: PIP_INDEX_URL, else pip's config, else the kit's config, else pip's default."""
    return env.get("PIP_INDEX_URL", "").split(" ")[0] or _pip_config(env, home).get("index-url", "") or kit or _pip_default()


def ca_bundle(env: Mapping[str, str], home: str, kit: str | None = None) -> str | None:
    """The CA file pip would verify with: the kit's --ca-bundle, PIP_CERT, pip's config, REQUESTS_CA_BUNDLE; else None (default trust)."""
    return kit or env.get("PIP_CERT") or _pip_config(env, home).get("cert") or env.get("REQUESTS_CA_BUNDLE") or None


def live(env: Mapping[str, str], home: str, *, kit_index: str | None = None, kit_ca: str | None = None,
         timeout: float = TIMEOUT) -> SimpleIndex:
    """The index this machine's pip uses, asked for real (the URL is found on the first question)."""
    return SimpleIndex(lambda: index_url(env, home, kit_index), live_fetch(ca_bundle(env, home, kit_ca), timeout))


# ----------------------------------------------------------------------------- judging


@dataclass(frozen=True)
class Verdict:
    """What the index says about a requirement, for one Python and platform.

    kind: ``no-project`` | ``no-version`` | ``requires-python`` | ``no-file`` | ``available``."""

    kind: str
    says: str  # one line for people: "django 5.0 requires Python >=3.10"
    version: str | None = None
    requires_python: str | None = None
    nearest: tuple[str, ...] = ()
    newest_for_python: str | None = None


def _allows(spec: str | None, python: str | None) -> bool:
    if not spec or not python:
        return True  # no Requires-Python, or no Python to hold it against
    try:
        return SpecifierSet(spec).contains(python, prereleases=True)
    except InvalidSpecifier:
        return True  # pip ignores a Requires-Python it cannot parse


def nearest(versions: Iterable[Version], requirement: Requirement, count: int = 5) -> tuple[str, ...]:
    """Releases around the one asked for (two below, the rest above), final releases unless it is a pre-release."""
    anchor = None
    for s in requirement.specifier:
        try:
            anchor = Version(s.version)
            break
        except InvalidVersion:
            continue
    pool = sorted({v for v in versions if not v.is_prerelease or (anchor and anchor.is_prerelease)}) or sorted(set(versions))
    if anchor is None:
        return tuple(str(v) for v in pool[-count:])
    below = [v for v in pool if v < anchor][-2:]
    above = [v for v in pool if v > anchor][: count - len(below)]
    return tuple(str(v) for v in [*below, *above])


def judge(requirement: str, project: Project, python: str | None, tags: frozenset[Tag] | None, where: str = "") -> Verdict | None:
    """The index's answer for ``requirement`` on Python ``python`` (None: unknown, Requires-Python
    is not judged) whose wheels are ``tags`` (None: unknown, every wheel counts). None when the
    requirement cannot be read."""
    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return None
    name = req.name
    if not project.exists:
        return Verdict("no-project", f"there is no project named {name} on the index")
    known = sorted({f.version for f in project.files} | set(project.versions))
    exact = any(s.operator in ("==", "===") and "*" not in s.version for s in req.specifier)
    matching = sorted(req.specifier.filter(known), reverse=True)
    spec = str(req.specifier)
    if not matching:
        close = nearest(known, req)
        return Verdict("no-version", f"{name} has no release {spec or 'at all'}" + (f"; the nearest: {', '.join(close)}" if close else ""),
                       nearest=close)
    # pip skips yanked files unless the requirement pins that very release
    usable = [f for f in project.files if f.version in matching and (exact or not f.yanked)]
    for_python = [f for f in usable if _allows(f.requires_python, python)]
    newest = str(matching[0])
    if usable and not for_python:
        ofnewest = [f.requires_python for f in usable if f.version == matching[0]] or [usable[0].requires_python]
        rp = max(set(ofnewest), key=ofnewest.count) or ""
        fits = sorted({f.version for f in project.files if not f.yanked and _allows(f.requires_python, python)
                       and (f.sdist or tags is None or not f.tags.isdisjoint(tags))}, reverse=True)  # type: ignore[union-attr]
        what = f"{name} {newest}" if len(matching) == 1 else f"every release of {name} {spec}; the newest, {newest},"
        return Verdict("requires-python", f"{what} requires Python {rp} (Python {python} here)", newest, rp,
                       newest_for_python=str(fits[0]) if fits else None)
    fit = [f for f in for_python if f.sdist or tags is None or not f.tags.isdisjoint(tags)]  # type: ignore[union-attr]
    if not fit:
        if not usable:
            return Verdict("no-file", f"the index lists {name} {newest} but offers no file for it", newest)
        sample = ", ".join(sorted({f.filename for f in for_python})[:3])
        return Verdict("no-file", f"{name} {newest} has no source distribution and no wheel for {where or 'this platform'} "
                                  f"(its wheels: {sample}{', …' if len(for_python) > 3 else ''})", newest)
    best = max(fit, key=lambda f: f.version)
    return Verdict("available", f"{name} {best.version} is there" + (f" for Python {python}" if python else "")
                                + (f" on {where}" if where else "") + f" ({'a source distribution' if best.sdist else best.filename})",
                   str(best.version))
