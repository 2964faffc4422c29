import pytest

from provision.pyversion import SpecifierSet

CASES = [
    (">=3.9", "3.9.0", True),
    (">=3.9", "3.8.18", False),
    (">=3.9,<3.13", "3.13.0", False),
    (">=3.9,<3.13", "3.12.7", True),
    ("==3.11.*", "3.11.2", True),
    ("==3.11.*", "3.12.0", False),
    ("!=3.10.*", "3.10.1", False),
    ("~=3.10", "3.12.1", True),
    ("~=3.10", "4.0.0", False),
    ("~=3.10.2", "3.10.9", True),
    ("~=3.10.2", "3.11.0", False),
    ("==3.11", "3.11.0", True),
    ("", "2.7.18", True),
]


@pytest.mark.parametrize(("spec", "version", "ok"), CASES)
def test_contains(spec, version, ok):
    assert SpecifierSet(spec).contains(version) is ok


@pytest.mark.parametrize("bad", [">=three", ">=3.9.*", "~=3", "3.9", ">=3.9,,"])
def test_invalid(bad):
    with pytest.raises(ValueError):
        SpecifierSet(bad)
