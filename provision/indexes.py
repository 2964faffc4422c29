"""Package indexes from pip's own configuration: a plain-http index named before pip runs.

The project's ``index-url`` is https-only (validated with the config). But pip also reads
``PIP_INDEX_URL``/``PIP_EXTRA_INDEX_URL``/``PIP_TRUSTED_HOST`` and its config files, and
they win over the venv's pip.conf at run time. pip refuses a plain-http index unless its
host is trusted, and says only "no matching distribution" minutes later. So:

- an http index whose host nothing trusts is an error before anything runs (exit 2): the
  run cannot succeed, and the cause is in the user's settings, not on the machine;
- an http index the user's settings trust (``trusted-host``), or a ``trusted-host`` at all,
  is a warning, not an error: it is the user's explicit choice, which the kit neither adds
  (it never uses ``--trusted-host``) nor overrides; the warning says what it costs
  (packages arrive unauthenticated, TLS is not verified for that host).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from .errors import ConfigError


def _host(url: str) -> tuple[str, str]:
    """(host, host:port) of a URL; empty strings when it has none."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        return host, f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "", ""


def check(pip_index: Mapping[str, tuple[str, str]]) -> list[str]:
    """Warnings for the user's pip index settings; a ConfigError for an http index pip will refuse."""
    trusted_where, trusted_text = pip_index.get("trusted-host", ("", ""))
    trusted = set(trusted_text.split())
    warnings: list[str] = []
    used: set[str] = set()
    for key in ("index-url", "extra-index-url"):
        if key not in pip_index:
            continue
        where, value = pip_index[key]
        for url in value.split():
            if not url.lower().startswith("http://"):
                continue
            host, hostport = _host(url)
            if host in trusted or hostport in trusted:
                used.update({host, hostport})
                warnings.append(f"{where} is a plain-http package index ({url}), trusted by {trusted_where}: packages "
                                "arrive unauthenticated and can be altered on the way. The kit leaves this setting as it is; "
                                "prefer the index's https URL.")
                continue
            raise ConfigError(
                f"{where} = {url} is a plain-http package index, which pip refuses unless its host is trusted: every "
                "install would fail with only 'no matching distribution'.",
                "Use the index's https URL there (the kit never adds --trusted-host), or remove the setting; nothing was changed.",
            )
    for host in sorted(trusted - used):
        warnings.append(f"{trusted_where} trusts {host}: pip does not verify TLS for it (the kit never sets this; "
                        "remove it once the host's certificate verifies, e.g. with --ca-bundle).")
    return warnings
