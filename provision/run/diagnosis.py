"""A failed command's output -> explain's finding and the fix for this machine, as text.

The one place the runner (and ``install --fix``) asks ``provision.diagnose.explain``. When
the output shows a distribution failing to build, the build-needs table gives its needs
(pycurl -> curl), rendered with the profile: when explain does not know the cause, and when
it names the first missing library of several the table knows (python-ldap: lber.h -> ldap,
and sasl would fail next), so that one --fix installs them all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..machine.facts import Facts
from ..platforms.profiles import Profile
from ..project import build_needs

# pip 20-22 name the distribution bare, newer pips quote it: "Failed to build 'pycurl' when ..."
BUILD_FAILED = (r"Failed building wheel for '?([A-Za-z0-9._-]+)", r"Failed to build '?([A-Za-z0-9._-]+)",
                r"Building wheel for '?([A-Za-z0-9._-]+)'? \(", r"Collecting '?([A-Za-z0-9._-]+)")
SOURCE_BUILD = ("metadata-generation-failed", "egg_info did not run successfully", "Failed building wheel",
                "Failed to build", "subprocess-exited-with-error", "error: command", "Running setup.py install")


@dataclass(frozen=True)
class Diagnosis:
    text: str  # for people, several lines
    needs: tuple[str, ...] = ()  # what install --fix can install
    packages: tuple[str, ...] = ()  # distributions the needs came from (table fallback)


def failing_distributions(output: str) -> list[str]:
    """Distributions pip was building when it failed (newest mention last)."""
    if not any(s in output for s in SOURCE_BUILD):
        return []
    names: list[str] = []
    for pat in BUILD_FAILED:
        found = re.findall(pat, output)
        for name in found[-1:] if pat.startswith("Collecting") else found:
            clean = re.split(r"[<>=!~;\[ ]", name)[0]
            if clean and clean not in names:
                names.append(clean)
        if names:
            break
    return names


def table_needs(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """(needs, distributions) the build-needs table knows for these source builds."""
    needs: list[str] = []
    known: list[str] = []
    for name in names:
        found = build_needs.needs_for(name, built_from_source=True)
        if found:
            known.append(name)
            needs += [n for n in found if n not in needs]
    return needs, known


def with_table(needs: Sequence[str], names: Sequence[str]) -> tuple[list[str], list[str]]:
    """(needs, distributions the table added to them): explain's needs, completed by the
    build-needs table of the distributions that failed when explain found none, or when the
    table has every need explain found (the log shows the first missing library; the table
    knows the next). A table that disagrees with the log adds nothing."""
    table, known = table_needs(names)
    if not table or (needs and not set(needs) <= set(table)):
        return list(needs), []
    more = [n for n in table if n not in needs]
    return ([*needs, *more], known) if more else (list(needs), [])


def diagnose(output: str, facts: Facts, profile: Profile | None, *, asked: Sequence[str] = ()) -> Diagnosis:
    """explain's findings, plus the table's needs when explain names no installable need."""
    from ..diagnose.explain import explain
    from ..diagnose.fixes import Machine, install_command

    where = Machine(facts, profile)
    result = explain(output, where)
    lines: list[str] = []
    needs: list[str] = []
    for f in result.findings:
        lines.append(f"diagnosis: {f.category}{f' ({f.need})' if f.need else ''}: {f.explanation}")
        lines += [f"  fix: {x}" for x in f.fix]
        needs += [n for n in f.installable_needs if n not in needs]
    table, known = with_table(needs, [*failing_distributions(output), *asked])
    if known:
        pkgs = install_command(where, tuple(dict.fromkeys(p for n in table for p in _packages(profile, n)))) \
            or f"install the system packages for {', '.join(table)}"
        lines.append(f"diagnosis: {', '.join(known)} failed to build from source; the build-needs table says it needs "
                     f"{', '.join(table)}")
        lines.append(f"  fix: {pkgs}")
        needs = table
    if not lines:
        lines.append("diagnosis: not recognised by ./bootstrap explain (the log has pip's whole output)")
    return Diagnosis("\n".join(lines), tuple(needs), tuple(known))


def _packages(profile: Profile | None, need: str) -> tuple[str, ...]:
    try:
        return profile.packages(need) if profile else ()
    except Exception:  # noqa: BLE001 - an unavailable need has no packages to name
        return ()
