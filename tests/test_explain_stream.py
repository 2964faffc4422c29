"""explain reads its input as a stream: bounded lines, bounded memory, whatever the size."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from provision.diagnose import text

REPO = Path(__file__).resolve().parent.parent


class Chunks(io.StringIO):
    """A stream that hands out small chunks, so line ends fall across chunk borders."""

    def read(self, size: int = -1) -> str:
        return super().read(3)


@pytest.mark.parametrize(("data", "expected"), [
    ("a\nb\n", ["a", "b"]),
    ("a\r\nb\r\n", ["a", "b"]),
    ("ab\r\ncd", ["ab", "cd"]),
    ("progress 10%\rprogress 90%\rdone\n", ["progress 10%", "progress 90%", "done"]),
    ("no newline at the end", ["no newline at the end"]),
    ("", []),
])
def test_lines_across_chunk_borders(data, expected):
    assert list(text.lines(Chunks(data))) == expected
    assert list(text.lines(io.StringIO(data))) == expected


def test_a_long_line_is_cut_not_kept():
    got = list(text.lines(io.StringIO("x" * 100_000 + "\nnext\n"), max_line=50))
    assert got == ["x" * 50, "next"]


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b[01;31mfatal error: \x1b[m\x1b[KPython.h", "fatal error: Python.h"),
    ("\x1b]0;title\x07text", "text"),
    ("\x1b]52;c;ZWNobw==\x1b\\text", "text"),
    ("bell\x07 nul\x00 del\x7f", "bell\\x07 nul\\x00 del\\x7f"),
    ("right\u202eleft", "right\\u202eleft"),
    ("tab\tand\nnewline kept", "tab\tand\nnewline kept"),
])
def test_safe_neutralises_what_a_terminal_would_act_on(raw, shown):
    assert text.safe(raw) == shown


def test_memory_stays_bounded_on_a_large_log(tmp_path):
    """20 MB of build output around one error: the scan keeps only bounded state."""
    log = tmp_path / "big.log"
    noise = "      gcc -fno-strict-overflow -DNDEBUG -g -O3 -Wall -fPIC -I/usr/include/python3.11 -c src/x.c -o build/x.o\n" * 1000
    with open(log, "w") as f:
        for i in range(200):
            f.write(noise)
            if i == 100:
                f.write("src/x.c:1:10: fatal error: ffi.h: No such file or directory\n")
        f.write("x" * 5_000_000)  # and a 5 MB line with no end
    code = textwrap.dedent(f"""
        import resource, sys
        sys.path.insert(0, {str(REPO)!r})
        from provision.diagnose.explain import explain_file
        r = explain_file({str(log)!r}, "debian:12")
        print(r.findings[0].category, r.findings[0].need, r.lines)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["missing-native-library", "ffi"]
    assert int(out[3]) < 100, f"peak RSS {out[3]} MB"
