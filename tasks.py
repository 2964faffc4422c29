"""provision's command line. Thin: each task parses its options and calls one function.

Run through ./bootstrap (stage 0), which makes the kit's tool environment first:
  ./bootstrap                      provision this machine (== invoke bootstrap)
  ./bootstrap --dry-run            print the exact commands, change nothing
  ./bootstrap facts [--json]       what the kit detected
  ./bootstrap doctor               check this machine for every pip failure class
  ./bootstrap explain pip.log      name the cause of a pip failure and this machine's fix
  ./bootstrap install PKG --fix    pip install into the project venv; on failure explain, fix, retry
  ./bootstrap test                 the kit's own test suite
"""

from __future__ import annotations

from provision.cli.program import ns  # noqa: F401 - invoke reads the collection from here
