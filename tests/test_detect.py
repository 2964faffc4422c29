"""Project detection as tables: project files in -> source, files used/ignored, groups, extras, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provision.errors import ConfigError
from provision.project import config, detect

UV_LOCK = """version = 1
requires-python = ">=3.10"

[[package]]
name = "idna"
version = "3.10"
source = { registry = "https://index.example/simple" }
sdist = { url = "https://files.example/idna-3.10.tar.gz", hash = "sha256:aa" }
wheels = [{ url = "https://files.example/idna-3.10-py3-none-any.whl", hash = "sha256:bb" }]

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
"""

POETRY2_LOCK = """[[package]]
name = "six"
version = "1.16.0"
optional = false
python-versions = ">=2.7"
files = [
    {file = "six-1.16.0-py2.py3-none-any.whl", hash = "sha256:aa"},
    {file = "six-1.16.0.tar.gz", hash = "sha256:bb"},
]

[metadata]
lock-version = "2.1"
python-versions = "^3.10"
content-hash = "abc"
"""

POETRY1_LOCK = """[[package]]
name = "six"
version = "1.16.0"
category = "main"
optional = false
python-versions = ">=2.7"

[metadata]
lock-version = "1.1"
python-versions = "^3.9"
content-hash = "abc"

[metadata.files]
six = [
    {file = "six-1.16.0-py2.py3-none-any.whl", hash = "sha256:aa"},
]
"""

PDM_LOCK = """[metadata]
groups = ["default", "dev"]
strategy = ["inherit_metadata"]
lock_version = "4.5.0"
content_hash = "sha256:abc"
requires_python = ">=3.9"

[[package]]
name = "idna"
version = "3.10"
requires_python = ">=3.6"
files = [{file = "idna-3.10-py3-none-any.whl", hash = "sha256:aa"}]
"""

PYLOCK = """lock-version = "1.0"
requires-python = ">=3.9"
created-by = "uv"

[[packages]]
name = "idna"
version = "3.10"
wheels = [{ url = "https://files.example/idna-3.10-py3-none-any.whl", hashes = { sha256 = "aa" } }]
"""

PIPFILE = """[[source]]
url = "https://index.example/simple"
verify_ssl = true
name = "pypi"

[packages]
six = "==1.16.0"

[dev-packages]
pytest = "*"

[requires]
python_version = "3.11"
"""

PIPFILE_LOCK = json.dumps({
    "_meta": {"hash": {"sha256": "abc"}, "requires": {"python_version": "3.11"}, "sources": []},
    "default": {"six": {"hashes": ["sha256:aa"], "version": "==1.16.0"}},
    "develop": {"pytest": {"hashes": ["sha256:bb"], "version": "==8.3.3"}},
})

HASHED_REQ = """idna==3.10 \\
    --hash=sha256:12f65c9b470abda6dc35cf8e63cc574b1c52b11df2c86030af0ac09b01b13ea9
"""

PEP621 = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["idna>=3"]

[project.optional-dependencies]
test = ["pytest"]
docs = ["sphinx"]
"""

GROUPS = """[project]
name = "app"
version = "0.1.0"
dependencies = ["idna>=3"]

[dependency-groups]
test = ["pytest>=8"]
lint = ["ruff"]
dev = [{ include-group = "test" }, "coverage"]
"""

POETRY_PYPROJECT = """[tool.poetry]
name = "app"
version = "0.1.0"
description = ""
authors = []

[tool.poetry.dependencies]
python = "^3.10"
six = "^1.16"

[tool.poetry.group.dev.dependencies]
pytest = "^8"

[tool.poetry.group.docs]
optional = true

[tool.poetry.group.docs.dependencies]
sphinx = "*"

[build-system]
requires = ["poetry-core"]
build-backend = "poetry.core.masonry.api"
"""


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def spec_of(tmp_path: Path, files: dict[str, str]) -> detect.ProjectSpec:
    return detect.detect(config.load(project(tmp_path, files)))


def names(uses: tuple[detect.FileUse, ...], base: Path) -> list[str]:
    return [str(u.path.relative_to(base)) for u in uses]


