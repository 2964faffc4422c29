"""Outside text, made safe to match and to print.

A log is read in bounded chunks and split into bounded lines (``lines``): explain's
memory does not grow with the input, whatever its size or line length. Terminal escape
sequences are removed before matching (``strip_escapes``: gcc's coloured diagnostics
would otherwise split ``fatal error: Python.h``), and every string from outside input
that explain or doctor prints goes through ``safe`` first, so a log cannot change the
terminal's title, clear the screen or write the clipboard (OSC 52).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import IO

#: a line longer than this is cut: the cause is always near the start of a line
MAX_LINE = 4096
CHUNK = 1 << 16

# CSI (incl. SGR colours, erase-line), OSC (title, clipboard, hyperlinks; ended by BEL or
# ST), DCS/SOS/PM/APC strings, and two-character ESC sequences; 8-bit CSI too.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -/]*[0-~]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)
# what is left after the sequences: C0 (but tab), DEL, C1, and the bidi controls that
# can make printed text read differently from what it is
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def strip_escapes(line: str) -> str:
    """The line as a terminal would show its text: escape sequences removed."""
    return _ESCAPES.sub("", line) if ("\x1b" in line or "\x9b" in line) else line


def safe(text: str) -> str:
    """Text from outside input, printable without side effects (newlines are kept)."""
    text = strip_escapes(text)
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def lines(stream: IO[str], max_line: int = MAX_LINE) -> Iterator[str]:
    """Lines of a text stream, read in chunks; CR, LF and CRLF end a line (a progress bar's
    CR-separated redraws become lines of their own); longer lines are cut to ``max_line``."""
    buf: list[str] = []
    size = 0
    cut = False
    pending_cr = False
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        start = 0
        for m in re.finditer(r"\r\n|\r|\n", chunk):
            if pending_cr and m.start() == 0 and m.group() == "\n":
                pending_cr = False
                start = m.end()
                continue
            pending_cr = False
            piece = chunk[start:m.start()]
            if not cut:
                buf.append(piece[: max_line - size])
            yield "".join(buf)
            buf, size, cut = [], 0, False
            start = m.end()
            if m.group() == "\r" and m.end() == len(chunk):
                pending_cr = True  # a CRLF split across two chunks
        rest = chunk[start:]
        if rest and not cut:
            take = rest[: max_line - size]
            buf.append(take)
            size += len(take)
            cut = size >= max_line
    if buf and any(buf):
        yield "".join(buf)


def text_lines(text: str | Iterable[str]) -> Iterator[str]:
    """``lines`` for a string already in memory (tests, ``install``'s captured output)."""
    if isinstance(text, str):
        import io

        yield from lines(io.StringIO(text))
    else:
        yield from text
