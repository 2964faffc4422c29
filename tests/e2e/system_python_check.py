"""Run inside a Debian chroot with /usr/bin/python3: is the system interpreter still the OS's?

Prints JSON: files in the system interpreter's site directories that no dpkg package
owns (a .pyc counts as owned when its source is: Debian byte-compiles in postinst),
anything under /usr/local/lib/python3*, anything in the user sites of the given
homes, and the EXTERNALLY-MANAGED marker's sha256. Stdlib only.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import site
import sys
import sysconfig


def owned_paths() -> set[str]:
    owned: set[str] = set()
    for listing in glob.glob("/var/lib/dpkg/info/*.list"):
        with open(listing, encoding="utf-8", errors="replace") as f:
            owned.update(line.rstrip("\n") for line in f)
    return owned


def source_of(pyc: str) -> str:
    folder, name = os.path.split(pyc)
    module = name.split(".")[0]
    return os.path.join(os.path.dirname(folder), module + ".py")


def main() -> int:
    owned = owned_paths()
    site_dirs = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib"), *site.getsitepackages()}
    unowned: list[str] = []
    for d in sorted(p for p in site_dirs if p and os.path.isdir(p)):
        for root, _dirs, files in os.walk(d):
            for f in files:
                path = os.path.join(root, f)
                if path in owned or os.path.realpath(path) in owned:
                    continue
                if path.endswith(".pyc") and os.path.basename(root) == "__pycache__" and source_of(path) in owned:
                    continue
                unowned.append(path)
    local = [p for d in glob.glob("/usr/local/lib/python3*") for p in glob.glob(os.path.join(d, "**"), recursive=True) if os.path.isfile(p)]
    user_sites = []
    for home in sys.argv[1:]:
        user_sites += [p for p in glob.glob(os.path.join(home, ".local/lib/python3*/site-packages/**"), recursive=True) if os.path.isfile(p)]
    marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
    digest = None
    if os.path.exists(marker):
        with open(marker, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
    print(json.dumps({"site_dirs": sorted(site_dirs), "unowned": unowned, "usr_local": local, "user_site": user_sites, "marker": digest}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
