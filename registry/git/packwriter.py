"""Write a pack by copying stored pack entries verbatim: no inflate, no deflate, no delta search.

dulwich's writer re-reads and re-encodes every object (most of a clone's time). Stored
entries are already compressed and deltified, so a clone can stream them as they are,
re-encoding only the offset of an OFS_DELTA whose base moved in the new stream.
"""
from __future__ import annotations

import bisect
import hashlib
import mmap
import struct
import zlib
from collections.abc import Callable

from dulwich.objects import RawObjectID, sha_to_hex
from dulwich.pack import Pack

from .idx import read_table

OFS_DELTA, REF_DELTA = 6, 7
CHUNK = 1 << 16


class PackStream:
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


class _PackView:
    """One stored pack: its bytes, and each entry's start, end and sha."""

    def __init__(self, pack: Pack) -> None:
        with open(pack._data_path, "rb") as fh:
            self.data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        names, offsets = read_table(pack.index)
        entries = sorted(zip(offsets, names, strict=True))
        self.offsets = [o for o, _ in entries]
        self.sha_at = dict(entries)
        self.end = len(self.data) - 20
        self._offset_of: dict[bytes, int] | None = None

    def offsets_by_sha(self) -> dict[bytes, int]:
        """Where each object (by hex sha) starts: built on first use, for a pack most of whose
        objects are sent."""
        if self._offset_of is None:
            self._offset_of = {sha_to_hex(sha): offset for offset, sha in self.sha_at.items()}
        return self._offset_of

    def entry(self, offset: int) -> tuple[int, int, RawObjectID | None, int]:
        """(type, header length, base: raw sha or None, end) of the entry at `offset`."""
        kind, pos, base_at = entry_header(self.data, offset)
        base = self.sha_at[base_at] if isinstance(base_at, int) else base_at
        i = bisect.bisect_right(self.offsets, offset)
        end = self.offsets[i] if i < len(self.offsets) else self.end
        return kind, pos - offset, base, end

    def size_header(self, offset: int) -> bytes:
        """The type-and-size bytes that start the entry at `offset`."""
        end = offset
        while self.data[end] & 0x80:
            end += 1
        return bytes(self.data[offset:end + 1])

    def close(self) -> None:
        self.data.close()


def _ofs_header(size_header: bytes, rel: int) -> bytes:
    out = [rel & 0x7F]
    rel >>= 7
    while rel:
        rel -= 1
        out.append(0x80 | (rel & 0x7F))
        rel >>= 7
    return size_header + bytes(reversed(out))


def _size_header(kind: int, size: int) -> bytes:
    out = bytearray([(kind << 4) | (size & 0x0F)])
    size >>= 4
    while size:
        out[-1] |= 0x80
        out.append(size & 0x7F)
        size >>= 7
    return bytes(out)


def write_all_objects(packs: list[Pack], get_raw: Callable[[RawObjectID], tuple[int, bytes]],
                      write: Callable[[bytes], object]) -> int:
    """Write one pack holding every object of `packs` once, in stored order. Returns the count.

    A single pack is that pack's file as it is (a repo after its first push or a repack: the
    common case, served with no work per object). Across packs, duplicates (a completed thin
    pack repeats its bases) are written once; an OFS_DELTA gets its offset recomputed against
    where its base landed in the new stream.
    """
    if len(packs) == 1:
        return _copy_file(packs[0], write)
    views = [_PackView(p) for p in packs]
    try:
        order: list[tuple[_PackView, int, RawObjectID]] = []
        seen: set[bytes] = set()
        for view in views:
            for offset in view.offsets:
                sha = view.sha_at[offset]
                if sha not in seen:
                    seen.add(sha)
                    order.append((view, offset, sha))
        return _emit(order, get_raw, write)
    finally:
        for view in views:
            view.close()


def _copy_file(pack: Pack, write: Callable[[bytes], object]) -> int:
    """A stored pack sent whole: header, entries and checksum, read in chunks."""
    with open(pack._data_path, "rb") as fh:
        head = fh.read(12)
        write(head)
        while chunk := fh.read(CHUNK):
            write(chunk)
    return int(struct.unpack(">I", head[8:12])[0])


def _emit(order: list[tuple[_PackView, int, RawObjectID]], get_raw: Callable[[RawObjectID], tuple[int, bytes]],
          write: Callable[[bytes], object]) -> int:
    stream = PackStream(write, len(order))
    written: dict[bytes, int] = {}
    for view, offset, sha in order:
        kind, header_len, base, end = view.entry(offset)
        start = stream.pos
        if kind == OFS_DELTA and base in written:
            stream.out(_ofs_header(view.size_header(offset), start - written[base]), view.data[offset + header_len:end])
        elif kind == OFS_DELTA:
            type_num, data = get_raw(sha)  # base not in this stream: send the whole object
            stream.out(_size_header(type_num, len(data)), zlib.compress(data))
        else:
            stream.out(view.data[offset:end])  # a whole object, or a REF_DELTA the client resolves by sha
        written[sha] = start
    stream.finish()
    return len(order)


def entry_header(data: mmap.mmap, offset: int) -> tuple[int, int, int | RawObjectID | None]:
    """(type, where its zlib data starts, base: an OFS_DELTA's offset, a REF_DELTA's id, else None)
    of the stored entry at `offset`. Stored packs were checked when they arrived (indexpack reads
    a pushed one with bounds)."""
    pos = offset
    byte = data[pos]
    kind = (byte >> 4) & 7
    pos += 1
    while byte & 0x80:
        byte = data[pos]
        pos += 1
    if kind == OFS_DELTA:
        byte = data[pos]
        pos += 1
        back = byte & 0x7F
        while byte & 0x80:
            byte = data[pos]
            pos += 1
            back = ((back + 1) << 7) | (byte & 0x7F)
        return kind, pos, offset - back
    if kind == REF_DELTA:
        return kind, pos + 20, RawObjectID(data[pos:pos + 20])
    return kind, pos, None


def type_at(data: mmap.mmap, offset: int, pack: Pack, hops: int = 10_000) -> int | None:
    """The type of the stored object at `offset`, from entry headers only: a delta has its
    base's, so its bases are followed (by offset, or by id in the same pack), nothing inflated."""
    for _ in range(hops):
        kind, _, base = entry_header(data, offset)
        if isinstance(base, int):
            offset = base
        elif base is not None:
            try:
                offset = pack.index.object_offset(base)
            except KeyError:
                return None
        else:
            return kind
    return None
