"""Wants of a stateless upload-pack request that are no longer ref tips.

Over smart HTTP a client reads the refs in one request and asks for objects in the next; a
push landing between the two moves a tip, and the client then wants an ancestor of a current
tip. C git serves any want reachable from a current ref in that case (upload-pack's
`check_non_tip`); dulwich refuses everything but exact tips. `stale_reachable` finds which
stale wants are reachable, by a walk bounded in commits visited, so a race is served and a
request for an unreachable object is still refused.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from dulwich.objects import ObjectID

from .pktline import lines
from .refsdoc import visible
from .repo import TemplateRepo
from .shallow import to_commit

WALK_LIMIT = 50_000  # commits visited at most to prove a stale want reachable


def parse_wants(body: bytes) -> set[str]:
    """The `want` shas of an upload-pack request body (its first section, up to the flush)."""
    wants: set[str] = set()
    for line in lines(body):
        if line is None or not line.startswith(b"want "):
            break
        sha = line[5:45].decode("ascii", "replace")
        if len(sha) == 40 and all(c in "0123456789abcdef" for c in sha):
            wants.add(sha)
    return wants


def usage_kind(body: bytes) -> str | None:
    """What an upload-pack request counts as: "clones" (the whole history: no `have`),
    "fetches" (an incremental one), or None for a round of negotiation that sends no pack yet
    (over stateless HTTP only the last request of a fetch says `done`)."""
    if b"done" not in lines(body):
        return None
    return pack_kind(body)


def pack_kind(body: bytes) -> str:
    """What a request that got a pack counts as: "fetches" when it named haves, else "clones"
    (a v0 fetch answered "ready" gets its pack without ever saying `done`)."""
    return "fetches" if any(line is not None and line.startswith(b"have ") for line in lines(body)) else "clones"


def stale_reachable(repo: TemplateRepo, wants: Iterable[str], limit: int = WALK_LIMIT) -> set[str]:
    """Those of `wants` that are not tips but are commits reachable from a current ref."""
    tips = set(visible(repo.doc.refs).values())
    missing = {w.encode() for w in wants if w not in tips}
    if not missing:
        return set()
    found: set[bytes] = set()
    starts = [c for c in (to_commit(repo.object_store.__getitem__, ObjectID(sha.encode())) for sha in tips) if c is not None]
    queue, seen = deque(starts), set(starts)
    while queue and len(seen) <= limit and found != missing:
        sha = queue.popleft()
        if sha in missing:
            found.add(sha)
        try:
            commit = repo.object_store[sha]
        except KeyError:
            continue
        for parent in getattr(commit, "parents", ()):
            if parent not in seen:
                seen.add(parent)
                queue.append(parent)
    return {sha.decode() for sha in found}