DETECT = [
    # id, files, kind, used, ignored, groups, extras, editable, tool
    ("uv lock", {"pyproject.toml": PEP621 + "\n[tool.uv]\n", "uv.lock": UV_LOCK, "requirements.txt": "idna\n"},
     "uv", ["uv.lock"], ["requirements.txt"], (), ("test",), False, "uv==0.13.9"),
    ("uv lock wins over poetry lock by order", {"pyproject.toml": PEP621, "uv.lock": UV_LOCK, "poetry.lock": POETRY2_LOCK},
     "uv", ["uv.lock"], ["poetry.lock"], (), ("test",), False, "uv==0.13.9"),
    ("[tool.poetry] makes poetry.lock win", {"pyproject.toml": POETRY_PYPROJECT, "uv.lock": UV_LOCK, "poetry.lock": POETRY2_LOCK},
     "poetry", ["poetry.lock"], ["uv.lock"], ("dev",), (), False, "poetry==2.5.1"),
    ("poetry 1 layout: non-optional groups", {"pyproject.toml": POETRY_PYPROJECT, "poetry.lock": POETRY1_LOCK},
     "poetry", ["poetry.lock"], [], ("dev",), (), False, "poetry==2.5.1"),
    ("pdm", {"pyproject.toml": PEP621 + "\n[tool.pdm.dev-dependencies]\ndev = ['pytest']\n", "pdm.lock": PDM_LOCK},
     "pdm", ["pdm.lock"], [], ("dev",), ("test",), False, "pdm==2.29.4"),
    ("pipfile lock", {"Pipfile": PIPFILE, "Pipfile.lock": PIPFILE_LOCK}, "pipenv", ["Pipfile.lock", "Pipfile"], [], ("dev",), (),
     False, "pipenv==2026.10.3"),
    ("pipfile alone", {"Pipfile": PIPFILE}, "pipenv", ["Pipfile"], [], ("dev",), (), False, "pipenv==2026.10.3"),
    ("pylock", {"pyproject.toml": PEP621, "pylock.toml": PYLOCK}, "pylock", ["pylock.toml"], [], (), ("test",), True, "uv==0.13.9"),
    ("PEP 621 with extras: editable + dev extras only", {"pyproject.toml": PEP621}, "pip", ["pyproject.toml"], [], (), ("test",),
     True, None),
    ("PEP 735 groups, not a package", {"pyproject.toml": GROUPS}, "pip", ["pyproject.toml", "pyproject.toml"], [], ("dev",), (),
     False, None),
    ("setup.cfg", {"setup.cfg": "[metadata]\nname = app\n[options]\npython_requires = >=3.8\n[options.extras_require]\ntesting = pytest\n",
                   "setup.py": "from setuptools import setup\nsetup()\n"}, "pip", ["setup.cfg"], [], (), ("testing",), True, None),
    ("setup.py extras", {"setup.py": "from setuptools import setup\nsetup(name='a', extras_require={'dev': ['pytest'], 'docs': []},)\n"},
     "pip", ["setup.py"], [], (), ("dev",), True, None),
    ("requirement files by convention", {"requirements.txt": "idna\n", "requirements-dev.txt": "-r requirements.txt\npytest\n"},
     "pip", ["requirements-dev.txt"], [], (), (), False, None),
    ("requirements dir with constraints", {"requirements/base.txt": "-c constraints.txt\nidna\n", "requirements/constraints.txt": "idna==3.10\n",
                                           "requirements/dev.txt": "-r base.txt\npytest\n"},
     "pip", ["requirements/dev.txt"], [], (), (), False, None),
    ("requirements.in next to its .txt", {"requirements.in": "idna\n", "requirements.txt": "idna==3.10\n"},
     "pip", ["requirements.txt"], ["requirements.in"], (), (), False, None),
    ("nothing declared", {"README.md": "hi\n"}, "none", [], [], (), (), False, None),
    ("lock = none ignores the lock", {"pyproject.toml": PEP621 + "\n[tool.provision]\nlock = 'none'\n", "uv.lock": UV_LOCK},
     "pip", ["pyproject.toml"], ["uv.lock"], (), ("test",), True, None),
    ("config requirements win over a lock", {"pyproject.toml": PEP621 + "\n[tool.provision]\nrequirements = ['r.txt']\n", "uv.lock": UV_LOCK,
                                             "r.txt": "idna\n"}, "pip", ["r.txt"], ["uv.lock"], (), (), False, None),
    ("config groups override", {"pyproject.toml": GROUPS + "\n[tool.provision]\ngroups = ['lint']\n"}, "pip",
     ["pyproject.toml", "pyproject.toml"], [], ("lint",), (), False, None),
    ("uv required-version outside the pin", {"pyproject.toml": PEP621 + "\n[tool.uv]\nrequired-version = '>=0.5,<0.6'\n", "uv.lock": UV_LOCK},
     "uv", ["uv.lock"], [], (), ("test",), False, "uv<0.6,>=0.5"),
    ("uv's default-groups decide", {"pyproject.toml": GROUPS + "\n[tool.uv]\ndefault-groups = ['lint', 'Test']\n", "uv.lock": UV_LOCK},
     "uv", ["uv.lock"], [], ("test", "lint"), (), False, "uv==0.13.9"),
    ("uv's default-groups: all", {"pyproject.toml": GROUPS + "\n[tool.uv]\ndefault-groups = 'all'\n", "uv.lock": UV_LOCK},
     "uv", ["uv.lock"], [], ("test", "lint", "dev"), (), False, "uv==0.13.9"),
    ("requires-poetry inside the pin", {"pyproject.toml": POETRY_PYPROJECT.replace('authors = []', 'authors = []\nrequires-poetry = ">=2.0"'),
                                        "poetry.lock": POETRY2_LOCK}, "poetry", ["poetry.lock"], [], ("dev",), (), False, "poetry==2.5.1"),
]


