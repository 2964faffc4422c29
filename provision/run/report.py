"""Rendering for people (text) and machines (JSON). No logic, no probing."""

from __future__ import annotations

import json
from typing import Any, TextIO

from ..machine.facts import Facts
from ..redact import mask, safe
from .runner import Recap, StepResult

MARK = {"ok": "ok", "changed": "changed", "failed": "FAILED", "skipped": "skipped"}


def header(facts: Facts, profile: str, python: str, notice: str | None, dry_run: bool) -> str:
    where = facts.distro_name or facts.system
    if facts.distro_version and facts.distro_version not in where:
        where += f" {facts.distro_version}"
    if facts.distro_codename:
        where += f" ({facts.distro_codename})"
    lines = [f"provision: {where} · profile {profile} · Python {python}"]
    if facts.preset:
        lines.append(f"  platform preset {facts.preset}: a freshly installed machine, not this one")
    if notice:
        lines.append(f"  notice: {notice}")
    if dry_run:
        lines.append("  dry run: nothing is changed; these are the exact commands a real run would start with")
    return safe("\n".join(lines))  # os-release and paths are outside input


def step_text(res: StepResult, *, is_root: bool, dry_run: bool) -> str:
    mark = "would change" if (dry_run and res.status == "changed") else MARK[res.status]
    lines = [f"[{mark}] {res.title}: {safe(res.reason)}"]
    if res.commands and (dry_run or res.status == "failed"):
        for c in res.commands:
            shown = c.shell(is_root=is_root)
            lines.append(f"    $ {shown}")
    elif res.commands:
        lines.append(f"    ran {len(res.commands)} command(s) in {res.duration:.1f}s")
    if res.error:
        lines += [f"    {ln}" for ln in safe(res.error).splitlines()]
    return "\n".join(lines)


def recap_json(recap: Recap, facts: Facts, extra: dict[str, Any], *, is_root: bool) -> dict[str, Any]:
    return {
        "platform": facts.platform_key,
        "preset": facts.preset,
        "dry_run": recap.dry_run,
        **extra,
        "steps": [r.to_json(is_root=is_root) for r in recap.results],
        "recap": {k: recap.count(k) for k in ("ok", "changed", "failed", "skipped")},
    }


def dump(data: Any, out: TextIO) -> None:
    """JSON for machines, masked like everything else the kit prints (JSON escapes controls itself)."""
    out.write(mask(json.dumps(data, indent=2, sort_keys=False, default=str)))
    out.write("\n")


def facts_text(facts: Facts) -> str:
    """`facts` for people: one line per fact, in the order the plan uses them."""
    lines = [
        f"system           {facts.system} {facts.arch}",
        f"distro           {facts.distro_name} id={facts.distro_id} version={facts.distro_version or '-'} "
        f"codename={facts.distro_codename or '-'}",
        f"ID_LIKE          {' '.join(facts.id_like) or '-'}",
        f"environment      {'WSL ' if facts.wsl else ''}{facts.container or 'no container'}",
        f"user             {facts.user or '-'} ({'root' if facts.is_root else 'not root'}; sudo: {facts.sudo})",
        f"package managers {' '.join(facts.package_managers) or '-'}",
    ]
    for p in facts.pythons:
        tags = [
            "default" if p.is_default else "",
            "os-managed" if p.os_managed else "not from the OS",
            "EXTERNALLY-MANAGED" if p.externally_managed else "",
            "venv" if p.has_venv else "no venv",
            "ensurepip" if p.has_ensurepip else "no ensurepip",
            "ssl" if p.has_ssl else "NO ssl",
            "Python.h" if p.headers else "no Python.h",
            p.framework,
        ]
        lines.append(f"python           {p.path} {p.version} [{', '.join(t for t in tags if t)}]")
    if not facts.pythons:
        lines.append("python           none found")
    for t in (facts.pip, facts.pipx):
        lines.append(f"{t.name:<16} {t.path or 'not on PATH'}{f' (runs {t.python})' if t.python else ''}")
    lines.append(f"C compiler       {facts.compiler or 'none'}")
    lines.append("CA configuration " + (", ".join(f"{k}={v}" for k, v in facts.ca.items()) or "defaults"))
    lines.append("proxies          " + (", ".join(f"{k}={v}" for k, v in facts.proxies.items()) or "none"))
    if facts.preset:
        lines.append(f"preset           {facts.preset} (a freshly installed machine, not this one)")
    for key, (where, value) in facts.pip_index.items():
        lines.append(f"pip {key:<12} {value} ({where})")
    return safe("\n".join(lines))
