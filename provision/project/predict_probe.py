"""The resolver probe: pip's own answer to "what would be installed", without installing.

``pip install --dry-run --ignore-installed --report FILE`` (pip >= 22.2) run by the TARGET
interpreter, from ensurepip's pip wheel (or, when that pip is older, from the newest pip
wheel, fetched once into the kit's cache by the old pip), with the project's CA, index
and proxy (never ``--trusted-host``). With ``--dry-run`` and ``--report`` pip does not
refuse an externally managed interpreter (pip >= 23.0.1; measured on Debian 12's
/usr/bin/python3); should an older pip refuse, it is run again with ``--target`` into a
temporary directory.

To resolve, pip prepares the metadata of every sdist, and some sdists (psycopg2's
pg_config, pycurl's curl-config, mysqlclient's pkg-config) already need the native library
for that. Such a failure names the sdist; it is then known to build from source here, and
a stand-in wheel with its name and version (and no dependencies) lets the resolver go on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import InvalidSdistFilename, canonicalize_name, parse_sdist_filename
from packaging.version import InvalidVersion, Version

from . import predict

MIN_PIP = Version("22.2")
RECIPE = 1  # bump when what the probe records changes (the cache key includes it)
PIP_QUIET = ("--disable-pip-version-check", "--no-input", "--progress-bar", "off")
MAX_STANDINS = 25
SDIST = re.compile(r"(?:Downloading|Using cached|Processing|File was already downloaded|Obtaining)\s+(\S+?(?:\.tar\.gz|\.zip|\.tar\.bz2|\.tgz|\.tar\.xz))\b")
Run = Callable[[Sequence[str], Mapping[str, str]], "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class PipInputs:
    """What pip is asked to install: the same arguments the venv step passes."""

    requirements: tuple[str, ...] = ()  # requirement files
    specifiers: tuple[str, ...] = ()  # requirements given as such (a dependency group's)
    editable: str = ""  # "-e" target, e.g. "/path/project[dev,test]"
    constraints: tuple[str, ...] = ()
    cert: str | None = None  # a PEM bundle (already complete: public CAs + the corporate one)
    index_url: str | None = None
    proxy: str | None = None
    cwd: str | None = None  # pip reads relative paths in requirement files ("-e .") against its working directory

    def argv(self) -> list[str]:
        out: list[str] = []
        for r in self.requirements:
            out += ["-r", r]
        out += list(self.specifiers)
        for c in self.constraints:
            out += ["-c", c]
        if self.editable:
            out += ["-e", self.editable]
        if self.cert:
            out += ["--cert", self.cert]
        if self.index_url:
            out += ["--index-url", self.index_url]
        if self.proxy:
            out += ["--proxy", self.proxy]
        return out

    def environment(self) -> dict[str, str]:
        """The same settings for pip's own subprocesses: the one that installs an sdist's build
        requirements (setuptools>=69 ...) reads the environment and config files, not our argv."""
        out = {"PIP_CERT": self.cert, "PIP_INDEX_URL": self.index_url, "PIP_PROXY": self.proxy}
        return {k: v for k, v in out.items() if v}

    @property
    def empty(self) -> bool:
        return not (self.requirements or self.specifiers or self.editable)


@dataclass
class ProbeResult:
    candidates: list[predict.Candidate] = field(default_factory=list)
    error: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _run(argv: Sequence[str], env: Mapping[str, str], cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
                          env=dict(env), check=False, cwd=cwd)


def pip_version(wheel: str) -> Version | None:
    m = re.match(r"pip-([^-]+)-", os.path.basename(wheel))
    try:
        return Version(m.group(1)) if m else None
    except InvalidVersion:
        return None


def distro_pip_wheel(dirs: Sequence[str] = ("/usr/share/python-wheels", "/usr/share/python3-wheels")) -> str | None:
    """The distribution's own pip wheel (Debian 11's ensurepip finds it there without WHEEL_PKG_DIR)."""
    found = sorted((str(p) for d in dirs for p in Path(d).glob("pip-*.whl")), key=lambda w: pip_version(w) or Version("0"))
    return found[-1] if found else None


def cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("provision")) / "predict"


def newer_pip(python: str, old_wheel: str, inputs: PipInputs, env: Mapping[str, str], run: Run) -> tuple[str | None, str]:
    """A pip wheel >= 22.2 for ``python``: the cached one, else downloaded once by the old pip."""
    where = cache_dir() / "pip"
    found = sorted((p for p in where.glob("pip-*.whl") if (v := pip_version(str(p))) and v >= MIN_PIP), key=lambda p: pip_version(str(p)))
    if found:
        return str(found[-1]), ""
    where.mkdir(parents=True, exist_ok=True)
    net = [a for a in inputs.argv() if a not in ("-r", "-c", "-e")
           and a not in (*inputs.requirements, *inputs.specifiers, *inputs.constraints, inputs.editable)]
    res = run([python, os.path.join(old_wheel, "pip"), "download", *PIP_QUIET, "--quiet", "--no-deps", "--only-binary", ":all:",
               "--dest", str(where), *net, "pip"], env)
    found = sorted(where.glob("pip-*.whl"), key=lambda p: pip_version(str(p)) or Version("0"))
    if res.returncode != 0 or not found:
        return None, f"could not fetch a pip >= {MIN_PIP} for the prediction: {last_error(res.stdout + res.stderr)}"
    return str(found[-1]), ""


def last_error(output: str) -> str:
    """The line that says what went wrong, for a one-line reason."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    for pat in ("ResolutionImpossible", "No matching distribution", "Could not find a version", "CERTIFICATE_VERIFY_FAILED",
                "ERROR:", "error:", "Error"):
        hits = [ln for ln in lines if pat in ln]
        if hits:
            return hits[-1][:300]
    return lines[-1][:300] if lines else "no output"


