"""Explanation and fix per category, rendered for one machine's profile.

System packages always come from the profile's needs map (``profile.packages(need)``),
so ``postgres-client`` becomes ``libpq-dev`` on Debian, ``libpq-devel`` on Fedora and
``libpq`` with Homebrew. The safe choice comes first: a venv before ``--user``; never
``--break-system-packages``, ``sudo pip``, ``--trusted-host`` or turning verification off.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from ..errors import ProvisionError
from ..machine.facts import Facts
from ..platforms.profiles import Profile
from . import Finding, conflicts
from .rules import Hit

#: the human form of "install these packages" per package manager (the runner's own argv
#: adds non-interactive options; these are what a person types).
HUMAN_INSTALL: dict[str, tuple[tuple[str, ...], bool]] = {
    "apt": (("apt-get", "install"), True),
    "dnf": (("dnf", "install"), True),
    "zypper": (("zypper", "install"), True),
    "pacman": (("pacman", "-S", "--needed"), True),
    "apk": (("apk", "add"), True),
    "brew": (("brew", "install"), False),
    "winget": (("winget", "install", "--id"), False),
}

EXPORT_CA = ("Export the CA that signs the intercepted connection as PEM: in a browser open the index URL, "
             "view the certificate, select the top-most issuer and export it as 'Base-64 encoded X.509 (PEM)', "
             "or ask IT for the corporate root CA file.")


@dataclass(frozen=True)
class Machine:
    """What a fix is rendered for: facts (root or not) and the resolved profile."""

    facts: Facts
    profile: Profile | None

    @property
    def root(self) -> bool:
        return self.facts.is_root and not self.facts.preset


def install_command(machine: Machine, packages: tuple[str, ...]) -> str:
    prof = machine.profile
    if prof is None:
        return ""
    if prof.package_manager == "winget":
        return " && ".join(shlex.join(("winget", "install", "--id", p, "--exact")) for p in packages)
    argv, sudo = HUMAN_INSTALL[prof.package_manager]
    prefix = ("sudo",) if sudo and not machine.root else ()
    return shlex.join((*prefix, *argv, *packages))


def packages_fix(machine: Machine, need: str) -> list[str]:
    """The command(s) that satisfy a need here, from the needs map."""
    prof = machine.profile
    if prof is None:
        return [f"install the development package for '{need}' with your system's package manager (no profile matches this platform)"]
    try:
        pkgs = prof.packages(need)
    except ProvisionError:
        return [f"the '{prof.name}' profile has no packages for '{need}': this platform does not provide it through {prof.package_manager}"]
    if not pkgs:
        if need == "build-tools" and "xcode-command-line-tools" in prof.extra_steps:
            return ["xcode-select --install"]
        return [f"'{need}' comes with the base system on {prof.name}: reinstall or repair it (e.g. xcode-select --install on macOS)"]
    return [install_command(machine, pkgs)]


def failing_package(text: str) -> str | None:
    for pat in (r"Failed building wheel for (\S+)", r"Building wheel for (\S+) \(", r"Failed to build (\S+)",
                r"No matching distribution found for (\S+)", r"Collecting (\S+)"):
        found = re.findall(pat, text)
        if found:
            name = found[-1] if "Collecting" not in pat else found[0]
            return re.split(r"[<>=!~;\[ ]", name)[0] or None
    return None


def _retry(pkg: str | None) -> list[str]:
    p = pkg or "PACKAGE"
    return [f"then retry without the cached wheel: python -m pip install --no-cache-dir {p}  (in your venv)",
            f"for this kit's project venv, all in one: ./bootstrap install {p} --fix"]


def _headers_packages(machine: Machine, text: str) -> list[str]:
    prof, py = machine.profile, machine.facts.default_python
    m = re.search(r"-I/usr/include/python(3\.\d+)", text)
    # another OS-managed Python of this machine (deadsnakes, python3.X packages): its own -dev package
    other = m and any(p.minor == m.group(1) and p.os_managed for p in machine.facts.pythons)
    if prof and py and m and other and m.group(1) != py.minor and prof.versioned_headers:
        return [install_command(machine, (prof.versioned_headers.replace("{version}", m.group(1)).replace("{version_nodot}", m.group(1).replace(".", "")),))]
    return packages_fix(machine, "python-headers")


def render(hit: Hit, machine: Machine, text: str) -> Finding:
    """One scanner hit -> a finding with its explanation and fix for this machine."""
    c, need = hit.category, hit.need
    evidence = [ln for _, ln in hit.lines[:8]]
    f = Finding(c, need, evidence)
    pkg = failing_package(text)
    venv_cmd = "python3 -m venv .venv && .venv/bin/python -m pip install PACKAGE"
    if c == "pip-not-found":
        f.explanation = ("There is no pip for this interpreter: the command or the module is missing. "
                         "On PEP 668 systems (Debian 12+, Ubuntu 23.04+, Fedora 38+) the system Python deliberately has no pip of its own; "
                         "packages go into a virtual environment, which brings its own pip.")
        f.fix = [venv_cmd, *packages_fix(machine, "venv"), "for the project: ./bootstrap (builds the project venv with pip)",
                 "for command-line tools: pipx install TOOL"]
    elif c == "wrong-interpreter":
        moved = any("bad interpreter" in ln or "required file not found" in ln for ln in evidence)
        if moved:
            f.explanation = ("The pip script points at an interpreter that no longer exists: its first line names the path of the venv it was made in. "
                             "Venvs cannot be moved or copied; this one was moved, or its Python was removed or upgraded.")
            f.fix = ["recreate the venv where it is used: python3 -m venv --clear PATH/TO/VENV, then reinstall its requirements",
                     "always call pip through the interpreter: PATH/TO/VENV/bin/python -m pip install ..."]
        else:
            f.explanation = ("pip installed the package into one Python, and a different Python then could not import it: "
                             "`pip` on PATH belongs to another installation (or venv) than `python3`. "
                             "Calling pip as a module of the interpreter you run avoids the mismatch.")
            f.fix = ["python3 -m pip install PACKAGE   (inside the venv you run: .venv/bin/python -m pip install PACKAGE)",
                     "check which is which: python3 -c 'import sys; print(sys.executable)'; python3 -m pip --version; pip --version"]
    elif c == "externally-managed":
        f.explanation = ("The interpreter is managed by the operating system (PEP 668, EXTERNALLY-MANAGED marker): pip refuses to install into it, "
                         "including with --user, because that could break OS tools. This is intended, not a fault.")
        f.fix = [venv_cmd, *packages_fix(machine, "venv"), "for command-line tools: pipx install TOOL",
                 "for this project: ./bootstrap, then ./bootstrap install PACKAGE",
                 "do not use --break-system-packages or sudo pip"]
    elif c == "venv-unavailable":
        f.explanation = ("Python's venv module or its ensurepip (which puts pip into a new venv) is missing. "
                         "Debian and Ubuntu ship them separately from the interpreter, in python3-venv (python3.X-venv).")
        f.fix = [*packages_fix(machine, "venv"), "then recreate the venv: rm -rf PATH/TO/VENV && python3 -m venv PATH/TO/VENV"]
    elif c == "permission-denied":
        where = next((m.group(1) for ln in evidence for m in [re.search(r"Permission denied: '([^']+)'", ln)] if m), "")
        f.explanation = ("pip could not write to the installation directory"
                         + (f" ({where})" if where else "") + ": it belongs to another user or to the system. "
                         "Installing as root into someone else's environment only moves the problem.")
        f.fix = ["use a venv you own: python3 -m venv .venv && .venv/bin/python -m pip install PACKAGE",
                 "if the venv is yours but was created by root: sudo chown -R \"$USER\" PATH/TO/VENV (or recreate it as yourself)",
                 "never sudo pip"]
    elif c == "ssl-module-missing":
        f.explanation = ("This Python cannot load its ssl module, so pip cannot speak HTTPS at all. "
                         "Either the OpenSSL library the interpreter links against is missing, or the interpreter was built without OpenSSL headers.")
        fix = []
        pm = machine.profile.package_manager if machine.profile else ""
        if pm == "apt":
            fix.append(("sudo " if not machine.root else "") + "apt-get install --fix-broken   (reinstalls the OS's OpenSSL library)")
        fix += [f"for a self-built or pyenv Python: {' '.join(packages_fix(machine, 'ssl'))}, then rebuild the interpreter (pyenv install --force VERSION)",
                "check: python3 -c 'import ssl; print(ssl.OPENSSL_VERSION)'"]
        f.fix = fix
    elif c == "ssl-certificate":
        chain = " ".join(evidence)
        if "self" in chain and "signed" in chain:
            why = "a self-signed certificate is in the chain: a proxy or TLS-inspection appliance re-signs HTTPS with its own CA"
        elif "expired" in chain:
            why = "a certificate has expired: the clock is wrong or the CA bundle is stale"
        else:
            why = "the issuer is not in the CA bundle pip uses: a TLS-inspecting proxy, or a stale/missing CA bundle"
        f.explanation = (f"pip refused the package index's TLS certificate: {why}. "
                         "Verification is working as intended; the fix is to trust the right CA, never to switch verification off.")
        f.fix = ["./bootstrap --ca-bundle /path/to/corporate-ca.pem   (adds it to the system store and configures pip and pipx)",
                 EXPORT_CA,
                 "one-off: python -m pip install --cert /path/to/corporate-ca.pem PACKAGE (or export PIP_CERT=/path/to/corporate-ca.pem)",
                 "if no proxy re-signs TLS here: update the CA bundle (the ca-certificates package) and check the clock",
                 "never --trusted-host, never disable verification"]
    elif c == "network-unreachable":
        proxy = any("proxy" in ln.lower() for ln in evidence)
        dns = any("name resolution" in ln or "Name or service" in ln or "getaddrinfo" in ln for ln in evidence)
        if proxy:
            why = "the configured proxy does not accept connections (wrong host/port, or it is down)"
        elif dns:
            why = "the index host name does not resolve (no DNS, no network, or a proxy is required)"
        else:
            why = "no connection to the index could be made (offline, firewalled, or a proxy is required)"
        f.explanation = (f"pip never reached the package index: {why}. "
                         "Nothing about the package itself is wrong; the \"No matching distribution\" that follows is a consequence.")
        f.fix = ["check the proxy settings: env | grep -i proxy; python -m pip config list",
                 "set the right proxy: export HTTPS_PROXY=http://proxy.example:3128 (or proxy = ... in [tool.provision])",
                 "./bootstrap doctor   (tests DNS, the proxy and the connection to the index)"]
    elif c == "missing-compiler":
        f.explanation = ("pip had to build a package from source and no C compiler was found. "
                         f"{pkg or 'The package'} has no wheel for this platform/Python (or a source build was asked for), "
                         "so its C extension must be compiled here.")
        f.fix = [*packages_fix(machine, "build-tools"), *_retry(pkg)]
    elif c == "missing-python-headers":
        f.explanation = ("The compiler ran but could not find Python.h: the Python development headers for this interpreter are not installed. "
                         "They are needed to build any C extension from source.")
        f.fix = [*_headers_packages(machine, text), *_retry(pkg)]
    elif c == "missing-rust":
        f.explanation = (f"{pkg or 'The package'} contains Rust code and is being built from source, but no Rust toolchain (cargo/rustc) was found. "
                         "This usually means no wheel matches this platform or Python version.")
        f.fix = [*packages_fix(machine, "rust"), "or upgrade pip first so it can find a matching wheel: python -m pip install --upgrade pip",
                 *_retry(pkg)]
    elif c == "missing-native-library":
        what = f"the '{need}' development files" if need else f"a native library ({hit.subject or 'unknown'})"
        f.explanation = (f"The build of {pkg or 'the package'} needs {what}: a header, library or its configuration program "
                         f"({hit.subject or 'see the evidence'}) was not found. "
                         "The C library must be installed with the system's package manager, not with pip.")
        if need:
            f.fix = [*packages_fix(machine, need), *_retry(pkg)]
        else:
            f.fix = [f"install the package that provides {hit.subject}: e.g. apt-file search {hit.subject} / dnf provides '*/{hit.subject}'", *_retry(pkg)]
        if need == "postgres-client" and pkg and pkg.lower() == "psycopg2":
            f.fix.append("or use the prebuilt wheel instead: pip install psycopg2-binary (or psycopg[binary])")
    elif c == "python-version-mismatch":
        ignored = re.search(r"require a different python version: (.+)", text)
        f.explanation = ("The requested version declares a Requires-Python that excludes this interpreter, so pip skips it. "
                         "Either use a Python the package supports, or pick an older release of the package that supports this Python.")
        newest = _newest_allowed(text)
        f.fix = ["make the project venv with a matching Python: ./bootstrap --python 3.X (install that Python first)",
                 f"or pin a release that supports this Python{f' (newest offered: {newest})' if newest else ''}"]
        if ignored:
            f.details["ignored"] = ignored.group(1)[:500]
    elif c == "resolution-impossible":
        rows = conflicts.parse(text)
        analyses = conflicts.analyse(rows)
        f.explanation = ("pip's resolver found no set of versions that satisfies every requirement at once: "
                         "two requirements ask for incompatible versions of the same package. Nothing is installed until one of them is loosened.")
        f.details["conflicts"] = [a.to_json() for a in analyses]
        f.details["table"] = conflicts.table(rows)
        fix = []
        for a in analyses:
            if a.agreed is None:
                for r, allow in a.relax:
                    if r.who.startswith("you"):
                        fix.append(f"loosen your pin {a.package}{r.spec}: every other requirement allows {a.package} {allow}")
                    else:
                        pkg_name, _, ver = r.who.partition(" ")
                        fix.append(f"or use another release of {pkg_name} than {ver}: one whose {a.package} requirement allows {allow} "
                                   f"(this one needs {a.package}{r.spec})")
                if not a.relax:
                    fix.append(f"no single change reconciles {a.package}: loosen several pins or upgrade the packages that depend on it")
            else:
                fix.append(f"{a.package}: the requirements agree on {a.agreed}")
        fix.append("or drop your pin and let pip choose: remove the version constraint from the requirement file")
        f.fix = fix
    elif c == "no-matching-distribution":
        req = hit.subject or pkg or "PACKAGE"
        old_pip = "(from versions:" not in text
        f.explanation = (f"The index offers no release of {req} that pip can use here: the name is misspelled, the version does not exist, "
                         "or no release fits this Python/platform."
                         + (" This pip does not list the versions it saw, so a Requires-Python mismatch looks the same." if old_pip else ""))
        name = re.split(r"[<>=!~;\[ ]", req)[0]
        f.fix = [f"check the name and versions on the index: python -m pip index versions {name}   (pip >= 21.2)",
                 "check which index pip uses: python -m pip config list",
                 "if the release needs a newer Python: ./bootstrap --python 3.X"]
    return f


def _newest_allowed(text: str) -> str | None:
    m = re.search(r"\(from versions: ([^)]*)\)", text)
    if not m:
        return None
    versions = [v.strip() for v in m.group(1).split(",") if v.strip() and v.strip() != "none"]
    final = [v for v in versions if re.fullmatch(r"[\d.]+", v)]
    return final[-1] if final else None
