"""``./bootstrap doctor``: every failure class that is visible without running pip.

Checks read the facts (``provision.machine.facts``) and, for the network, call injectable
functions (``Network``) so tests can play any situation. Severities: ``error`` and
``warning`` make the exit code 1; ``info`` (e.g. the EXTERNALLY-MANAGED marker, which is
intended) and ``ok`` (a passed check, shown in text mode) do not.

"python3" means the first interpreter named ``python3`` in the facts (the facts list
PATH's interpreters in PATH order), else the OS default.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from ..machine.facts import PythonInstall
from ..platforms.profiles import fill_version
from . import Finding
from . import tls as tls_mod
from .fixes import Machine, render
from .rules import Hit, LogFacts
from .text import safe

#: a pip/certifi CA bundle older than this is mentioned (info); older than STALE, a warning
CERTIFI_OLD_DAYS = 2 * 365
CERTIFI_STALE_DAYS = 4 * 365


# ----------------------------------------------------------------------------- network


def _resolve(host: str, timeout: float) -> str | None:
    """None when ``host`` resolves; else the error. getaddrinfo has no timeout: a thread."""
    box: dict[str, str | None] = {"err": "timed out"}

    def work() -> None:
        try:
            socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
            box["err"] = None
        except OSError as e:
            box["err"] = str(e)

    t = threading.Thread(target=work, daemon=True)
    t.start()
    t.join(timeout)
    return box["err"] if not t.is_alive() else f"no answer within {timeout:.0f}s"


def _connect(host: str, port: int, timeout: float) -> str | None:
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return None
    except OSError as e:
        return str(e) or type(e).__name__


def _tls(host: str, port: int, cafile: str | None, proxy: str | None) -> tls_mod.TLSResult:
    return tls_mod.probe(host, port, cafile=cafile, proxy=proxy, timeout=5.0)


@dataclass
class Network:
    """The network questions doctor asks; tests replace them."""

    resolve: Callable[[str, float], str | None] = _resolve
    connect: Callable[[str, int, float], str | None] = _connect
    tls: Callable[[str, int, str | None, str | None], tls_mod.TLSResult] = _tls
    timeout: float = 4.0


# ----------------------------------------------------------------------------- the index


def index_url(facts_ca: dict[str, str] | None = None, python: str = sys.executable, env: dict[str, str] | None = None) -> str:
    """The index pip uses: PIP_INDEX_URL, pip's config, else pip's own default (asked from
    the interpreter that owns pip; no host name is written in the kit)."""
    env = dict(os.environ if env is None else env)
    if env.get("PIP_INDEX_URL"):
        return env["PIP_INDEX_URL"]
    if facts_ca and facts_ca.get("pip:index-url"):
        return facts_ca["pip:index-url"]
    wheel = None
    if python == sys.executable:  # the kit's tool venv has no pip of its own: pip from ensurepip's wheel
        from ..machine.pyprobe import pip_command

        cmd = pip_command()
        wheel = os.path.dirname(cmd[1]) if cmd[1:2] and cmd[1] != "-m" else None
    pip = [python, os.path.join(wheel, "pip")] if wheel else [python, "-m", "pip"]
    # pip's own default, from its own code (with the wheel, if pip is there, first on sys.path)
    default = "import sys; sys.path[:0] = sys.argv[1:]; from pip._internal.models.index import PyPI; print(PyPI.simple_url)"
    for argv in ([*pip, "config", "get", "global.index-url"], [python, "-c", default, *([wheel] if wheel else [])]):
        try:
            res = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            continue
        out = res.stdout.strip().strip("'\"")
        if res.returncode == 0 and out.startswith(("https://", "http://", "file://")):
            return out
    return ""


# ----------------------------------------------------------------------------- checks


@dataclass
class Inputs:
    machine: Machine
    index: str = ""
    pip_cert: str | None = None  # the CA file pip is configured with (PIP_CERT / pip.conf), if any
    venvs: Sequence[str] = ()  # venvs whose pip/certifi bundle to look at (the project's)
    cafile: str | None = None  # verify the index against this file instead of the default trust
    now: float = field(default_factory=time.time)


def python3(m: Machine) -> PythonInstall | None:
    for p in m.facts.pythons:
        if os.path.basename(p.path) == "python3":
            return p
    return m.facts.default_python


def _finding(m: Machine, category: str, need: str | None, evidence: list[str], severity: str, explanation: str = "",
             host: str | None = None) -> Finding:
    f = render(Hit(category, need, "doctor", [(0, e) for e in evidence]), m, LogFacts(index_host=host))
    f.evidence = evidence
    f.severity = severity
    if explanation:
        f.explanation = explanation
    return f


def _ok(category: str, text: str) -> Finding:
    return Finding(category, None, [text], text, [], "ok")


def check_pip(i: Inputs) -> list[Finding]:
    m = i.machine
    py = python3(m)
    pip = m.facts.pip
    if not pip.path:
        return [_finding(m, "pip-not-found", None, ["no pip or pip3 on PATH"], "info",
                         "There is no pip command on PATH. That is fine, even intended, on PEP 668 systems: packages go into venvs, "
                         "each with its own pip (python -m pip inside the venv).")]
    if not pip.python:
        return [_ok("wrong-interpreter", f"{pip.name} on PATH: {pip.path} (a wrapper; its interpreter cannot be read without running it)")]
    if py and os.path.realpath(pip.python) != os.path.realpath(py.path):
        return [_finding(m, "wrong-interpreter", None, [f"{pip.path} runs {pip.python}", f"python3 is {py.path} ({py.version})"], "error",
                         f"`{pip.name}` installs into {pip.python}, but `python3` is {py.path}: packages installed with `{pip.name}` "
                         "are not importable from `python3`. Two installations are on PATH, and their pip and python are interleaved.")]
    return [_ok("wrong-interpreter", f"{pip.name} on PATH: {pip.path} runs {pip.python}, the same interpreter as python3")]


def check_pythons(i: Inputs) -> list[Finding]:
    pys = i.machine.facts.pythons
    if len(pys) <= 1:
        return [_ok("wrong-interpreter", f"one Python: {pys[0].path} {pys[0].version}" if pys else "no Python found on PATH")]
    f = _finding(i.machine, "wrong-interpreter", None, [f"{p.path} {p.version}" for p in pys], "info",
                 f"{len(pys)} Pythons are on this machine. That is normal, but `pip` and `python3` may then belong to different ones: "
                 "always install with `python -m pip` of the interpreter (or venv) you run.")
    f.fix = ["python3 -m pip ... (or PATH/TO/VENV/bin/python -m pip ...), never a bare pip", "./bootstrap --python 3.X picks the project venv's interpreter"]
    return [f]


def check_marker(i: Inputs) -> list[Finding]:
    py = python3(i.machine)
    if py and py.externally_managed:
        return [_finding(i.machine, "externally-managed", None, [f"{py.externally_managed} exists ({py.path} {py.version})"], "info",
                         "python3 is managed by the OS (PEP 668): pip refuses to install into it, which is intended. Use a venv for projects "
                         "and pipx for command-line tools.")]
    return [_ok("externally-managed", f"{py.path}: no EXTERNALLY-MANAGED marker" if py else "no python3")]


def check_venv(i: Inputs) -> list[Finding]:
    m = i.machine
    py = python3(m)
    if py is None:
        return []
    missing = [n for n, have in (("venv", py.has_venv), ("ensurepip", py.has_ensurepip)) if not have]
    if missing:
        f = _finding(m, "venv-unavailable", None, [f"{py.path} {py.version}: no {' and no '.join(missing)}"], "error")
        if m.profile and py.os_managed and m.facts.default_python and py.minor != m.facts.default_python.minor and m.profile.versioned_venv:
            from .fixes import install_command

            f.fix[0] = install_command(m, (fill_version(m.profile.versioned_venv, py.minor),))
        return [f]
    return [_ok("venv-unavailable", f"{py.path}: venv and ensurepip available")]


def check_compiler(i: Inputs) -> list[Finding]:
    if not i.machine.facts.compiler:
        return [_finding(i.machine, "missing-compiler", None, ["no cc, gcc or clang on PATH"], "warning",
                         "There is no C compiler: any package without a wheel for this platform fails to build from source.")]
    return [_ok("missing-compiler", f"C compiler: {i.machine.facts.compiler}")]


def check_headers(i: Inputs) -> list[Finding]:
    py = python3(i.machine)
    if py is None:
        return []
    if not py.headers:
        return [_finding(i.machine, "missing-python-headers", None, [f"no Python.h for {py.path} {py.version}"], "warning",
                         f"The development headers of Python {py.minor} are not installed: building any C extension from source fails.")]
    return [_ok("missing-python-headers", f"Python.h: {py.headers}")]


def check_ssl(i: Inputs) -> list[Finding]:
    py = python3(i.machine)
    if py is None:
        return []
    out = []
    if not py.has_ssl:
        out.append(_finding(i.machine, "ssl-module-missing", None, [f"{py.path}: import ssl fails"], "error"))
    else:
        out.append(_ok("ssl-module-missing", f"ssl module: {py.openssl or 'available'}"))
        if py.cafile and not py.cafile_exists:
            out.append(_finding(i.machine, "ssl-certificate", None, [f"the default CA file {py.cafile} does not exist"], "error",
                                "Python's default CA bundle is missing, so no HTTPS certificate can be verified (pip uses its own bundle, "
                                "but urllib, requests with system certs and build back-ends do not). The ca-certificates package is missing or broken."))
            pm = i.machine.profile.package_manager if i.machine.profile else ""
            if pm in ("apt", "dnf", "zypper", "apk", "pacman"):
                from .fixes import install_command

                out[-1].fix.insert(0, install_command(i.machine, ("ca-certificates",)))
    return out


def _certifi_version(site: Path) -> tuple[str, str] | None:
    for init in (site / "pip" / "_vendor" / "certifi" / "__init__.py", site / "certifi" / "__init__.py"):
        try:
            m = re.search(r"__version__\s*=\s*['\"]([\d.]+)['\"]", init.read_text(encoding="utf-8"))
        except OSError:
            continue
        if m:
            return str(init.parent), m.group(1)
    return None


def check_certifi(i: Inputs, sites: Sequence[str]) -> list[Finding]:
    out = []
    for site in sites:
        found = _certifi_version(Path(site))
        if not found:
            continue
        where, version = found
        try:
            stamp = time.mktime(time.strptime(".".join(version.split(".")[:3]), "%Y.%m.%d"))
        except ValueError:
            continue
        age = (i.now - stamp) / 86400
        if age > CERTIFI_OLD_DAYS:
            severity = "warning" if age > CERTIFI_STALE_DAYS else "info"
            f = _finding(i.machine, "ssl-certificate", None, [f"{where}: certifi {version}, {age / 365:.1f} years old"], severity,
                         "A CA bundle pip uses is old: certificates issued by newer roots fail to verify, and removed roots still pass.")
            f.fix = [f"upgrade it in that environment ({site}): python -m pip install --upgrade pip certifi"]
            out.append(f)
        else:
            out.append(_ok("ssl-certificate", f"{where}: certifi {version}"))
    return out


def _split_proxy(url: str) -> tuple[str, int] | None:
    p = urlparse(url if "://" in url else f"http://{url}")
    return (p.hostname, p.port or 8080) if p.hostname else None


def check_network(i: Inputs, net: Network) -> list[Finding]:
    m = i.machine
    parsed = urlparse(i.index) if i.index else None
    host = parsed.hostname if parsed else None
    port = (parsed.port if parsed else None) or 443
    if not host or i.index.startswith("file:"):
        return [_ok("network-unreachable", f"package index {i.index or 'unknown'}: not a network index, not checked")]
    out: list[Finding] = []
    proxy = m.facts.proxies.get("HTTPS_PROXY") or m.facts.proxies.get("ALL_PROXY")
    if proxy:
        hp = _split_proxy(proxy)
        err = net.connect(hp[0], hp[1], net.timeout) if hp else "not a proxy URL"
        if err:
            f = _finding(m, "network-unreachable", None, [f"HTTPS_PROXY={proxy}", f"connect {hp[0] if hp else proxy}:{hp[1] if hp else ''}: {err}"], "error",
                         "A proxy is configured, but it does not accept connections: every pip download goes to it and fails.")
            f.fix = ["fix or unset the proxy: export HTTPS_PROXY=http://the-right-proxy:PORT (or unset HTTPS_PROXY HTTP_PROXY ALL_PROXY)",
                     "check pip's own setting too: python -m pip config list (proxy = ...)"]
            return [f]
        out.append(_ok("network-unreachable", f"proxy {proxy} accepts connections"))
    else:
        err = net.resolve(host, net.timeout)
        if err:
            f = _finding(m, "network-unreachable", None, [f"resolve {host}: {err}"], "error",
                         f"The package index's host name {host} does not resolve: no DNS, no network, or this network only works through a proxy.",
                         host=host)
            return [f]
        err = net.connect(host, port, net.timeout)
        if err:
            f = _finding(m, "network-unreachable", None, [f"connect {host}:{port}: {err}", "no proxy is configured (HTTPS_PROXY unset)"], "error",
                         f"There is no direct route to {host}:{port}. If this network requires a proxy, pip needs to be told about it.")
            f.fix = ["set the proxy: export HTTPS_PROXY=http://proxy.example:3128 (or proxy = ... in [tool.provision])", *f.fix[2:]]
            return [f]
        out.append(_ok("network-unreachable", f"{host}:{port} reachable"))
    res = net.tls(host, port, i.cafile, proxy)
    if res.verified:
        out.append(_ok("ssl-certificate", f"TLS to {host} verified against {i.cafile or 'the default trust'} (issuer: {res.issuer or '?'})"))
        return out
    if not res.cert_error:
        out.append(_finding(m, "network-unreachable", None, [f"TLS to {host}: {res.error}"], "error"))
        return out
    evidence = [f"TLS to {host}:{port}: {res.error}", f"presented certificate issued by: {res.issuer or 'unknown'}"]
    severity, extra = "error", ""
    if i.pip_cert and i.pip_cert != i.cafile:
        again = net.tls(host, port, i.pip_cert, proxy)
        if again.verified:
            severity = "warning"
            evidence.append(f"pip is configured with {i.pip_cert}, which does verify it")
            extra = (" pip itself is configured with a bundle that trusts it, but the system trust store does not: "
                     "other tools, build back-ends and new venvs will fail.")
    f = _finding(m, "ssl-certificate", None, evidence, severity,
                 f"The certificate {host} presents does not verify against this machine's default trust; it is issued by "
                 f"'{res.issuer or 'an unknown issuer'}', which looks like TLS interception (a corporate proxy re-signing HTTPS)."
                 + extra)
    f.details["issuer"] = res.issuer
    out.append(f)
    return out


def site_dirs(i: Inputs) -> list[str]:
    """site-packages of pip's interpreter and of the venvs named, for certifi's bundle."""
    out = []
    pip_py = i.machine.facts.pip.python
    for p in i.machine.facts.pythons:
        if p.purelib and (pip_py and os.path.realpath(pip_py) == os.path.realpath(p.path)):
            out.append(p.purelib)
    for v in i.venvs:
        out += [str(x) for x in sorted(Path(v).glob("lib/python3*/site-packages"))]
        out += [str(x) for x in sorted(Path(v).glob("Lib/site-packages"))]
    return list(dict.fromkeys(out))


def run(i: Inputs, net: Network | None = None, *, network: bool = True) -> list[Finding]:
    net = net or Network()
    out: list[Finding] = []
    for check in (check_pip, check_pythons, check_marker, check_venv, check_compiler, check_headers, check_ssl):
        out += check(i)
    out += check_certifi(i, site_dirs(i))
    if network:
        out += check_network(i, net)
    return out


def failed(findings: Sequence[Finding]) -> bool:
    return any(f.severity in ("error", "warning") for f in findings)


MARK = {"error": "FAIL", "warning": "WARN", "info": "info", "ok": "ok"}


def text_report(findings: Sequence[Finding], header: str) -> str:
    lines = [header]
    order = {"error": 0, "warning": 1, "info": 2, "ok": 3}
    for f in sorted(findings, key=lambda f: (order.get(f.severity, 9), f.rank)):
        if f.severity == "ok":
            lines.append(f"[ok]   {f.evidence[0] if f.evidence else f.category}")
            continue
        lines.append(f"[{MARK[f.severity]}] {f.category}{f' ({f.need})' if f.need else ''}: {f.explanation}")
        lines += [f"         | {e}" for e in f.evidence]
        lines += [f"         fix: {x}" for x in f.fix]
    bad = [f for f in findings if f.severity in ("error", "warning")]
    lines.append(f"doctor: {len(bad)} problem(s)" if bad else "doctor: healthy")
    # paths, proxy values and a certificate's issuer name come from outside: neutralised
    return safe("\n".join(lines))
