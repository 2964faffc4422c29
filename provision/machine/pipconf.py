"""pip's own configuration, read as pip reads it: its files in pip's order (later files win), then the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..redact import mask


def pip_config_files(env: Mapping[str, str], home: str) -> list[str]:
    """pip's config files in the order pip reads them (a later file wins), as pip's configuration.py does.

    Site-wide: each ``$XDG_CONFIG_DIRS/pip/pip.conf`` (default ``/etc/xdg``), then ``/etc/pip.conf``;
    per user (skipped when ``PIP_CONFIG_FILE`` names an existing file): the legacy ``~/.pip/pip.conf``,
    then ``$XDG_CONFIG_HOME/pip/pip.conf``; last ``PIP_CONFIG_FILE``. ``PIP_CONFIG_FILE=/dev/null``
    turns every file off.
    """
    env_file = env.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    dirs = [d for d in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep) if d]
    files = [os.path.join(d, "pip", "pip.conf") for d in dirs] + ["/etc/pip.conf"]
    if not (env_file and os.path.exists(env_file)):
        xdg = env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
        files += [os.path.join(home, ".pip", "pip.conf"), os.path.join(xdg, "pip", "pip.conf")]
    if env_file:
        files.append(env_file)
    return files


PIP_KEYS = ("cert", "index-url", "extra-index-url", "trusted-host", "proxy")
PIP_INDEX_VARS = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST")


def pip_settings(env: Mapping[str, str], home: str) -> dict[str, tuple[str, str]]:
    """pip's settings that matter here, key -> (where it comes from, value masked); the environment wins, as in pip."""
    out: dict[str, tuple[str, str]] = {}
    files = [f for f in pip_config_files(env, home) if os.path.isfile(f)]
    if files:
        import configparser  # only when there is a file to read: most machines have none

        for f in files:
            cp = configparser.RawConfigParser()
            try:
                cp.read(f, encoding="utf-8")
            except (configparser.Error, OSError, UnicodeDecodeError):
                continue
            for section in ("global", "install"):  # [install] overrides [global] for pip install
                for key in PIP_KEYS:
                    if cp.has_option(section, key):
                        out[key] = (f"{f} [{section}] {key}", mask(" ".join(cp.get(section, key).split())))
    for var in PIP_INDEX_VARS + ("PIP_CERT", "PIP_PROXY"):
        if env.get(var):
            out[var[4:].lower().replace("_", "-")] = (var, mask(" ".join(env[var].split())))
    return out


def pip_config_values(env: Mapping[str, str], home: str) -> dict[str, str]:
    """pip's cert/index-url/proxy as its config files set them (later files win, as in pip)."""
    settings = pip_settings({k: v for k, v in env.items() if k not in PIP_INDEX_VARS + ("PIP_CERT", "PIP_PROXY")}, home)
    return {f"pip:{k}": v for k, (_, v) in settings.items() if k in ("cert", "index-url", "proxy")}
