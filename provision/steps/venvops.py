"""Venv operations the plan runs as commands (``python venvops.py ...``), beside provision.atomic.

- ``stamp VENV --stamp JSON [--not-ours KEY...]``: record what an updated-in-place venv was made
  from, and which distributions it now holds that the kit installed (``--not-ours``: the keys
  of those installed by hand, never recorded, so never removed).
- ``prune VENV [--root REQ]... [--keep-direct] -- PIP... uninstall -y NAME...``: run by the
  venv's own interpreter after the install; of the NAMEs (what the kit installed before and no
  requirement names any more) it uninstalls those that nothing left in the venv needs (the
  closure over ``Requires-Dist``, markers and extras, from the venv's own metadata).
- ``lock-check --lock FILE --refresh CMD -- ARGV``: run a lock tool's own freshness check and,
  when it fails, say in one paragraph which command refreshes the lock.
- ``in-dir DIR -- ARGV``: run ARGV in DIR (pip reads "-e ." in a requirement file relative to it).
- ``restamp VENV PROJECT FILE...``: hash the deciding files after the run (a lock the tool wrote).
- ``pdm-python PROJECT STAGE FINAL``: PDM remembers the interpreter it used in
  ``.pdm-python``; after the venv moves into place the stage path there is wrong.

Standard library only: it runs with the kit's interpreter from any working directory (``prune``
with the venv's, and packaging as the venv has it: pip's own copy).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

KIT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if __name__ == "__main__":  # run as a file: import the kit's package from its checkout, not this folder
    sys.path[0] = KIT_ROOT

from provision.atomic import KIT_TOOLS, STAMP, dist_entry, dist_key, file_digest, inputs_digest, site_dirs, with_record  # noqa: E402


def write_stamp(venv: str, stamp: str) -> None:
    json.loads(stamp)  # refuse a stamp that is not JSON
    tmp = os.path.join(venv, STAMP + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(stamp + "\n")
    os.replace(tmp, os.path.join(venv, STAMP))


def restamp(venv: str, project: str, files: list[str]) -> None:
    """Hash the deciding files now, after the run: a tool that wrote the project's lock (a
    Pipfile alone, Poetry without its lock) made a file the plan could not hash beforehand."""
    path = os.path.join(venv, STAMP)
    with open(path, encoding="utf-8") as f:
        stamp = json.load(f)
    stamp["inputs"]["files"] = {rel: file_digest(os.path.join(project, rel)) for rel in files}
    stamp["digest"] = inputs_digest(stamp["inputs"])
    write_stamp(venv, json.dumps(stamp, sort_keys=True))


def _requirement_class():  # noqa: ANN202 - packaging's Requirement, from the venv (pip's own copy first)
    try:
        from pip._vendor.packaging.requirements import Requirement
    except ImportError:
        try:
            from packaging.requirements import Requirement
        except ImportError:
            return None
    return Requirement


def needed(dists: dict[str, object], roots: list[tuple[str, frozenset[str]]], requirement: object) -> set[str]:
    """The keys of every distribution the roots (key, extras) need, through each one's
    ``Requires-Dist`` (markers evaluated for this interpreter, extras followed)."""
    seen: set[tuple[str, str]] = set()
    out: set[str] = set()
    todo = list(roots)
    while todo:
        key, extras = todo.pop()
        wanted = {"", *extras}
        if all((key, e) in seen for e in wanted):
            continue
        seen.update((key, e) for e in wanted)
        out.add(key)
        dist = dists.get(key)
        for text in (getattr(dist, "requires", None) or []) if dist is not None else []:
            try:
                req = requirement(text)  # type: ignore[operator]
            except Exception:  # noqa: BLE001 - metadata we cannot read: keep what it may need
                continue
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in wanted):
                todo.append((dist_key(req.name), frozenset(req.extras)))
    return out


def prune(venv: str, roots: list[str], keep_direct: bool, argv: list[str]) -> int:
    """Uninstall those of ``argv``'s names (after ``-y``) that nothing left in the venv needs."""
    import importlib.metadata
    from importlib.metadata import Distribution

    head, names = argv[:argv.index("-y") + 1], argv[argv.index("-y") + 1:]
    requirement = _requirement_class()
    if requirement is None:
        print("provision: no packaging in this venv to read requirements with; nothing was uninstalled")
        return 0
    dists: dict[str, Distribution] = {}  # what site-packages holds, as its own metadata says
    for site in site_dirs(venv):
        for d in os.listdir(site):
            e = dist_entry(d)
            if e:
                dists[e[0]] = Distribution.at(os.path.join(site, d))
    going = {dist_key(n) for n in names}
    start: list[tuple[str, frozenset[str]]] = []
    for text in roots:
        try:
            req = requirement(text)  # type: ignore[operator]
        except Exception:  # noqa: BLE001 - an older packaging than the plan's: uninstall nothing rather than guess
            print(f"provision: cannot read the requirement {text!r} here; nothing was uninstalled")
            return 0
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        key = dist_key(req.name)
        if key not in dists:  # not in site-packages: a legacy editable (egg-link) is found on the path
            try:
                dists[key] = importlib.metadata.distribution(req.name)
            except importlib.metadata.PackageNotFoundError:
                print(f"provision: {req.name} is not installed, so what it requires is unknown; nothing was uninstalled")
                return 0
        start.append((key, frozenset(req.extras)))
    # what stays needs its own requirements; so do the installer's tools and, when some requirement
    # is a path or URL (its name unknown to the plan), whatever was installed from one
    for key, dist in dists.items():
        if key not in going or key in KIT_TOOLS or (keep_direct and dist.read_text("direct_url.json") is not None):
            start.append((key, frozenset()))
    need = needed(dists, start, requirement)
    kept = [n for n in names if dist_key(n) in need]
    remove = [n for n in names if dist_key(n) in dists and dist_key(n) not in need]
    if kept:
        print(f"provision: kept {', '.join(kept)}: still required by what stays in the venv")
    if not remove:
        print("provision: nothing to uninstall")
        return 0
    print(f"provision: uninstalling {', '.join(remove)}: the project no longer requires them", flush=True)
    return subprocess.run([*head, *remove], check=False).returncode


