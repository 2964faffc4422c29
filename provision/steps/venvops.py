"""Venv operations the plan runs as commands (``python venvops.py ...``), beside provision.atomic.

- ``stamp VENV --stamp JSON``: record what an updated-in-place venv was made from.
- ``lock-check --lock FILE --refresh CMD -- ARGV``: run a lock tool's own freshness check and,
  when it fails, say in one paragraph which command refreshes the lock.
- ``in-dir DIR -- ARGV``: run ARGV in DIR (pip reads "-e ." in a requirement file relative to it).
- ``restamp VENV PROJECT FILE...``: hash the deciding files after the run (a lock the tool wrote).
- ``pdm-python PROJECT STAGE FINAL``: PDM remembers the interpreter it used in
  ``.pdm-python``; after the venv moves into place the stage path there is wrong.

Standard library only: it runs with the kit's interpreter from any working directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

if __name__ == "__main__":  # run as a file: import the kit's package from its checkout, not this folder
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from provision.atomic import STAMP, file_digest, inputs_digest  # noqa: E402 - after the path fix above


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
    if argv[:1] == ["stamp"] and len(argv) == 4 and argv[2] == "--stamp":
        write_stamp(argv[1], argv[3])
        return 0
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
