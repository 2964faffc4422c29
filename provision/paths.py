"""Where the kit's own files are, in a checkout and in an installed wheel.

One place for it: the profiles (``profiles/*.toml`` at the top of the repository) are
carried inside the wheel as the package ``provision.platforms.data``; a checkout reads
them where they are.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parent  # the checkout; in a wheel install, site-packages (see in_checkout)


def in_checkout() -> bool:
    """True when the kit runs from its repository (``./bootstrap`` beside the package)."""
    return (REPO / "bootstrap").is_file() and (REPO / "profiles").is_dir()


def default_project() -> Path:
    """The project to provision when none is named: the kit's own checkout, else the working directory."""
    return REPO if in_checkout() else Path.cwd()


def data_dir() -> Path:
    """The directory of the profiles and the other platform data files."""
    if in_checkout():
        return REPO / "profiles"
    from importlib.resources import files

    return Path(str(files("provision.platforms") / "data"))