def failed_sdist(output: str) -> tuple[str, str] | None:
    """(name, version) of the sdist whose metadata step failed, from pip's normal output."""
    if "did not run successfully" not in output and "metadata-generation-failed" not in output:
        return None  # not a failed build step of an sdist (metadata, or its build requirements)
    cut = output.find("did not run successfully")
    head = output[: cut if cut > 0 else len(output)]
    hits = SDIST.findall(head)
    if not hits:
        return None
    try:
        name, version = parse_sdist_filename(os.path.basename(hits[-1].split("#")[0]))
    except (InvalidSdistFilename, InvalidVersion):
        return None
    return str(name), str(version)


def evidence(output: str) -> str:
    """The most telling line of a failed metadata step (a missing tool or header)."""
    for pat in (r"[\w./+-]+: (?:command )?not found", r"[\w-]+ executable not found", r"No such file or directory: '[^']+'", r"fatal error: \S+",
                r"[\w-]+ (?:executable )?not found", r"Package '?[\w.+-]+'? was not found", r"Could not run \S+"):
        m = re.findall(pat, output)
        if m:
            return m[-1][:120]
    return ""


STANDIN_LOCAL = "provision.standin"
STANDIN_BACKEND = """\
import os


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    with open("PKG-INFO", encoding="utf-8") as f:
        meta = f.read()
    name = [ln.split(": ", 1)[1] for ln in meta.splitlines() if ln.startswith("Name: ")][0]
    version = [ln.split(": ", 1)[1] for ln in meta.splitlines() if ln.startswith("Version: ")][0]
    info = name.replace("-", "_") + "-" + version + ".dist-info"
    os.makedirs(os.path.join(metadata_directory, info))
    with open(os.path.join(metadata_directory, info, "METADATA"), "w", encoding="utf-8") as f:
        f.write(meta)
    return info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("a stand-in of the kit's prediction is never built")
"""