def lock_check(lock: str, refresh: str, argv: list[str]) -> int:
    res = subprocess.run(argv, check=False, capture_output=True, text=True)
    sys.stdout.write(res.stdout)
    sys.stderr.write(res.stderr)
    if res.returncode == 0:
        return 0
    print(f"error: {lock} is out of date with the project's pyproject.toml (or Pipfile): {os.path.basename(argv[0])}'s own "
          f"check says so (above). Refresh it with '{refresh}' in {os.path.dirname(lock) or '.'} and commit it; the kit "
          "never re-resolves a locked project by itself.", file=sys.stderr)
    return 1


def pdm_python(project: str, stage: str, final: str) -> None:
    path = os.path.join(project, ".pdm-python")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return
    if stage in text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(stage, final))


def main(argv: list[str]) -> int:
    if argv[:1] == ["stamp"] and len(argv) >= 4 and argv[2] == "--stamp" and argv[4:5] in ([], ["--not-ours"]):
        write_stamp(argv[1], with_record(argv[3], argv[1], frozenset(argv[5:])))
        return 0
    if argv[:1] == ["prune"] and len(argv) > 2 and "--" in argv and "-y" in argv[argv.index("--"):]:
        head, cmd = argv[2:argv.index("--")], argv[argv.index("--") + 1:]
        roots = [head[i + 1] for i, a in enumerate(head[:-1]) if a == "--root"]
        # the venv's own view: its site-packages, not the kit's directory put first on the path
        sys.path[:] = [p for p in sys.path if p != KIT_ROOT]
        return prune(argv[1], roots, "--keep-direct" in head, cmd)
    if argv[:1] == ["lock-check"] and "--" in argv:
        head, cmd = argv[1:argv.index("--")], argv[argv.index("--") + 1:]
        opts = dict(zip(head[::2], head[1::2]))
        return lock_check(opts["--lock"], opts["--refresh"], cmd)
    if argv[:1] == ["in-dir"] and len(argv) > 3 and argv[2] == "--":
        os.chdir(argv[1])
        os.execvp(argv[3], argv[3:])
    if argv[:1] == ["restamp"] and len(argv) >= 3:
        restamp(argv[1], argv[2], argv[3:])
        return 0
    if argv[:1] == ["pdm-python"] and len(argv) == 4:
        pdm_python(*argv[1:])
        return 0
    print(f"venvops: unknown operation {argv!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
