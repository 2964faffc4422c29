"""What every task does with the kit's errors: one paragraph, a non-zero exit, no traceback."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from invoke import Exit

from ..errors import ProvisionError

INTERRUPTED = 130


@contextlib.contextmanager
def user_errors(interrupted: str = "provision: interrupted") -> Iterator[None]:
    """Turn a ProvisionError into its one-paragraph message (exit 2 bad input, 1 a machine condition) and Ctrl-C into exit 130."""
    try:
        yield
    except ProvisionError as e:
        raise Exit(f"provision: {e}", code=e.exit_code) from None
    except KeyboardInterrupt:
        raise Exit(interrupted, code=INTERRUPTED) from None


def finish(code: int, message: str | None = None) -> None:
    """Exit with ``code`` when it is not 0."""
    if code:
        raise Exit(message, code=code)
