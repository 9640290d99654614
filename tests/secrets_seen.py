"""Every token the tests make (through Server.accounts, Server.user and the CLI's token commands),
so that the end of the session can grep every log it wrote for them (tests/conftest.py): a
secret must never reach a log, whatever the request or job it rode in."""
from __future__ import annotations

from pathlib import Path

MADE: set[str] = set()


def remember(*tokens: str) -> None:
    MADE.update(t.strip() for t in tokens if t and len(t.strip()) >= 20)


def leaks(root: Path) -> list[str]:
    """`path: token…` for each log under `root` that holds a token made in this session."""
    found = []
    for log in sorted(root.rglob("*.log")):
        try:
            text = log.read_text(errors="replace")
        except OSError:
            continue
        found += [f"{log}: {token[:8]}…" for token in sorted(MADE) if token in text]
    return found
