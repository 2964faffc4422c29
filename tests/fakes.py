"""Test doubles (they live with the tests, not in the kit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from provision.machine.probe import ProbeResult


@dataclass
class FakeProbe:
    """Canned answers for tests: commands by argv prefix, files by path."""

    commands: dict[tuple[str, ...], ProbeResult] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    mtimes: dict[str, float] = field(default_factory=dict)
    on_path: dict[str, str] = field(default_factory=dict)
    clock: float = 1_700_000_000.0
    asked: list[tuple[str, ...]] = field(default_factory=list)

    def run(self, argv: Sequence[str]) -> ProbeResult:
        key = tuple(argv)
        self.asked.append(key)
        for n in range(len(key), 0, -1):
            if key[:n] in self.commands:
                return self.commands[key[:n]]
        return ProbeResult(127, "", f"{argv[0]}: not canned")

    def exists(self, path: str) -> bool:
        return path in self.files or path in self.mtimes or any(f.startswith(path.rstrip("/") + "/") for f in self.files)

    def mtime(self, path: str) -> float | None:
        return self.mtimes.get(path, self.clock if path in self.files else None)

    def read_text(self, path: str) -> str | None:
        return self.files.get(path)

    def glob(self, pattern: str) -> list[str]:
        import fnmatch

        return sorted(p for p in {*self.files, *self.mtimes} if fnmatch.fnmatch(p, pattern))

    def listdir(self, path: str) -> list[str] | None:
        """The first path component below ``path`` of every file (None: no file below it)."""
        prefix = path.rstrip("/") + "/"
        names = {f[len(prefix):].split("/", 1)[0] for f in {*self.files, *self.mtimes} if f.startswith(prefix)}
        return sorted(names) if names or path in self.files else None

    def which(self, name: str) -> str | None:
        return self.on_path.get(name)

    def now(self) -> float:
        return self.clock


INDEX_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "index"
RECORDED_INDEX = "https://<index-host>/simple/"


@dataclass
class RecordedFetch:
    """The package index as recorded (tests/fixtures/index/*.json, see capture.py there): a URL
    the recording has answers with its response; any other, as an unreachable index would.
    ``html``: serve the HTML recordings (an index without PEP 691 JSON)."""

    html: bool = False
    asked: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def __call__(self, method: str, url: str, headers):  # -> index_lookup.Response
        import json

        from provision.diagnose.index_lookup import Response

        self.asked.append((method, url, dict(headers)))
        for f in sorted(INDEX_FIXTURES.glob("*.json")):
            rec = json.loads(f.read_text(encoding="utf-8"))
            if (rec["method"], rec["url"]) != (method, url) or (rec["status"] == 200 and method == "GET"
                                                                  and f.name.endswith(".html.json") != self.html):
                continue
            body = rec["body"]
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            return Response(rec["status"], rec["content_type"], data)
        raise OSError(f"not recorded: {url}")


def recorded_index(html: bool = False):  # -> index_lookup.SimpleIndex
    from provision.diagnose.index_lookup import SimpleIndex

    return SimpleIndex(RECORDED_INDEX, RecordedFetch(html))
