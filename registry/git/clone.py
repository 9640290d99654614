"""The full-clone fast path of upload-pack.

A clone (wants every branch and tag tip, has nothing, no shallow, no filter) of a repo whose
packs hold only reachable objects is answered with every stored object, copied verbatim
(packwriter). Anything else goes through the negotiation and object walk (v0.py, v2fetch.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from dulwich.protocol import (
    CAPABILITY_OFS_DELTA,
    CAPABILITY_SIDE_BAND_64K,
    SIDE_BAND_CHANNEL_DATA,
    SIDE_BAND_CHANNEL_PROGRESS,
    Protocol,
)

from ..errors import InvalidInput
from . import packwriter
from .pktline import FLUSH, packets
from .refsdoc import HIDDEN_PREFIXES
from .repo import TemplateRepo


@dataclass(frozen=True)
class CloneRequest:
    wants: frozenset[str]
    capabilities: frozenset[bytes]


def parse_clone_request(body: bytes) -> CloneRequest | None:
    """The wants of a plain clone request, or None if it is anything else."""
    wants: set[str] = set()
    caps: set[bytes] = set()
    flushed, done = False, False
    try:
        for line in packets(body):
            if line == FLUSH:
                flushed = True
            elif isinstance(line, bytes) and line.startswith(b"want ") and not flushed:
                sha, *rest = line[5:].split(b" ")
                wants.add(sha.decode("ascii", "replace"))
                caps.update(rest)
            elif line == b"done" and flushed and not done:
                done = True
            else:
                return None  # have, shallow, deepen, filter, or anything unexpected
    except InvalidInput:
        return None  # the generic path refuses it with dulwich's words
    if not (wants and flushed and done):
        return None
    if any(c.startswith(b"filter") for c in caps) or CAPABILITY_OFS_DELTA not in caps:
        return None
    return CloneRequest(frozenset(wants), frozenset(caps))


def eligible(repo: TemplateRepo, request: CloneRequest) -> bool:
    """Whether the clone wants exactly the branch and tag tips of a repo whose packs hold only
    reachable objects (so sending every stored object sends what was asked, nothing more). A
    hidden ref at a commit that is no tip (a draft's base after its branch moved) may keep objects
    no client may have: then the generic path sends what the wants reach instead."""
    doc = repo.doc
    tips = {sha for ref, sha in doc.refs.items() if ref.startswith(("refs/heads/", "refs/tags/"))}
    hidden = {sha for ref, sha in doc.refs.items() if ref.startswith(HIDDEN_PREFIXES)}
    return doc.exact and request.wants == tips and request.wants <= set(doc.refs.values()) and hidden <= tips


def serve_clone(repo: TemplateRepo, request: CloneRequest, proto: Protocol) -> None:
    """Answer a clone: NAK (nothing in common), then every stored object as one pack."""
    proto.write_pkt_line(b"NAK\n")
    if CAPABILITY_SIDE_BAND_64K in request.capabilities:
        write_sideband_pack(repo, proto, progress=b"no-progress" not in request.capabilities)
    else:
        store = repo.object_store
        packwriter.write_all_objects(store.packs, store.get_raw, proto.write)


def write_sideband_pack(repo: TemplateRepo, proto: Protocol, *, progress: bool) -> None:
    """Every stored object as one pack in side-band 1 (and a count in band 2), then a flush:
    the end of a v0 clone's response, and the packfile section of a v2 one."""
    store = repo.object_store

    write = partial(proto.write_sideband, SIDE_BAND_CHANNEL_DATA)

    count = packwriter.write_all_objects(store.packs, store.get_raw, write)
    if progress:
        proto.write_sideband(SIDE_BAND_CHANNEL_PROGRESS, f"Total {count} (reused {count})\n".encode())
    proto.write_pkt_line(None)