@pytest.mark.parametrize(("name", "files", "kind", "used", "ignored", "groups", "extras", "editable", "tool"), DETECT,
                         ids=[d[0] for d in DETECT])
def test_detect(tmp_path, name, files, kind, used, ignored, groups, extras, editable, tool):
    spec = spec_of(tmp_path, files)
    assert spec.kind == kind
    assert names(spec.used, tmp_path) == used
    assert names(spec.ignored, tmp_path) == ignored
    assert spec.groups == groups and spec.extras == extras and spec.install_project == editable
    assert spec.tool_requirement == tool
    assert all(p.is_file() for p in spec.deciding)


def test_ignored_say_why(tmp_path):
    spec = spec_of(tmp_path, {"pyproject.toml": PEP621, "uv.lock": UV_LOCK, "poetry.lock": POETRY2_LOCK, "requirements.txt": "x\n"})
    why = {u.path.name: u.why for u in spec.ignored}
    assert "uv.lock wins" in why["poetry.lock"] and "uv.lock decides" in why["requirements.txt"]


def test_groups_resolve_includes(tmp_path):
    spec = spec_of(tmp_path, {"pyproject.toml": GROUPS})
    # not a package (no [build-system]): its dependencies go to pip as requirements, then the dev group
    assert spec.group_requirements == ("idna>=3", "pytest>=8", "coverage")


def test_nothing_declared_is_a_notice(tmp_path):
    spec = spec_of(tmp_path, {})
    assert spec.nothing and "declares nothing" in spec.notices[-1]


def test_deciding_files_cover_includes_and_python_version(tmp_path):
    spec = spec_of(tmp_path, {"requirements-dev.txt": "-r requirements/base.txt\n", "requirements/base.txt": "-c c.txt\nidna\n",
                              "requirements/c.txt": "idna==3.10\n", ".python-version": "3.11\n"})
    assert sorted(str(p.relative_to(tmp_path)) for p in spec.deciding) == [
        ".python-version", "requirements-dev.txt", "requirements/base.txt", "requirements/c.txt"]


PYTHON = [
    # files, [(text, source)] in the order honoured
    ({"pyproject.toml": PEP621, ".python-version": "3.12\n"}, [("3.12", ".python-version"), (">=3.10", "pyproject.toml requires-python")]),
    ({"pyproject.toml": PEP621, "uv.lock": UV_LOCK}, [(">=3.10", "uv.lock requires-python"), (">=3.10", "pyproject.toml requires-python")]),
    ({"pyproject.toml": POETRY_PYPROJECT, "poetry.lock": POETRY2_LOCK},
     [("^3.10", "poetry.lock python-versions"), ("^3.10", "pyproject.toml [tool.poetry.dependencies] python")]),
    ({"Pipfile": PIPFILE, "Pipfile.lock": PIPFILE_LOCK}, [("==3.11.*", "Pipfile.lock requires-python")]),
    ({"Pipfile": PIPFILE}, [("==3.11.*", "Pipfile [requires]")]),
    ({"pyproject.toml": PEP621 + "\n[tool.provision]\npython = '>=3.11'\n"},
     [(">=3.11", "[tool.provision] python"), (">=3.10", "pyproject.toml requires-python")]),
    ({"setup.cfg": "[metadata]\nname = a\n[options]\npython_requires = >=3.8\n"}, [(">=3.8", "setup.cfg python_requires")]),
]


