"""The pack an incremental fetch sends, and the negotiation before it (issue 14).

dulwich's writer looks for reusable deltas by inflating every object of every stored pack,
and reuses only deltas whose base is sent too. Here each object to send is found through the
pack indexes (fetchwalk.PackReader) and its stored entry is copied as it is (compressed bytes
untouched) when its delta base is in the stream from the same pack, or, in a thin pack (the
client asked for one), when the client holds the base. Only the other deltas are inflated and
sent whole. Entries go in stored order, so an OFS_DELTA's base is written before it.
"""
from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from dulwich.objects import ObjectID, RawObjectID, sha_to_hex
from dulwich.refs import Ref
from dulwich.server import BackendRepo

from .fetchwalk import PackReader, Selection
from .packwriter import CHUNK, OFS_DELTA, REF_DELTA, _ofs_header, _size_header


def negotiate(repo: BackendRepo, reader: PackReader,
              determine_wants: Callable[[Mapping[Ref, ObjectID], int | None], list[ObjectID]],
              walker: Any) -> list[ObjectID] | None:
    """The wants/haves exchange of dulwich's find_missing_objects, without its object walk,
    and with lookups through `reader`: the haves the store holds (ACKed on the wire by
    `walker`), or None when nothing is wanted. A shallow request (or one lifting boundaries)
    counts no haves, as in dulwich."""
    refs = {ref: sha for ref, sha in repo.get_refs().items() if sha in reader}
    if not determine_wants(refs, None):
        return None
    haves: list[ObjectID] = []
    sha = next(walker)
    while sha:
        if sha in reader:
            haves.append(sha)
            walker.ack(sha)
        sha = next(walker)
    if getattr(walker, "shallow", set()) or getattr(walker, "unshallow", set()):
        return []
    return haves


class _Stream:
    """Pack bytes out in chunks of CHUNK, with their running SHA-1 and position."""

    def __init__(self, write: Callable[[bytes], object], count: int) -> None:
        self.write, self.digest = write, hashlib.sha1()
        self.buf = bytearray(b"PACK" + struct.pack(">II", 2, count))
        self.pos = len(self.buf)

    def out(self, *chunks: bytes) -> None:
        for chunk in chunks:
            self.buf += chunk
            self.pos += len(chunk)
        if len(self.buf) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        self.digest.update(self.buf)
        self.write(bytes(self.buf))
        self.buf = bytearray()

    def finish(self) -> None:
        self.digest.update(self.buf)
        self.write(bytes(self.buf) + self.digest.digest())


def write_selection(reader: PackReader, selection: Selection, write: Callable[[bytes], object], *,
                    thin: bool, ofs: bool) -> int:
    """Write the pack of `selection`; returns how many entries were copied without inflating."""
    located: list[tuple[int, int, bytes]] = []
    for sha, _type in selection.objects:
        where = reader.locate(sha)
        if where is None:
            raise KeyError(sha)
        located.append((where[0], where[1], sha))
    located.sort()
    sent_at = {(p, off): sha for p, off, sha in located}
    sent = {sha: p for p, _, sha in located}
    held: dict[int, dict[int, bytes]] = {}  # pack -> offset -> sha of what the client holds

    def held_at(p: int, offset: int) -> bytes | None:
        if p not in held:
            index = reader.packs[p].index
            held[p] = {}
            for sha in selection.client_has:
                try:
                    held[p][index.object_offset(ObjectID(sha))] = sha
                except KeyError:
                    continue
        return held[p].get(offset)

    stream = _Stream(write, len(located))
    written: dict[bytes, int] = {}
    reused = 0
    for p, offset, sha in located:
        entry = reader.packs[p].data.get_unpacked_object_at(offset, include_comp=True)
        kind, comp = entry.pack_type_num, b"".join(entry.comp_chunks or ())
        start = stream.pos
        base: bytes | None = None
        if kind == OFS_DELTA:
            assert isinstance(entry.delta_base, int)
            at = offset - entry.delta_base
            base = sent_at.get((p, at)) or (held_at(p, at) if thin else None)
        elif kind == REF_DELTA:
            assert isinstance(entry.delta_base, bytes)
            base = sha_to_hex(RawObjectID(entry.delta_base))
        size = entry.decomp_len or 0
        if kind not in (OFS_DELTA, REF_DELTA):
            stream.out(_size_header(kind, size), comp)
        elif base is not None and base in written and sent[base] == p and ofs:
            stream.out(_ofs_header(_size_header(OFS_DELTA, size), start - written[base]), comp)
        elif base is not None and (sent.get(base) == p or thin and base not in sent and base in selection.client_has):
            stream.out(_size_header(REF_DELTA, size), bytes.fromhex(base.decode("ascii")), comp)
        else:  # the base is neither in this stream nor the client's: send the object whole
            type_num, raw = reader.get_raw(sha)
            stream.out(_size_header(type_num, len(raw)), zlib.compress(raw))
            reused -= 1
        reused += 1
        written[sha] = start
    stream.finish()
    return reused
