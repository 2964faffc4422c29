"""pip's own configuration files, read as pip reads them (later files win)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from .facts import mask_url


def pip_config_values(env: Mapping[str, str], home: str) -> dict[str, str]:
    """pip's cert/index-url/proxy as its config files set them (later files win, as in pip)."""
    files = ["/etc/pip.conf", "/etc/xdg/pip/pip.conf"]
    xdg = env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    files += [os.path.join(home, ".pip", "pip.conf"), os.path.join(xdg, "pip", "pip.conf")]
    if env.get("PIP_CONFIG_FILE"):
        files.append(env["PIP_CONFIG_FILE"])
    files = [f for f in files if os.path.isfile(f)]
    if not files:
        return {}
    import configparser  # only when there is a file to read: most machines have none

    out: dict[str, str] = {}
    for f in files:
        cp = configparser.RawConfigParser()
        try:
            cp.read(f)
        except (configparser.Error, OSError):
            continue
        for section in ("global", "install"):
            for key in ("cert", "index-url", "proxy"):
                if cp.has_option(section, key):
                    out[f"pip:{key}"] = mask_url(cp.get(section, key))
    return out