@pytest.mark.parametrize(("files", "expected"), PYTHON)
def test_python_constraints_in_order(tmp_path, files, expected):
    spec = spec_of(tmp_path, files)
    got = [(c.text, c.source) for c in spec.python]
    assert [t for t, _ in got] == [t for t, _ in expected]
    assert all(s.endswith(e) or e in s for (_, s), (_, e) in zip(got, expected))


POETRY_CONSTRAINTS = [
    ("^3.10", ["3.10.0", "3.13.1"], ["3.9.18", "4.0.0"]),
    ("~3.11", ["3.11.4"], ["3.12.0"]),
    (">=3.9,<3.13", ["3.12.9"], ["3.13.0"]),
    ("3.11.*", ["3.11.2"], ["3.12.0"]),
    (">=3.8 <3.10 || ^3.12", ["3.9.1", "3.12.0"], ["3.11.0"]),
    ("*", ["3.6.0"], []),
]


@pytest.mark.parametrize(("text", "inside", "outside"), POETRY_CONSTRAINTS)
def test_poetry_constraint(text, inside, outside):
    c = detect.PythonConstraint(text, "x", detect.poetry_constraint(text, "python", "pyproject.toml"))
    assert all(c.contains(v) for v in inside) and not any(c.contains(v) for v in outside)


ERRORS = [
    ({"pyproject.toml": GROUPS + "\n[tool.provision]\ngroups = ['docs']\n"}, "asks for the group 'docs'", "Defined groups: test, lint, dev"),
    ({"pyproject.toml": PEP621 + "\n[tool.provision]\nextras = ['dev']\n"}, "asks for the extra 'dev'", "Defined extras: test, docs"),
    ({"pyproject.toml": PEP621 + "\n[tool.provision]\nlock = 'poetry'\n"}, "has no poetry.lock", "poetry lock"),
    ({"pyproject.toml": PEP621 + "\n[tool.provision]\nlock = 'cargo'\n"}, "key 'lock'", "a tool name"),
    ({"pyproject.toml": PEP621 + "\n[tool.provision]\nvenv = 'env'\n", "uv.lock": UV_LOCK}, "key 'venv' = 'env'", "lock = \"none\""),
    ({"pyproject.toml": PEP621 + "\n[tool.provision]\ngroups = 'some'\n"}, "key 'groups' must be a list", ""),
    ({"pyproject.toml": PEP621 + "\n[tool.provision]\npython-downloads = 'yes'\n"}, "key 'python-downloads'", "true"),
    ({".python-version": "system\n", "requirements.txt": "x\n"}, ".python-version: names 'system'", "3.12"),
    ({"requirements.txt": "--trusted-host evil.example\nidna\n"}, "requirements.txt, line 1: asks for --trusted-host", "never uses --trusted-host"),
    ({"requirements.txt": "idna\n-i http://index.example/simple\n"}, "requirements.txt, line 2: asks for --index-url http://", "https://"),
    ({"requirements.txt": "--extra-index-url=http://x.example/simple\n"}, "line 1: asks for --extra-index-url http://", ""),
    ({"requirements.txt": "-f http://x.example/links\n"}, "line 1: asks for --find-links http://", ""),
    ({"requirements.txt": "-r missing.txt\n"}, "includes", "does not exist"),
    ({"requirements.txt": "idna>=>3\n"}, "line 1: has an invalid requirement", "PEP 508"),
    ({"pyproject.toml": "[project]\nname='a'\nversion='1'\n[dependency-groups]\ndev = [{include-group = 'nope'}]\n"},
     "includes the group 'nope'", "Defined: dev"),
    ({"pyproject.toml": "[project]\nname='a'\nversion='1'\nrequires-python='>=three'\n"}, "requires-python", "PEP 440"),
]


@pytest.mark.parametrize(("files", "problem", "fix"), ERRORS)
def test_errors_name_file_and_line(tmp_path, files, problem, fix):
    with pytest.raises(ConfigError) as e:
        spec_of(tmp_path, files)
    assert problem in str(e.value) and fix in str(e.value)
