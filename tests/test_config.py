"""Project config: [tool.provision] or provision.toml, validated with file/key/expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.errors import ConfigError
from provision.project import config, versions


def write(tmp_path, body: str, *, own: bool = False):
    if own:
        (tmp_path / "provision.toml").write_text(body)
    else:
        (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\nversion = '1'\n[tool.provision]\n" + body)
    (tmp_path / "requirements.txt").write_text("six\n")
    return tmp_path


def test_defaults_without_config(tmp_path):
    cfg = config.load(tmp_path)
    assert cfg.venv == tmp_path.resolve() / ".venv" and cfg.requirements == () and cfg.source == ""
    assert versions.contains(cfg.python, "3.9.0") and not versions.contains(cfg.python, "3.8.10")


def test_full_config(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    cfg = config.load(write(tmp_path, """
python = ">=3.10"
venv = "env"
requirements = ["requirements.txt"]
extras = ["dev"]
pipx = ["ruff==0.6.9", "pre-commit"]
needs = ["postgres-client"]
ca-bundle = "ca.pem"
index-url = "https://pypi.example/simple"
proxy = "http://proxy:3128"
"""))
    assert cfg.venv.name == "env" and cfg.install_project and cfg.extras == ("dev",)
    assert cfg.ca_bundle == ca.resolve() and cfg.needs == ("postgres-client",)
    assert "[tool.provision]" in cfg.source


def test_provision_toml(tmp_path):
    cfg = config.load(write(tmp_path, 'venv = ".v"\n', own=True))
    assert cfg.venv.name == ".v" and cfg.source.endswith("provision.toml")


BAD = [
    ("pyhton = '>=3.9'\n", "unknown key 'pyhton'"),
    ("python = 3.9\n", "key 'python' must be a string"),
    ("python = '>=three'\n", "key 'python'"),
    ("requirements = 'requirements.txt'\n", "key 'requirements' must be a list"),
    ("requirements = ['missing.txt']\n", "names 'missing.txt'"),
    ("pipx = ['ruff; rm -rf /']\n", "key 'pipx' has an invalid tool"),
    ("needs = ['Cairo Dev']\n", "key 'needs' has an invalid need"),
    ("extras = ['dev tools']\n", "key 'extras' has an invalid extra"),
    ("index-url = 'http://insecure/simple'\n", "key 'index-url'"),
    ("proxy = 'proxy:3128'\n", "key 'proxy'"),
    ("venv = '.'\n", "key 'venv'"),
    ("ca-bundle = 'nope.pem'\n", "does not exist"),
]


@pytest.mark.parametrize(("body", "fragment"), BAD)
def test_invalid(tmp_path, body, fragment):
    write(tmp_path, body)
    with pytest.raises(ConfigError) as e:
        config.load(tmp_path)
    assert fragment in str(e.value)
    assert "pyproject.toml" in str(e.value)


def test_both_files_is_ambiguous(tmp_path):
    write(tmp_path, "")
    (tmp_path / "provision.toml").write_text("")
    with pytest.raises(ConfigError, match="both"):
        config.load(tmp_path)


def test_ca_bundle_option_wins_and_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="--ca-bundle"):
        config.load(tmp_path, ca_bundle=str(tmp_path / "none.pem"))


@pytest.mark.parametrize(("spec", "name"), [("ruff", "ruff"), ("Pre_Commit==3.0", "pre-commit"), ("black[jupyter]>=24", "black")])
def test_pipx_names(spec, name):
    assert config.pipx_package_name(spec) == name


# the interpreter range is PEP 440 (packaging): interpreters are matched with pre-releases allowed
PYTHON_RANGES = [
    (">=3.9", "3.9.0", True),
    (">=3.9", "3.8.18", False),
    (">=3.9,<3.13", "3.13.0", False),
    (">=3.9,<3.13", "3.12.7", True),
    (">=3.9,<3.13", "3.13.0rc1", False),
    (">=3.12", "3.13.0rc1", True),  # a pre-release interpreter counts
    (">=3.13", "3.13.0rc1", False),  # PEP 440: 3.13.0rc1 < 3.13
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


@pytest.mark.parametrize(("spec", "version", "ok"), PYTHON_RANGES)
def test_python_range(tmp_path, spec, version, ok):
    (tmp_path / "provision.toml").write_text(f'python = "{spec}"\n')
    assert versions.contains(config.load(tmp_path).python, version, prereleases=True) is ok


@pytest.mark.parametrize("bad", [">=three", ">=3.9.*", "~=3", "3.9"])
def test_python_range_invalid(tmp_path, bad):
    (tmp_path / "provision.toml").write_text(f'python = "{bad}"\n')
    with pytest.raises(ConfigError, match="key 'python'"):
        config.load(tmp_path)


@pytest.mark.parametrize(("spec", "have", "satisfied"), [
    ("ruff==0.6.0rc1", "0.6.0rc1", True),   # a pre-release pin is a valid pin
    ("ruff==0.6.0rc1", "0.6.0", False),
    ("ruff>=0.6", "0.6.0.post1", True),
    ("ruff>0.6", "0.6.0.post1", False),     # PEP 440: > excludes post-releases of the same version
    ("ruff>=0.6.1", "0.6.1a1", False),
])
def test_pipx_pins_are_pep440(tmp_path, spec, have, satisfied):
    (tmp_path / "provision.toml").write_text(f'pipx = ["{spec}"]\n')
    cfg = config.load(tmp_path)
    req = config.pipx_requirement(cfg.pipx[0])
    assert req is not None and req.specifier.contains(have, prereleases=True) is satisfied


# plain requirements (a name and version specifiers) are read with packaging.specifiers alone, so that
# a no-op run never imports packaging's PEP 508 parser: they must read exactly as that parser reads them
@pytest.mark.parametrize("text", [
    "ruff", "Pre_Commit==3.0", "uv==0.13.9", "poetry<3,>=2.0", "hishel<2", "ruff==0.6.0rc1", "ruff>0.6",
    "pkg~=1.4.2", "pkg!=1.0.*", "pkg==1.0+local.7", "pkg>=1!2.0.post1.dev3", "a.b-c_d>=1,<2,!=1.5",
])
def test_plain_requirement_reads_as_pep508(text):
    from packaging.requirements import Requirement

    plain, full = config.plain_requirement(text), Requirement(text)
    assert plain is not None
    assert (plain.name, str(plain.specifier), str(plain), plain.extras, plain.url, plain.marker) == \
        (full.name, str(full.specifier), str(full), full.extras, full.url, full.marker)


# any other shape (or specifiers packaging rejects) goes to the full parser, which accepts or words the error
@pytest.mark.parametrize(("text", "valid"), [
    ("black[jupyter]>=24", True), ("ruff >= 0.6", True), ("ruff (>=0.6)", True), ("ruff; python_version>'3'", True),
    ("ruff @ https://example.invalid/ruff.whl", True), ("ruff==", False), ("ruff==1,", True), ("ruff>=1.0.*", False),
    ("ruff===1.0", True), ("-ruff", False), ("ruff-", False), ("", False),
])
def test_other_requirements_go_to_the_full_parser(text, valid):
    from packaging.requirements import InvalidRequirement

    assert config.plain_requirement(text) is None
    try:
        config.requirement(text)
    except InvalidRequirement:
        assert not valid
    else:
        assert valid


def test_a_plain_pipx_tool_does_not_import_the_pep508_parser():
    import subprocess
    import sys

    code = ("import sys; from provision.project import config; assert config.pipx_requirement('ruff==0.6.9') is not None; "
            "assert config.pipx_package_name('Pre_Commit>=3') == 'pre-commit'; print('packaging.requirements' in sys.modules)")
    root = Path(config.__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=str(root)).stdout
    assert out.strip() == "False"
