"""Live co-editing (issue 32): 50 simulated editors (Yjs clients in Python, pycrdt, over real
WebSockets) typing in one draft. Figures: p50/p95 time for an update to reach every other editor
on one node (targets < 50 ms) and across two nodes sharing PostgreSQL and Redis (< 100 ms), how
that grows with the number of editors, and the server's memory per open draft (its RSS before
and after opening drafts with a few editors each) and how it grows with drafts.

An update's latency is from the moment its editor sends it to the moment each other editor's
document holds it (the editors' own clocks: all run in this process). The editors type at
`--rate` keystrokes per second each, for `--seconds`.

    make bench   (or: python -m bench.bench_drafts [--editors 50] [--seconds 8] [--rate 1])
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.rss import _pss_kb, tree
from bench.stats import pct
from registry.drafts import ydoc
from tests.pg import pg_database
from tests.services import Server, redis_server, registry_server
from tests.yclient import SocketEditor

TEXT = "You are careful.\nBe brief.\nCite sources.\n"
PROCESSES = "registry serve's default: a process per core"


class TimedEditor(SocketEditor):
    """A SocketEditor that notes when each other editor's clock reached each value."""

    def __init__(self) -> None:
        super().__init__()
        self.reached: dict[int, list[tuple[int, float]]] = {}

    def handle(self, data: bytes) -> list[bytes]:
        replies = super().handle(data)
        if data[:2] == b"\x00\x02":  # an update: note where every clock stands now
            now = time.perf_counter()
            for client, clock in ydoc.state_vector(self.doc.get_state()).items():
                marks = self.reached.setdefault(client, [])
                if not marks or marks[-1][0] < clock:
                    marks.append((clock, now))
        return replies


USERS = [f"e{i}" for i in range(10)]  # editors take turns among them (a user has at most 32 connections)


def _pss_mb(pid: int) -> float:
    """The server's process tree's proportional memory (bench.rss): `serve`'s processes and supervisor."""
    return sum(_pss_kb(p)[0] for p in tree(pid)) / 1024


def _accounts(server: Server) -> list[str]:
    tokens = server.accounts(("owner", *USERS), {u: (u, "write") for u in ("owner", *USERS)})
    return [tokens["owner"]] + [tokens[u] for u in USERS]


def _setup(server: Server, tokens: list[str], name: str) -> None:
    with httpx.Client(base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {tokens[0]}"},
                      timeout=60) as api:
        api.post("/templates", json={"name": name}).raise_for_status()
        api.put(f"/templates/owner/{name}/contents/prompt.md",
                json={"message": "p", "content": base64.b64encode(TEXT.encode()).decode()}).raise_for_status()
        for user in USERS:
            api.put(f"/templates/owner/{name}/collaborators/{user}", json={"role": "writer"}).raise_for_status()


def _draft(server: Server, token: str, name: str) -> str:
    made = httpx.post(f"{server.url}/api/v1/templates/owner/{name}/drafts", timeout=60,
                      headers={"Authorization": f"Bearer {token}"}, json={"branch": "main", "path": "prompt.md"})
    made.raise_for_status()
    return made.json()["ws"] + "?path=prompt.md"


def _auth(tokens: list[str], i: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[1 + i % len(USERS)]}"}


async def _latencies(urls: list[str], tokens: list[str], seconds: float, rate: float) -> list[float]:
    """Editors connected round-robin to `urls`, typing; each update's time to every other editor (ms)."""
    editors = [TimedEditor() for _ in urls]
    await asyncio.gather(*(e.connect(url, _auth(tokens, i)) for i, (e, url) in enumerate(zip(editors, urls,
                                                                                             strict=True))))
    await asyncio.gather(*(e.until(lambda e=e: e.synced, timeout=60) for e in editors))
    sent: list[tuple[int, int, float]] = []  # (client, clock after, when)
    rng = random.Random(1)

    async def typist(editor: TimedEditor) -> None:
        await asyncio.sleep(rng.random() / rate)
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            messages = editor.type(rng.randrange(len(str(editor.text)) + 1), rng.choice("abcdefgh "))
            clock = ydoc.state_vector(editor.doc.get_state())[editor.client_id]
            sent.append((editor.client_id, clock, time.perf_counter()))
            await editor.send(messages)
            await asyncio.sleep(rng.expovariate(rate))

    await asyncio.gather(*(typist(e) for e in editors))
    await asyncio.sleep(2.0)  # the last updates arrive
    out = []
    for client, clock, when in sent:
        for editor in editors:
            if editor.client_id == client:
                continue
            marks = editor.reached.get(client, [])
            arrived = next((t for c, t in marks if c >= clock), None)
            out.append(((arrived - when) * 1000) if arrived is not None else float("inf"))
    texts = {str(e.text) for e in editors}
    await asyncio.gather(*(e.close() for e in editors))
    if len(texts) != 1:
        raise AssertionError(f"the editors did not converge: {len(texts)} different texts")
    return out


