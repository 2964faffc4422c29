"""The bootstrap task's options, declared once (light: the fast path parses with it before any import).

The invoke task (``provision/cli/bootstrap.py``) takes its help texts from here; the fast
path (``provision/fastpath.py``) takes the options a no-op run may have from here too, so
an option added to one is never missing from the other.
"""

from __future__ import annotations

from .errors import ConfigError

# option -> (keyword of session.bootstrap, "flag" or "value" — or "plan" for options that only
# a planning run takes, which the fast path hands to invoke —, the help text)
BOOTSTRAP_OPTIONS: dict[str, tuple[str, str, str]] = {
    "dry-run": ("dry_run", "plan", "print the exact commands, step by step with the reason, and change nothing (no root needed)"),
    "platform": ("platform", "plan", "plan for a built-in platform preset instead of this machine: ID[:VERSION], e.g. debian:12, "
                 "ubuntu:24.04, fedora:40, rocky:9, arch, alpine:3.20, macos:14, windows:11 (implies nothing is run)"),
    "project": ("project", "value", "the project to provision (default: this repository); its own packaging files "
                "(lockfile, pyproject, requirement files) and its [tool.provision] or provision.toml are read"),
    "ca-bundle": ("ca_bundle", "value", "PEM file of a CA to trust (corporate TLS inspection): added to the system trust store and "
                  "configured for pip and pipx; stage 0 uses it from its first pip call"),
    "profile": ("profile", "value", "force a profile from profiles/ (for a distro the kit does not know that is compatible)"),
    "python": ("python", "value", "the interpreter for the project's venv (path or version), instead of the first on PATH matching 'python'"),
    "json": ("as_json", "flag", "print the recap as JSON on stdout (steps, status, commands, durations) and nothing else there"),
    "yes": ("yes", "flag", "non-interactive: never prompt (sudo runs as 'sudo -n')"),
    "refresh-after": ("refresh_after", "value", "refresh the package index when it is older than this many hours (default 24)"),
    "python-downloads": ("python_downloads", "flag", "when the machine has no interpreter the project allows and its platform "
                         "packages none, let uv download one (as the config key python-downloads = true)"),
}


def bootstrap_help() -> dict[str, str]:
    """invoke's ``help=`` for the task: option name -> text."""
    return {name: text for name, (_, _, text) in BOOTSTRAP_OPTIONS.items()}


def fast_path_options() -> tuple[dict[str, str], dict[str, str]]:
    """(--valued option -> keyword, --flag -> keyword) that a no-op run may carry."""
    valued = {f"--{n}": kw for n, (kw, kind, _) in BOOTSTRAP_OPTIONS.items() if kind == "value"}
    flags = {f"--{n}": kw for n, (kw, kind, _) in BOOTSTRAP_OPTIONS.items() if kind == "flag"}
    return valued, flags


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
