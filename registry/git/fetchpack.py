"""The pack an incremental fetch sends, and the negotiation before it (issue 14).

dulwich's writer looks for reusable deltas by inflating every object of every stored pack,
and reuses only deltas whose base is sent too. Here each object to send is found through the
pack indexes (fetchwalk.PackReader) and its stored entry is copied as it is (compressed bytes
untouched) when its delta base is in the stream from the same pack, or, in a thin pack (the
client asked for one), when the client holds the base. Only the other deltas are inflated and
sent whole. Entries go in stored order, so an OFS_DELTA's base is written before it.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from typing import Any

from dulwich.objects import ObjectID, sha_to_hex
from dulwich.refs import Ref
from dulwich.server import BackendRepo

from .fetchwalk import PackReader, Selection
from .packwriter import OFS_DELTA, REF_DELTA, PackStream, _ofs_header, _PackView, _size_header

MANY = 1000  # objects to send from which every pack's whole table is read, not one search each


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


def _locate(reader: PackReader, selection: Selection, view: Callable[[int], _PackView]) -> list[tuple[int, int, bytes]]:
    """(pack, offset, sha) of every object to send, in stored order."""
    located: list[tuple[int, int, bytes]] = []
    if len(selection.objects) < MANY:
        for sha, _type in selection.objects:
            where = reader.locate(sha)
            if where is None:
                raise KeyError(sha)
            located.append((where[0], where[1], sha))
    else:  # most of the repo: through each pack's whole table, not a search per object
        left = [sha for sha, _type in selection.objects]
        for p in range(len(reader.packs)):
            table, missed = view(p).offsets_by_sha(), []
            for sha in left:
                offset = table.get(sha)
                if offset is None:
                    missed.append(sha)
                else:
                    located.append((p, offset, sha))
            left = missed
        if left:
            raise KeyError(left[0])
    located.sort()
    return located


def write_selection(reader: PackReader, selection: Selection, write: Callable[[bytes], object], *,
                    thin: bool, ofs: bool, offsets: dict[bytes, int] | None = None) -> int:
    """Write the pack of `selection`; returns how many entries were copied without inflating.
    `offsets`, if given, gets where each object starts in the pack written (for its index)."""
    views: dict[int, _PackView] = {}

    def view(p: int) -> _PackView:
        return views.get(p) or views.setdefault(p, _PackView(reader.packs[p]))

    try:
        located = _locate(reader, selection, view)
        sent = {sha: p for p, _, sha in located}
        stream = PackStream(write, len(located))
        written: dict[bytes, int] = {}
        reused = 0
        for p, offset, sha in located:
            pack = view(p)
            kind, header_len, raw_base, end = pack.entry(offset)  # bounds from the idx: no inflating
            start = stream.pos
            written[sha] = start
            if raw_base is None:
                stream.out(pack.data[offset:end])
                reused += 1
                continue
            base = sha_to_hex(raw_base)
            if base in written and sent[base] == p and ofs:
                head = _ofs_header(_retyped(pack.size_header(offset), OFS_DELTA), start - written[base])
                stream.out(head, pack.data[offset + header_len:end])
            elif sent.get(base) == p or thin and base not in sent and base in selection.client_has:
                head = _retyped(pack.size_header(offset), REF_DELTA)
                stream.out(head, raw_base, pack.data[offset + header_len:end])
            else:  # the base is neither in this stream nor the client's: send the object whole
                type_num, raw = reader.get_raw(sha)
                stream.out(_size_header(type_num, len(raw)), zlib.compress(raw))
                continue
            reused += 1
    finally:
        for opened in views.values():
            opened.close()
    stream.finish()
    if offsets is not None:
        offsets.update(written)
    return reused


def _retyped(size_header: bytes, kind: int) -> bytes:
    """An entry's type-and-size header with its type changed to `kind` (a delta sent as the
    other kind of delta)."""
    return bytes([(size_header[0] & 0x8F) | (kind << 4)]) + size_header[1:]
