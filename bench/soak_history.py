"""The soak's history of client operations (Jepsen's method): every request the load made, when,
through which node, and what the client saw, classified the same way for git and the API.

Outcomes: `ok`; `refused` (the server said no, with a reason: a 4xx, `[remote rejected]`, an
ERR line); `rejected` (git itself declined to send); `unavailable` (a 503 while a dependency
is down); `down` (the node's port refused the connection: nothing was sent); `unknown` (the
connection broke or timed out: the client cannot know); `error` (a 5xx other than 503, or a
503 without Retry-After: a broken promise in itself).
"""
from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.gitcli import git

_FIVE_XX = re.compile(r"(?:returned error: |HTTP )(5\d\d)")


@dataclass
class Op:
    kind: str
    node: str
    start: float
    end: float = 0.0
    outcome: str = ""
    template: str = ""
    ref: str = ""
    sha: str = ""
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class History:
    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.lock = threading.Lock()
        self.t0 = time.monotonic()

    def add(self, op: Op) -> Op:
        op.end = op.end or time.monotonic()
        with self.lock:
            self.ops.append(op)
        return op

    def of(self, prefix: str) -> list[Op]:
        with self.lock:
            return [op for op in self.ops if op.kind.startswith(prefix)]

    def tally(self) -> Counter[str]:
        with self.lock:
            return Counter(f"{op.kind} {op.outcome}" for op in self.ops)

    def dump(self, path: Path, faults: list[Any]) -> None:
        """The history and the faults as JSON lines, times in seconds from the start of the load."""
        with self.lock, path.open("w") as out:
            for item in sorted([*self.ops, *faults], key=lambda x: x.start):
                row = dict(vars(item), type=type(item).__name__)
                row["start"], row["end"] = round(item.start - self.t0, 3), round(item.end - self.t0, 3)
                out.write(json.dumps(row, default=str) + "\n")

    def errors(self) -> list[Op]:
        with self.lock:
            return [op for op in self.ops if op.outcome == "error"]


def http(client: httpx.Client, method: str, url: str, **kwargs: Any) -> tuple[str, httpx.Response | None, str]:
    """One API request: (outcome, response or None, detail)."""
    try:
        res = client.request(method, url, **kwargs)
    except httpx.ConnectError as exc:
        return "down", None, str(exc)[:200]
    except httpx.HTTPError as exc:
        return "unknown", None, f"{type(exc).__name__}: {exc}"[:200]
    if res.status_code == 503:
        if not res.headers.get("retry-after"):
            return "error", res, f"503 without Retry-After: {res.text[:200]}"
        return "unavailable", res, res.text[:200]
    if res.status_code >= 500:
        return "error", res, f"{res.status_code}: {res.text[:300]}"
    if res.status_code >= 400:
        return "refused", res, f"{res.status_code}: {res.text[:200]}"
    return "ok", res, ""


def git_outcome(res: subprocess.CompletedProcess | None) -> tuple[str, str]:
    """What git's exit and output say happened to a push, clone or fetch."""
    if res is None:
        return "unknown", "timed out"
    out = (res.stdout or "") + (res.stderr or "")
    tail = " | ".join(line.strip() for line in out.strip().splitlines()[-4:])[:400]
    if res.returncode == 0 and "[remote rejected]" not in out:
        return "ok", ""
    if any(code != "503" for code in _FIVE_XX.findall(out)):
        return "error", tail  # "The requested URL returned error: 500", "RPC failed; HTTP 502"
    if re.search(r"\b503\b", out) or "unavailable" in out:  # a 503, an ERR line, or a ref refused as "storage unavailable"
        return "unavailable", tail
    if "[remote rejected]" in out or "remote error:" in out:
        return "refused", tail
    if "[rejected]" in out:  # git's own "(fetch first)", "(non-fast-forward)": nothing sent
        return "rejected", tail
    # Nothing sent only when the first request found no server; a request sent on a kept-alive
    # connection and cut off says "Failed to connect" too, once git tries again (then: unknown).
    if "unable to access" in out and ("Failed to connect" in out or "Couldn't connect" in out):
        return "down", tail
    return "unknown", tail


def run_git(*args: str, cwd: Any = None, timeout: float = 300) -> subprocess.CompletedProcess | None:
    try:
        return git(*args, cwd=cwd, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