def standin_sdist(directory: Path, name: str, version: str) -> Path:
    """An sdist of the same name, a local version above the real one, no dependencies.

    It lets the resolver go past an sdist whose metadata step needs the missing library.
    An sdist (not a wheel) so that ``--no-binary`` accepts it; its in-tree backend needs
    nothing installed, so preparing its metadata costs one short subprocess.
    """
    import io
    import tarfile

    dist = f"{canonicalize_name(name).replace('-', '_')}-{version}+{STANDIN_LOCAL}"
    files = {
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}+{STANDIN_LOCAL}\n",
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "_standin"\nbackend-path = ["."]\n',
        "_standin.py": STANDIN_BACKEND,
    }
    path = directory / f"{dist}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for fname, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{dist}/{fname}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def resolve(python: str, pip_wheel: str | None, inputs: PipInputs, *, env: Mapping[str, str] | None = None,
            run: Run = _run, externally_managed: bool = False) -> ProbeResult:
    """Run the resolver probe; never raises for pip's own failures (they become ``error``)."""
    started = time.monotonic()
    result = ProbeResult()
    env = {**(os.environ if env is None else env), **inputs.environment()}
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    if inputs.empty:
        return result
    if inputs.cwd and run is _run:
        import functools

        run = functools.partial(_run, cwd=inputs.cwd)
    if not pip_wheel:
        result.error = f"{python} has no pip wheel (ensurepip) to run the resolver with"
        return result
    version = pip_version(pip_wheel)
    if version is None or version < MIN_PIP:
        pip_wheel, why = newer_pip(python, pip_wheel, inputs, env, run)
        if not pip_wheel:
            result.error = why
            return result
    with tempfile.TemporaryDirectory(prefix="provision-predict-") as tmp:
        stubs = Path(tmp) / "standins"
        stubs.mkdir()
        report = Path(tmp) / "report.json"
        forced: dict[str, str] = {}
        target: list[str] = ["--target", str(Path(tmp) / "target")] if externally_managed and version is not None and version < Version("23.0.1") else []
        for _ in range(MAX_STANDINS + 1):
            argv = [python, os.path.join(pip_wheel, "pip"), "install", "--dry-run", "--ignore-installed", "--report", str(report),
                    *PIP_QUIET, *target, *inputs.argv()]
            if forced:
                argv += ["--find-links", str(stubs)]
            res = run(argv, env)
            output = res.stdout + res.stderr
            if res.returncode == 0 and report.is_file():
                data = json.loads(report.read_text(encoding="utf-8"))
                result.candidates = predict.from_report(data, forced_source=forced)
                break
            if "externally-managed-environment" in output and not target:
                target = ["--target", str(Path(tmp) / "target")]
                continue
            failed = failed_sdist(output)
            if failed is None or canonicalize_name(failed[0]) in forced:
                clue = evidence(output)
                result.error = f"pip's resolver failed: {last_error(output)}" + (f" ({clue})" if clue else "")
                break
            name, ver = failed
            clue = evidence(output)
            forced[canonicalize_name(name)] = f"its sdist's metadata step already fails here{': ' + clue if clue else ''}"
            result.notes.append(f"{name} {ver}: pip could not prepare its metadata without the native library; "
                                "its own dependencies are not part of the prediction")
            standin_sdist(stubs, name, ver)
        else:
            result.error = f"more than {MAX_STANDINS} sdists failed their metadata step"
    result.seconds = time.monotonic() - started
    return result


def cache_key(parts: Mapping[str, object]) -> str:
    return hashlib.sha256(json.dumps({**parts, "probe_recipe": RECIPE}, sort_keys=True, default=str).encode()).hexdigest()[:32]


def cached(key: str) -> ProbeResult | None:
    path = cache_dir() / f"{key}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ProbeResult([predict.Candidate(**c) for c in data["candidates"]], notes=list(data.get("notes", [])))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def store(key: str, result: ProbeResult) -> None:
    """Only successful probes are kept: a network failure must be retried next time."""
    if result.error:
        return
    path = cache_dir() / f"{key}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        data = {"candidates": [{**c.__dict__, "wheels": list(c.wheels)} for c in result.candidates], "notes": result.notes}
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def combined_bundle(directory: str, extra: str, base: str | None) -> str:
    """The public CAs plus the project's one, as one file: the system store has not got it yet."""
    out = os.path.join(directory, "ca.pem")
    with open(out, "wb") as f:
        if base and os.path.isfile(base):
            f.write(Path(base).read_bytes() + b"\n")
        f.write(Path(extra).read_bytes())
    return out


__all__ = ["PipInputs", "ProbeResult", "resolve", "cache_key", "cached", "store", "combined_bundle"]
