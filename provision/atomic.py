"""File operations the plan runs as commands: ``python -m provision.atomic ...``.

They are commands (not in-process calls) so a dry run prints them like any other and
the runner treats them alike. ``promote`` is what makes a venv build atomic: the venv is
built and verified at ``<venv>.partial``, its absolute paths are rewritten, the stamp is
written (with the record of the distributions the build installed), and only then is it
renamed into place. An interrupted build leaves only a
``.partial`` (or ``.old``) directory, which the next run discards.

The kit only ever deletes or replaces what it can prove it built: a directory holding
the stamp (a finished venv) or the build marker (a venv being built, written by
``stage`` before the interpreter fills it). Whatever paths these operations are given,
they refuse a symlink, a file, or a directory without one of the two; an existing venv
the kit did not build is moved to a named backup and kept (``promote --backup``), never
deleted. This is the last of several fences (config validation, the venv step's own
check): it holds even when a plan is wrong.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

STAMP = ".provision-stamp.json"
BUILDING = ".provision-building"  # in a venv the kit is building (removed when it is promoted)


def file_digest(path: str | os.PathLike[str]) -> str:
    """What a stamp records of a file that decided an install: a short content hash ("missing" when absent)."""
    import hashlib

    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()[:16]
    except OSError:
        return "missing"


def inputs_digest(inputs: dict[str, object]) -> str:
    """The stamp's digest of the inputs a venv was made from (the plan's and restamp's alike)."""
    import hashlib

    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


# the stamp's record of what the kit's install put in the venv: "key-version" per distribution
INSTALLED = "installed"
# the installer's own tools: kept as the venv step decides, never recorded, never uninstalled
KIT_TOOLS = frozenset({"pip", "setuptools", "wheel"})


def dist_key(name: str) -> str:
    """A distribution name compared canonically: lower case, each run of ``-_.`` one ``_``.

    That is how a ``{name}-{version}.dist-info`` directory spells it (wheel spec), so a name
    from a requirement and one from a directory listing compare equal.
    """
    return re.sub(r"[-_.]+", "_", name).lower()


def dist_entry(dirname: str) -> tuple[str, str] | None:
    """(key, version) of a ``{name}-{version}.dist-info`` directory name; None for anything else."""
    if not dirname.endswith(".dist-info"):
        return None
    name, sep, version = dirname[:-10].rpartition("-")
    return (dist_key(name), version) if sep and name and version else None


def site_dirs(venv: str) -> list[str]:
    """The venv's site-packages directories (POSIX CPython and PyPy, Windows)."""
    import glob

    root = glob.escape(venv)
    found = [*glob.glob(os.path.join(root, "lib", "python*", "site-packages")),
             *glob.glob(os.path.join(root, "lib", "pypy*", "site-packages"))]
    win = os.path.join(venv, "Lib", "site-packages")
    return sorted(set(found)) or ([win] if os.path.isdir(win) else [])


def installed(venv: str, skip: frozenset[str] = frozenset()) -> list[str]:
    """What the venv holds, as the stamp records it: sorted ``key-version``, the installer's tools
    and ``skip`` (keys of distributions installed by hand) left out."""
    out: set[str] = set()
    for site in site_dirs(venv):
        for d in os.listdir(site):
            e = dist_entry(d)
            if e and e[0] not in KIT_TOOLS and e[0] not in skip:
                out.add(f"{e[0]}-{e[1]}")
    return sorted(out)


def with_record(stamp: str, venv: str, skip: frozenset[str] = frozenset()) -> str:
    """The stamp's JSON with the record of what ``venv`` now holds (what the kit installed)."""
    data = json.loads(stamp)  # refuse a stamp that is not JSON
    data[INSTALLED] = installed(venv, skip)
    return json.dumps(data, sort_keys=True)


class Refused(Exception):
    """An operation that would delete or replace something the kit cannot prove it built."""


def _marked(path: str, marker: str) -> bool:
    """A regular file (not a symlink) named ``marker`` directly in the directory ``path``."""
    import stat

    try:
        return stat.S_ISREG(os.lstat(os.path.join(path, marker)).st_mode)
    except OSError:
        return False


def built_by_kit(path: str) -> bool:
    """A real directory (not a symlink to one) that holds the kit's stamp or build marker."""
    return not os.path.islink(path) and os.path.isdir(path) and (_marked(path, STAMP) or _marked(path, BUILDING))


def discard(paths: list[str]) -> None:
    """Remove leftovers of an interrupted build: only directories the kit marked as its own."""
    for p in paths:
        if not os.path.lexists(p):
            continue
        if not built_by_kit(p):
            raise Refused(f"{p} is not something provision built (no {STAMP} or {BUILDING} in it, or not a plain "
                          "directory); it was left as it is")
        shutil.rmtree(p)


def stage(path: Path) -> None:
    """An empty directory marked as the kit's build (``python -m venv`` fills an existing directory)."""
    if os.path.lexists(path):
        raise Refused(f"{path} already exists; it was left as it is")
    path.parent.mkdir(parents=True, exist_ok=True)  # e.g. ~/.cache/provision on a fresh account
    path.mkdir()
    (path / BUILDING).write_text("provision is building a venv here; an interrupted build is discarded by the next run\n",
                                 encoding="utf-8")


def rewrite_paths(venv: Path, old: str, new: str) -> int:
    """Replace the build path in scripts and pyvenv.cfg (venvs embed absolute paths)."""
    changed = 0
    targets = [venv / "pyvenv.cfg"]
    for d in ("bin", "Scripts"):
        if (venv / d).is_dir():
            targets += [p for p in (venv / d).iterdir() if p.is_file() and not p.is_symlink()]
    a, b = old.encode(), new.encode()
    for p in targets:
        try:
            data = p.read_bytes()
        except OSError:
            continue
        if b"\0" in data or a not in data:
            continue
        mode = p.stat().st_mode
        tmp = p.with_name(p.name + ".provision-tmp")
        tmp.write_bytes(data.replace(a, b))
        os.chmod(tmp, mode)
        os.replace(tmp, p)
        changed += 1
    return changed


