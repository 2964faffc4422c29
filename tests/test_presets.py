"""--platform presets: every required key exists, unknown ones are clear errors."""

import pytest

from provision.errors import PlatformError
from provision.platforms import presets

REQUIRED = ["debian:11", "debian:12", "debian:13", "ubuntu:22.04", "ubuntu:24.04", "fedora:40", "rocky:9",
            "opensuse-leap:15.6", "arch", "alpine:3.20", "macos:14", "windows:11", "linuxmint:22"]


@pytest.mark.parametrize("key", REQUIRED)
def test_required_presets(key):
    f = presets.load(key)
    assert f.preset and f.pythons and f.pythons[0].version.startswith("3.")
    assert f.platform_key.split(":")[0] == key.split(":")[0] or key.startswith(("macos", "windows"))


def test_aliases_and_bare_ids():
    assert presets.load("debian:bookworm").distro_version == "12"
    assert presets.load("debian").distro_version == "13"  # the newest preset of that id
    assert presets.load("rocky:9").distro_version == "9.5"


@pytest.mark.parametrize("bad", ["debian:99", "solaris", "ubuntu:18.04"])
def test_unknown_preset(bad):
    with pytest.raises(PlatformError, match="unknown platform preset") as e:
        presets.load(bad)
    assert "debian:12" in str(e.value)
