"""Requirement files, read once by one parser: includes, constraints, hashes, options.

pip's format, as far as the kit needs it: ``-r``/``-c`` includes (followed, relative to the
including file), ``--hash`` on a requirement, line continuations and comments, and the
global options. The kit never uses an http index or ``--trusted-host`` (README: never
fight TLS), so a requirement file that asks for one is refused here, naming file and line,
before anything runs — pip would otherwise follow the file's wish.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError
from . import versions

if TYPE_CHECKING:
    from packaging.requirements import Requirement


@cache
def _requirement(text: str) -> Requirement:
    """packaging's parse of a line already known valid: only when a caller looks inside it
    (a no-op run reads the files for their includes and validity, answered by ``versions``)."""
    from packaging.requirements import Requirement

    return Requirement(text)

# options that take a value, as pip spells them (short and long)
VALUED = {
    "-r": "requirement", "--requirement": "requirement",
    "-c": "constraint", "--constraint": "constraint",
    "-e": "editable", "--editable": "editable",
    "-i": "index-url", "--index-url": "index-url",
    "--extra-index-url": "extra-index-url",
    "-f": "find-links", "--find-links": "find-links",
    "--trusted-host": "trusted-host",
    "--no-binary": "no-binary", "--only-binary": "only-binary",
    "--hash": "hash",
    "--config-settings": "config-settings", "--global-option": "global-option",
}
FLAGS = {"--pre": "pre", "--prefer-binary": "prefer-binary", "--require-hashes": "require-hashes",
         "--no-index": "no-index", "--use-feature": "use-feature"}
URL_OPTIONS = ("index-url", "extra-index-url", "find-links")


@dataclass(frozen=True)
class Line:
    """One requirement of a file: where it is, its text, and what the kit knows of it."""

    file: Path
    number: int
    text: str  # the requirement as written (name/spec/URL/path), without options
    pep508: bool  # a PEP 508 requirement (False for a URL, a path or an editable)
    hashes: tuple[str, ...] = ()
    editable: bool = False

    @property
    def requirement(self) -> Requirement | None:
        """packaging's ``Requirement`` for the line (None for a URL, a path or an editable)."""
        return _requirement(self.text) if self.pep508 else None

    @property
    def name(self) -> str | None:
        return versions.canonical_name(self.requirement.name) if self.requirement else None

    @property
    def pinned(self) -> str | None:
        """The exact version (``name==1.2``), when the line pins one."""
        if not self.requirement:
            return None
        specs = list(self.requirement.specifier)
        if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
            return specs[0].version
        return None


@dataclass(frozen=True)
class RequirementFile:
    """A parsed file with its own lines and options; includes are files of their own."""

    path: Path
    lines: tuple[Line, ...] = ()
    includes: tuple[Path, ...] = ()  # -r
    constraints: tuple[Path, ...] = ()  # -c
    options: tuple[tuple[str, str], ...] = ()  # (option, value) for index/links/binary/pre
    require_hashes: bool = False

    @property
    def hashed(self) -> bool:
        """pip turns hash checking on for the whole call as soon as one line has a hash."""
        return self.require_hashes or any(line.hashes for line in self.lines)