def write_pip_conf(venv: Path, cert: str | None, index_url: str | None, proxy: str | None) -> None:
    """The venv's own pip config: a later plain ``pip install`` works without flags."""
    name = "pip.ini" if os.name == "nt" else "pip.conf"
    import configparser

    cp = configparser.RawConfigParser()
    cp.read(venv / name)
    if not cp.has_section("global"):
        cp.add_section("global")
    for key, value in (("cert", cert), ("index-url", index_url), ("proxy", proxy)):
        if value:
            cp.set("global", key, value)
    secret = any(v and re.search(r"://[^/@\s]+@", v) for v in (index_url, proxy))
    if secret:
        # credentials: the file is the user's only (0600), in a directory only the user can enter
        os.chmod(venv, 0o700)
    fd = os.open(venv / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    if secret and hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with open(fd, "w", encoding="utf-8") as f:
        cp.write(f)
    if cert:
        export_ca(venv, cert)


ACTIVATE_MARK = "# provision: CA bundle for tools that do not read pip.conf (requests, uv, httpx)"


def export_ca(venv: Path, cert: str) -> None:
    """requests and uv ignore pip's ``cert``: the venv's activate scripts export the bundle."""
    lines = {
        "activate": f'{ACTIVATE_MARK}\nexport REQUESTS_CA_BUNDLE="{cert}"\nexport SSL_CERT_FILE="{cert}"\n',
        "activate.fish": f'{ACTIVATE_MARK}\nset -gx REQUESTS_CA_BUNDLE "{cert}"\nset -gx SSL_CERT_FILE "{cert}"\n',
        "activate.csh": f'{ACTIVATE_MARK}\nsetenv REQUESTS_CA_BUNDLE "{cert}"\nsetenv SSL_CERT_FILE "{cert}"\n',
    }
    for name, text in lines.items():
        script = venv / "bin" / name
        if script.is_file() and ACTIVATE_MARK not in script.read_text(encoding="utf-8", errors="replace"):
            with open(script, "a", encoding="utf-8") as f:
                f.write("\n" + text)


def promote(stage: Path, final: Path, stamp: str, backup: Path | None = None) -> str | None:
    """Move the verified build into place; returns the backup a foreign venv was kept at.

    The previous venv is replaced only when it carries the kit's stamp; one the kit did not
    build is renamed to ``backup`` (which must not exist) and kept; anything else is refused.
    """
    json.loads(stamp)  # refuse to write a stamp that is not JSON
    if not _marked(str(stage), BUILDING) or os.path.islink(stage):
        raise Refused(f"{stage} is not a venv provision is building (no {BUILDING} in it); nothing was moved")
    old = final.with_name(final.name + ".old")
    kept: str | None = None
    if os.path.lexists(final) and not built_by_kit(str(final)):
        if os.path.islink(final) or not os.path.isdir(final):
            raise Refused(f"{final} is a symlink or a file, not a venv provision built; it was left as it is")
        if backup is None or os.path.lexists(backup) or backup.parent != final.parent:
            raise Refused(f"{final} was not built by provision (no {STAMP}) and no free backup name beside it was "
                          "given; it was left as it is")
        if not os.path.isfile(final / "pyvenv.cfg"):
            raise Refused(f"{final} is not a venv (no pyvenv.cfg); it was left as it is")
    rewrite_paths(stage, str(stage), str(final))
    (stage / STAMP).write_text(with_record(stamp, str(stage)) + "\n", encoding="utf-8")
    os.unlink(stage / BUILDING)
    discard([str(old)])
    if os.path.lexists(final):
        if built_by_kit(str(final)):
            os.rename(final, old)
        else:
            assert backup is not None
            os.rename(final, backup)
            kept = str(backup)
    os.rename(stage, final)
    discard([str(old)])
    return kept


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m provision.atomic")
    sub = ap.add_subparsers(dest="op", required=True)
    d = sub.add_parser("discard", help="remove leftovers of an interrupted build (only what provision marked)")
    d.add_argument("paths", nargs="+")
    s = sub.add_parser("stage", help="make the marked, empty directory a venv is built in")
    s.add_argument("path")
    c = sub.add_parser("pip-conf", help="write the venv's pip.conf")
    c.add_argument("venv")
    c.add_argument("--cert")
    # from the environment (the runner hands it to this process): a token in them stays out of the process list
    c.add_argument("--index-url", default=os.environ.get("PROVISION_PIP_INDEX_URL"))
    c.add_argument("--proxy", default=os.environ.get("PROVISION_PIP_PROXY"))
    p = sub.add_parser("promote", help="move a verified venv into place")
    p.add_argument("stage")
    p.add_argument("final")
    p.add_argument("--stamp", required=True)
    p.add_argument("--backup", help="where an existing venv provision did not build is moved and kept")
    args = ap.parse_args(argv)
    try:
        if args.op == "discard":
            discard(args.paths)
        elif args.op == "stage":
            stage(Path(args.path))
        elif args.op == "pip-conf":
            write_pip_conf(Path(args.venv), args.cert, args.index_url, args.proxy)
        else:
            kept = promote(Path(args.stage), Path(args.final), args.stamp, Path(args.backup) if args.backup else None)
            if kept:
                print(f"provision: the venv that was at {args.final} (not built by provision) is kept at {kept}")
    except Refused as e:
        print(f"error: refused: {e}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
