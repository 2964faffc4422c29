"""Shared fixtures: the repo on sys.path, paths to fixture trees."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PRESETS = REPO / "provision" / "platforms" / "presets"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# The fixture projects under fixtures/projects carry their own tests, run in their own venvs
# (fixtures/projects/verify.py), never in this suite.
collect_ignore_glob = ["fixtures/projects/*"]