def _line(label: str, values: list[float]) -> str:
    lost = sum(1 for v in values if v == float("inf"))
    got = [v for v in values if v != float("inf")]
    return (f"{label}: {len(values)} deliveries, p50 {pct(got, 0.5):.1f} ms, p95 {pct(got, 0.95):.1f} ms, "
            f"max {max(got):.1f} ms" + (f", {lost} never arrived" if lost else ""))


async def _memory(server: Server, tokens: list[str], name: str, drafts: int, editors_each: int) -> tuple[float, float]:
    """(memory growth in MB, per open draft in KB) of `drafts` drafts with `editors_each` editors each."""
    pid = server.proc.pid
    assert pid is not None
    before = _pss_mb(pid)
    urls = [_draft(server, tokens[0], name) for _ in range(drafts)]
    editors = [SocketEditor() for _ in range(drafts * editors_each)]
    for start in range(0, len(editors), 50):  # connecting in waves of 50
        await asyncio.gather(*(e.connect(urls[i % drafts], _auth(tokens, i)) for i, e in enumerate(editors)
                               if start <= i < start + 50))
    await asyncio.gather(*(e.until(lambda e=e: e.synced, timeout=60) for e in editors))
    for i, editor in enumerate(editors):
        await editor.send(editor.type(0, f"editor {i} was here\n" * 20))
    await asyncio.sleep(2.0)
    after = _pss_mb(pid)
    await asyncio.gather(*(e.close() for e in editors))
    return after - before, (after - before) * 1024 / drafts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--editors", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=float, default=1.0, help="keystrokes per second per editor")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with registry_server(root / "one", {"REGISTRY_DRAFT_MESSAGES_PER_SECOND": "1000"}) as one:
            tokens = _accounts(one)
            _setup(one, tokens, "bench")
            for n in sorted({10, 25, args.editors}):
                ws = _draft(one, tokens[0], "bench")
                values = asyncio.run(_latencies([ws] * n, tokens, args.seconds, args.rate))
                print(_line(f"one node ({PROCESSES}), {n} editors at {args.rate:g}/s each", values), flush=True)
            for drafts in (20, 100):
                grown, per = asyncio.run(_memory(one, tokens, "bench", drafts, 2))
                print(f"one node, {drafts} open drafts of 2 editors (~1 KB of text each): server memory (PSS) "
                      f"+{grown:.1f} MB, {per:.0f} KB per draft", flush=True)
        with pg_database() as db, redis_server() as redis:
            shared = {"REGISTRY_DATABASE_URL": db, "REGISTRY_REDIS_URL": redis,
                      "REGISTRY_BLOB_DIR": str(root / "blobs"), "REGISTRY_SECRET_KEY": "bench",
                      "REGISTRY_DRAFT_MESSAGES_PER_SECOND": "1000"}
            with registry_server(root / "a", shared) as a, registry_server(root / "b", shared) as b:
                tokens = _accounts(a)
                _setup(a, tokens, "bench")
                ws = _draft(a, tokens[0], "bench")
                other = ws.replace(a.url.replace("http", "ws"), b.url.replace("http", "ws"))
                urls = [ws if i % 2 == 0 else other for i in range(args.editors)]
                values = asyncio.run(_latencies(urls, tokens, args.seconds, args.rate))
                print(_line(f"two nodes (PostgreSQL, Redis), {args.editors} editors, half on each", values),
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
