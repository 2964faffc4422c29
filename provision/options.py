"""Reading the run's options that are not paths (light: the fast path parses with it before any import)."""

from __future__ import annotations

from .errors import ConfigError


def refresh_seconds(hours: object) -> float:
    """``--refresh-after HOURS`` in seconds: hours may be fractional (0.5); negative, nan and inf are refused."""
    import math

    try:
        value = float(str(hours).strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"--refresh-after {hours!r} is not a number of hours.",
                          "Give hours as a number >= 0 (fractions allowed), e.g. --refresh-after 24 or --refresh-after 0.5.")
    return value * 3600.0
