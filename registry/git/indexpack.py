"""Indexing a pack as hostile input, in two passes over its file, as C git's index-pack does.

dulwich's PackStreamReader reads a pack a byte at a time through Python calls, and its
DeltaChainIterator inflates each delta twice: together some 80 us an object, most of a push of
many small objects (issue 14). Here the pack is first copied to a file (the wire is bounded by
the push ceiling), then read from memory:

1. every entry in order: its header (type, declared size, delta base), the declared size charged
   to the Budget *before* it is inflated, then inflated with that size as the output bound, so an
   entry that inflates to more than it declares stops there. A whole object is hashed and handed
   to `see` at once; a delta is kept as its position only.
2. the deltas, depth first from each whole object (by offset for OFS_DELTA, by id for REF_DELTA),
   then from the bases a thin pack leaves out (read from the store, `resolve_ext_ref`). Each
   delta's result size is read from its header and charged before it is applied. Memory: about
   two objects per chain (`_resolve`), at most HOLD bytes of bases waiting at once.

What is left (a delta whose base never appears) is refused: `UnresolvedDeltas` names the missing
bases, a bad offset or a cycle is `badDelta`.
"""
from __future__ import annotations

import mmap
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from dulwich.objects import Blob, Commit, RawObjectID, Tag, Tree
from dulwich.pack import OFS_DELTA, REF_DELTA, ApplyDeltaError, PackIndexEntry, UnresolvedDeltas, apply_delta

from ..errors import TooLarge
from .ingest import Budget, ObjectRejected, PackCorrupt, delta_result_size

NAMES = {Commit.type_num: b"commit", Tree.type_num: b"tree", Blob.type_num: b"blob", Tag.type_num: b"tag"}
WHAT = {Commit.type_num: "commit", Tree.type_num: "tree", Blob.type_num: "file", Tag.type_num: "tag"}
COPY_CHUNK = 1 << 16
HOLD = 128 << 20  # bases waiting for their deltas at once (about two objects a chain)
KEEP = 32 << 20  # inflated delta bytes held between the passes (most deltas are tens of bytes)
Sink = Callable[[RawObjectID, int, bytes], None]  # (raw id, type, content) of each object
ExtRef = Callable[[RawObjectID], tuple[int, bytes]]  # raw id -> (type, content) of a stored object; KeyError if absent


def copy_wire(read_some: Callable[[int], bytes], f: BinaryIO, limit: int | None = None) -> None:
    """The pack off the wire into `f`, to its end (the request body ends with it), a chunk at a
    time; past `limit` bytes (the push ceiling) a TooLarge, the rest never read."""
    total = 0
    while chunk := read_some(COPY_CHUNK):
        total += len(chunk)
        if limit and total > limit:
            raise TooLarge(f"push exceeds the maximum size of {limit} bytes", limit=limit)
        f.write(chunk)
    f.flush()


@dataclass
class _Delta:
    offset: int
    start: int  # where its zlib data starts
    end: int  # ...and ends
    crc: int
    instructions: bytes | None  # kept from the first pass while KEEP allows, else inflated again


@dataclass
class PackIndex:
    """What indexing found: the index entries, and the stored objects a thin pack builds on."""

    entries: list[PackIndexEntry] = field(default_factory=list)
    ext_refs: set[RawObjectID] = field(default_factory=set)


