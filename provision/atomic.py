"""File operations the plan runs as commands: ``python -m provision.atomic ...``.

They are commands (not in-process calls) so a dry run prints them like any other and
the runner treats them alike. ``promote`` is what makes a venv build atomic: the venv is
built and verified at ``<venv>.partial``, its absolute paths are rewritten, the stamp is
written, and only then is it renamed into place. An interrupted build leaves only a
``.partial`` (or ``.old``) directory, which the next run discards.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

STAMP = ".provision-stamp.json"


def discard(paths: list[str]) -> None:
    for p in paths:
        if os.path.islink(p) or os.path.isfile(p):
            os.unlink(p)
        elif os.path.isdir(p):
            shutil.rmtree(p)


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
    with open(venv / name, "w", encoding="utf-8") as f:
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


def promote(stage: Path, final: Path, stamp: str) -> None:
    json.loads(stamp)  # refuse to write a stamp that is not JSON
    rewrite_paths(stage, str(stage), str(final))
    (stage / STAMP).write_text(stamp + "\n", encoding="utf-8")
    old = final.with_name(final.name + ".old")
    discard([str(old)])
    if final.exists() or final.is_symlink():
        os.rename(final, old)
    os.rename(stage, final)
    discard([str(old)])


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m provision.atomic")
    sub = ap.add_subparsers(dest="op", required=True)
    d = sub.add_parser("discard", help="remove leftovers of an interrupted build")
    d.add_argument("paths", nargs="+")
    c = sub.add_parser("pip-conf", help="write the venv's pip.conf")
    c.add_argument("venv")
    c.add_argument("--cert")
    c.add_argument("--index-url")
    c.add_argument("--proxy")
    p = sub.add_parser("promote", help="move a verified venv into place")
    p.add_argument("stage")
    p.add_argument("final")
    p.add_argument("--stamp", required=True)
    args = ap.parse_args(argv)
    if args.op == "discard":
        discard(args.paths)
    elif args.op == "pip-conf":
        write_pip_conf(Path(args.venv), args.cert, args.index_url, args.proxy)
    else:
        promote(Path(args.stage), Path(args.final), args.stamp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