@dataclass(frozen=True)
class Closure:
    """A top-level requirement file and every file it pulls in (``-r``, ``-c``), parsed."""

    root: Path
    files: tuple[RequirementFile, ...] = field(default=())

    @property
    def paths(self) -> tuple[Path, ...]:
        return tuple(f.path for f in self.files)

    @property
    def hashed(self) -> bool:
        return any(f.hashed for f in self.files)

    @property
    def lines(self) -> tuple[Line, ...]:
        return tuple(line for f in self.files for line in f.lines)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, text) with continuations joined and comments removed, as pip does."""
    buf, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s+)#.*$", "", raw)
        if not buf:
            start = number
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            yield start, buf.strip()
        buf = ""
    if buf.strip():
        yield start, buf.strip()


def _refuse_insecure(option: str, value: str, where: str) -> None:
    if option == "trusted-host":
        raise ConfigError(
            f"asks for --trusted-host {value}, which turns TLS verification off for that host.",
            "The kit never uses --trusted-host: remove the line and serve the index over https "
            "(behind TLS interception, give your CA with --ca-bundle).", where=where)
    if option in URL_OPTIONS and value.lower().startswith("http://"):
        flag = {"index-url": "--index-url", "extra-index-url": "--extra-index-url", "find-links": "--find-links"}[option]
        raise ConfigError(
            f"asks for {flag} {value}: plain http, which pip only accepts with --trusted-host.",
            "The kit never uses an http index: change it to https:// (behind TLS interception, give your CA with --ca-bundle).",
            where=where)


def parse_text(text: str, path: Path) -> RequirementFile:
    """Parse one file's text (no includes followed). Errors name file and line."""
    lines: list[Line] = []
    includes: list[Path] = []
    constraints: list[Path] = []
    options: list[tuple[str, str]] = []
    require_hashes = False
    for number, logical in _logical_lines(text):
        where = f"{path}, line {number}"
        # as pip does: the requirement is everything before the first word that starts with
        # '-' (kept verbatim: markers quote their values), the rest are options
        tokens = logical.split()
        first_option = next((i for i, t in enumerate(tokens) if t.startswith("-")), len(tokens))
        head = " ".join(tokens[:first_option])
        try:
            words = shlex.split(" ".join(tokens[first_option:]), posix=True)
        except ValueError as e:
            raise ConfigError(f"cannot be read ({e}).", "Fix the quoting on that line.", where=where) from e
        requirement_words: list[str] = [head] if head else []
        hashes: list[str] = []
        editable = False
        i = 0
        while i < len(words):
            word = words[i]
            name, eq, inline = word.partition("=") if word.startswith("--") else (word, "", "")
            if word.startswith("-") and not word.startswith("--") and len(word) > 2 and word[:2] in VALUED:
                name, inline, eq = word[:2], word[2:], "="  # -rfile.txt
            if name in VALUED:
                if eq:
                    value = inline
                else:
                    i += 1
                    if i >= len(words):
                        raise ConfigError(f"option {name} has no value.", "Give it one, as pip expects.", where=where)
                    value = words[i]
                option = VALUED[name]
                _refuse_insecure(option, value, where)
                if option == "requirement":
                    includes.append((path.parent / value).resolve())
                elif option == "constraint":
                    constraints.append((path.parent / value).resolve())
                elif option == "editable":
                    editable = True
                    requirement_words.append(value)
                elif option == "hash":
                    hashes.append(value)
                else:
                    options.append((option, value))
            elif name in FLAGS:
                if FLAGS[name] == "require-hashes":
                    require_hashes = True
                else:
                    options.append((FLAGS[name], ""))
            elif word.startswith("-"):
                raise ConfigError(f"has an option pip's requirement files do not take: {word}.",
                                  "Remove it or move it to the command line.", where=where)
            else:
                requirement_words.append(word)
            i += 1
        if not requirement_words:
            if hashes:
                raise ConfigError("has --hash without a requirement.", "Put the hash on the requirement's line.", where=where)
            continue
        req_text = " ".join(requirement_words)
        pep508 = not editable and not _looks_like_path_or_url(req_text)
        if pep508:
            error, url = versions.requirement_facts(req_text)
            if error is not None:
                raise ConfigError(f"has an invalid requirement {req_text!r} ({error}).",
                                  "Write a PEP 508 requirement such as 'requests>=2.31'.", where=where)
            if url and url.startswith("http://"):
                _refuse_insecure("find-links", url, where)
        lines.append(Line(path, number, req_text, pep508, tuple(hashes), editable))
    return RequirementFile(path, tuple(lines), tuple(includes), tuple(constraints), tuple(options), require_hashes)


def _looks_like_path_or_url(text: str) -> bool:
    return text.startswith((".", "/", "file:", "git+", "hg+", "svn+", "bzr+", "https:", "http:")) or (
        "/" in text and "@" not in text and ";" not in text)


def parse_file(path: Path) -> RequirementFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot be read ({e.strerror}).", "Check the path and its permissions.", where=str(path)) from e
    return parse_text(text, path)


def closure(root: Path) -> Closure:
    """The file and its ``-r``/``-c`` includes, each once, in the order pip meets them."""
    seen: dict[Path, RequirementFile] = {}

    def visit(path: Path, by: str) -> None:
        path = path.resolve()
        if path in seen:
            return
        if not path.is_file():
            raise ConfigError(f"includes {path}, which does not exist.", "Fix the -r/-c line or create the file.", where=by)
        parsed = parse_file(path)
        seen[path] = parsed
        for inc in (*parsed.includes, *parsed.constraints):
            visit(inc, str(path))

    visit(root, str(root))
    return Closure(root.resolve(), tuple(seen.values()))