class Indexer:
    """One pack file, indexed and checked: `run()` reads it, calling `see` for every object."""

    def __init__(self, f: BinaryIO, hash_func: Callable[..., object], budget: Budget, see: Sink,
                 resolve_ext_ref: ExtRef) -> None:
        self.f, self.hash_func, self.budget, self.see = f, hash_func, budget, see
        self.resolve_ext_ref = resolve_ext_ref
        self.index: dict[RawObjectID, tuple[int, int]] = {}  # raw id -> (offset, crc32)
        self.by_offset: dict[int, list[_Delta]] = {}  # base offset -> OFS deltas on it
        self.by_id: dict[RawObjectID, list[_Delta]] = {}  # base id -> REF deltas on it
        self.keep = KEEP
        self.external: set[RawObjectID] = set()  # stored objects a thin pack builds on (appended whole)
        self.wholes: list[tuple[int, int, int, int, RawObjectID]] = []  # (offset, type, start, end, id) of bases to be

    def run(self) -> PackIndex:
        if os.fstat(self.f.fileno()).st_size < 32:
            raise PackCorrupt("not a pack: too short")
        with mmap.mmap(self.f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            self.data = data
            count, end = self._frame()
            pos = 12
            for _ in range(count):
                pos = self._entry(pos, end)
            if pos != end:
                raise PackCorrupt(f"pack has {end - pos} bytes of junk at the end")
            for offset, kind, start, stop, oid in self.wholes:
                if offset in self.by_offset or oid in self.by_id:
                    self._resolve(offset, oid, kind, self._inflate_exact(start, stop))
            result = PackIndex(ext_refs=self._external_bases())
            del self.data
        if self.by_offset:
            raise ObjectRejected("a delta's base is not an object of the pack (badDelta)")
        result.entries = [(oid, offset, crc) for oid, (offset, crc) in self.index.items()]
        return result

    def _frame(self) -> tuple[int, int]:
        """The object count from the header, and where the objects end (the trailer checked)."""
        data = self.data
        if data[:4] != b"PACK":  # run() saw the 32 bytes of header and trailer
            raise PackCorrupt("not a pack: bad header")
        if int.from_bytes(data[4:8], "big") not in (2, 3):
            raise PackCorrupt("unsupported pack version")
        end = len(data) - 20
        hasher = self.hash_func()
        for at in range(0, end, COPY_CHUNK * 16):  # slices of the map: never the whole pack copied
            hasher.update(data[at:min(at + COPY_CHUNK * 16, end)])  # type: ignore[attr-defined]
        if hasher.digest() != data[end:]:  # type: ignore[attr-defined]
            raise PackCorrupt("pack checksum mismatch")
        count = int.from_bytes(data[8:12], "big")
        if count > end - 12:  # every entry takes at least a byte
            raise PackCorrupt(f"pack claims {count} objects in {end - 12} bytes")
        if count > self.budget.objects:
            raise TooLarge(f"the push holds {count} objects; at most {self.budget.objects}", limit=self.budget.objects)
        return count, end

    def _entry(self, pos: int, end: int) -> int:
        """Read the entry at `pos`; return where the next one starts."""
        data, offset = self.data, pos
        if pos >= end:
            raise PackCorrupt("pack is truncated")
        byte = data[pos]
        kind, size, shift = (byte >> 4) & 7, byte & 0x0F, 4
        pos += 1
        while byte & 0x80:
            if pos >= end or shift > 60:
                raise PackCorrupt("bad object header")
            byte = data[pos]
            size |= (byte & 0x7F) << shift
            shift += 7
            pos += 1
        base: int | bytes
        if kind == OFS_DELTA:
            pos, base = self._ofs_base(pos, end, offset)
        elif kind == REF_DELTA:
            base, pos = RawObjectID(data[pos:pos + 20]), pos + 20
        elif kind not in NAMES:
            raise PackCorrupt(f"unknown object type {kind} at offset {offset}")
        self.budget.charge(size, WHAT.get(kind, "delta"))
        zstart = pos
        content, pos = self._inflate(pos, end, size)
        crc = zlib.crc32(data[offset:pos])
        if kind in (OFS_DELTA, REF_DELTA):
            keep = len(content) <= self.keep
            self.keep -= len(content) if keep else 0
            delta = _Delta(offset, zstart, pos, crc, content if keep else None)
            target = self.by_offset if kind == OFS_DELTA else self.by_id
            target.setdefault(base, []).append(delta)  # type: ignore[arg-type]
            return pos
        oid = self._found(kind, content, offset, crc)
        self.wholes.append((offset, kind, zstart, pos, oid))
        return pos

    def _ofs_base(self, pos: int, end: int, offset: int) -> tuple[int, int]:
        data = self.data
        if pos >= end:
            raise PackCorrupt("bad delta offset")
        byte = data[pos]
        back = byte & 0x7F
        pos += 1
        while byte & 0x80:
            if pos >= end or back > end:
                raise PackCorrupt("bad delta offset")
            byte = data[pos]
            back = ((back + 1) << 7) | (byte & 0x7F)
            pos += 1
        if not 12 <= offset - back < offset:
            raise ObjectRejected(f"the delta at offset {offset} points outside the pack (badDelta)")
        return pos, offset - back

    def _inflate(self, pos: int, end: int, size: int) -> tuple[bytes, int]:
        """Inflate the zlib stream at `pos`, which must give `size` bytes: never more than
        size + 1 come out. Returns them and where the stream ended."""
        data = self.data
        inflater = zlib.decompressobj()
        step = size + (size >> 8) + 64  # deflate's worst case; a padded stream takes more rounds
        parts, got = [], 0
        try:
            while True:
                take = min(step, end - pos)
                if take <= 0:
                    raise PackCorrupt("pack is truncated inside an object")
                out = inflater.decompress(data[pos:pos + take], size + 1 - got)
                got += len(out)
                parts.append(out)
                if got > size or inflater.unconsumed_tail:
                    raise PackCorrupt(f"an object inflates to more than the {size} bytes it declares")
                if inflater.eof:
                    pos += take - len(inflater.unused_data)
                    break
                pos += take
                step = COPY_CHUNK
        except zlib.error as exc:
            raise PackCorrupt(f"corrupt object data: {exc}") from None
        if got != size:
            raise PackCorrupt(f"an object inflates to {got} bytes, not the {size} it declares")
        return parts[0] if len(parts) == 1 else b"".join(parts), pos

    def _inflate_exact(self, start: int, end: int) -> bytes:
        return zlib.decompress(self.data[start:end])  # checked in the first pass

    def _found(self, kind: int, content: bytes, offset: int, crc: int) -> RawObjectID:
        """A whole object: its id, indexed and seen. An object twice in a pack (or a stored base a
        thin pack makes again, which is appended whole) is refused, as `git index-pack --strict`
        does: an index naming either copy could lead a reader round a delta cycle."""
        hasher = self.hash_func(b"%s %d\0" % (NAMES[kind], len(content)))
        hasher.update(content)  # type: ignore[attr-defined]
        oid = RawObjectID(hasher.digest())  # type: ignore[attr-defined]
        if oid in self.index or oid in self.external:
            raise ObjectRejected(f"object {oid.hex()} appears twice in the pack")
        self.index[oid] = (offset, crc)
        self.see(oid, kind, content)
        return oid

    def _resolve(self, offset: int | None, oid: RawObjectID, kind: int, content: bytes) -> None:
        """Apply every delta built on this object, and those built on them, depth first.

        Held in memory: the bases of the chains being followed. A base is let go as its last
        delta is taken, and deltas that are bases themselves are taken last, so a chain holds
        about two objects; a pack that makes more than HOLD bytes wait at once is refused."""
        stack = [(content, self._children(offset, oid))]
        held = len(content)
        while stack:
            base, deltas = stack[-1]
            delta = deltas.pop()
            if not deltas:  # its last delta: the base goes before the chain goes on
                stack.pop()
                held -= len(base)
            instructions = delta.instructions or self._inflate_exact(delta.start, delta.end)
            self.budget.charge(delta_result_size(instructions), WHAT[kind])
            try:
                result = b"".join(apply_delta(base, instructions))
            except (ApplyDeltaError, ValueError, AssertionError) as exc:
                raise ObjectRejected(f"a delta does not apply to its base: {exc} (badDelta)") from None
            del base
            if kind != Blob.type_num and not result:
                raise ObjectRejected(f"a delta resolved to an empty {WHAT[kind]} (badDelta)")
            child = self._found(kind, result, delta.offset, delta.crc)
            children = self._children(delta.offset, child)
            if children:
                held += len(result)
                if held > HOLD:
                    raise TooLarge(f"the pack's deltas need more than {HOLD >> 20} MiB of bases at once", limit=HOLD)
                stack.append((result, children))

    def _children(self, offset: int | None, oid: RawObjectID) -> list[_Delta]:
        """The deltas on an object, those that are bases themselves first (`_resolve` takes the last)."""
        found = self.by_offset.pop(offset, []) if offset is not None else []
        found += self.by_id.pop(oid, [])
        if len(found) > 1:
            found.sort(key=lambda delta: delta.offset not in self.by_offset)
        return found

    def _external_bases(self) -> set[RawObjectID]:
        """Resolve the deltas on stored objects a thin pack left out; name those it needed."""
        for oid in list(self.by_id):
            if oid not in self.by_id:  # resolved on the way from another stored base
                continue
            try:
                kind, content = self.resolve_ext_ref(oid)
            except KeyError:
                continue  # not stored: another delta may still make it
            self.external.add(oid)  # before its deltas: one of them making it again must not index it twice
            self._resolve(None, oid, kind, content)
        if self.by_id:
            raise UnresolvedDeltas([oid.hex().encode("ascii") for oid in self.by_id])
        return self.external
