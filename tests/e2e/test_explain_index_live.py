"""explain asks the real package index (the one pip uses here, with pip's CA bundle).

Not a chroot test, but e2e: it needs the network, which unit tests never use. When the index
cannot be reached the lookup says why and the test is skipped, as explain then keeps the
finding the log alone gives.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provision.diagnose import index_lookup as idx
from provision.diagnose.explain import explain_file, text_report

PIPLOGS = Path(__file__).resolve().parents[1] / "fixtures" / "piplogs"

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("log", "category", "kind"), [
    ("debian11/requires-python-mismatch.log", "python-version-mismatch", "requires-python"),
    ("debian11/no-such-version.log", "no-matching-distribution", "no-version"),
    ("debian11/no-such-package.log", "no-matching-distribution", "no-project"),
])
def test_the_live_index_tells_the_three_apart(log, category, kind):
    index = idx.live(os.environ, str(Path.home()))
    result = explain_file(str(PIPLOGS / log), "debian:11", index=index)
    if result.index and "could not be asked" in result.index:
        pytest.skip(result.index)
    f = result.findings[0]
    assert (f.category, f.details["index"]["kind"]) == (category, kind), text_report(result)
