"""Version ranges and names as ``packaging`` answers them, remembered between runs.

Every run asks the same few questions: is ``'>=3.9'`` a valid range, is ``3.11.2`` in it,
what is the canonical name of the extra ``Dev``. ``packaging`` answers them, but importing
``packaging.specifiers`` pulls ``packaging.tags`` (with ``logging``, ``platform``,
``sysconfig``) and compiles its grammars: about 9 ms, a tenth of a no-op run. The
answers are pure functions of their text arguments and of packaging's version, so they
are kept (``provision.memo``) keyed by that version; a question not seen before imports
packaging, and the file is rewritten when the run flushes its new answers.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import packaging  # only the package's metadata (its __version__): the modules load on a miss

from .. import memo

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

#: at most this many remembered answers per kind: a file that would grow past it starts over
LIMIT = 4096

_answers: dict[str, dict[str, Any]] | None = None


def memo_name() -> str:
    return f"packaging-{packaging.__version__}.json"


def _load() -> dict[str, dict[str, Any]]:
    global _answers
    if _answers is None:
        data = memo.read(memo_name())
        _answers = {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}
    return _answers


def _remember(kind: str, key: str, value: Any) -> Any:
    table = _load().setdefault(kind, {})
    if len(table) >= LIMIT:
        table.clear()
    table[key] = value
    memo.keep(memo_name(), _answers)
    return value


@cache
def _specifier_set(text: str) -> SpecifierSet:
    """packaging's parse of a range, once per text in a process (a sweep asks one range about
    hundreds of made-up versions)."""
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(text)


def specifier_error(text: str) -> str | None:
    """Why ``text`` is not a PEP 440 version range (packaging's words), or None when it is one."""
    known = _load().get("error", {})
    if text in known:
        return known[text]
    from packaging.specifiers import InvalidSpecifier

    try:
        _specifier_set(text)
        error = None
    except InvalidSpecifier as e:
        error = str(e)
    return _remember("error", text, error)


def normal(text: str) -> str:
    """packaging's spelling of a valid range (``'<3, >=2'`` -> ``'<3,>=2'``)."""
    known = _load().get("normal", {})
    if text in known:
        return known[text]
    return _remember("normal", text, str(_specifier_set(text)))


def contains(text: str, version: str, *, prereleases: bool | None = None, remember: bool = True) -> bool:
    """Whether ``version`` is in the valid range ``text`` (packaging's ``SpecifierSet.contains``).

    ``remember=False`` for a sweep of made-up versions (which minors could satisfy a range):
    those questions are not asked again by the next run."""
    key = f"{text}\n{version}\n{prereleases}"
    known = _load().get("contains", {})
    if key in known:
        return bool(known[key])
    answer = _specifier_set(text).contains(version, prereleases=prereleases)
    return _remember("contains", key, answer) if remember else answer


def canonical_name(name: str) -> str:
    """The PEP 503 normalised name (packaging's ``canonicalize_name``)."""
    known = _load().get("name", {})
    if name in known:
        return known[name]
    from packaging.utils import canonicalize_name

    return _remember("name", name, str(canonicalize_name(name)))


def requirement_facts(text: str) -> tuple[str | None, str | None]:
    """(why ``text`` is not a PEP 508 requirement, or None; its URL when it names one)."""
    known = _load().get("requirement", {})
    if text in known and isinstance(known[text], list) and len(known[text]) == 2:
        error, url = known[text]
        return error, url
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        answer = [None, Requirement(text).url]
    except InvalidRequirement as e:
        answer = [str(e), None]
    _remember("requirement", text, answer)
    return answer[0], answer[1]


class Range:
    """A valid version range, as much of packaging's ``SpecifierSet`` as the kit reads:
    ``contains``, ``str`` and truth (empty: any version)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def contains(self, version: str, prereleases: bool | None = None) -> bool:
        return contains(self.text, version, prereleases=prereleases)

    def __str__(self) -> str:
        return normal(self.text) if self.text else ""

    def __repr__(self) -> str:
        return f"<Range({str(self)!r})>"

    def __bool__(self) -> bool:
        return bool(self.text.strip())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Range) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))
