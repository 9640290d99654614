"""A pack's commits, trees and tags kept inflated beside it: the object graph of a pack (issue 14).

A walk over the whole history (a clone of a repo whose packs also hold unreachable objects,
after a branch deletion or a force push, until the background repack lands) reads every
commit and tree. Read from the pack, each one is inflated and its delta chain applied, which
was most of such a clone's time. The push that brings a pack has every one of them inflated
already (ingest checks them), so it writes them down once more: a `.graph` file beside the
`.pack`, records (type, sha, length, raw bytes) and a CRC-32 of them. Blobs are left out. Not
compressed: trees are mostly binary shas, zlib halves them at a cost that was a tenth of a push.

The file is a cache. A reader that finds none, or a damaged one, reads the pack instead, and
an object missing from it (a thin pack's appended bases) is read from the packs as well.
"""
from __future__ import annotations

import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from dulwich.objects import sha_to_hex

MAGIC = b"RGGRAPH2"
SUFFIX = ".graph"
_RECORD = struct.Struct(">B20sI")
CACHE_BYTES = 64 << 20  # inflated graphs kept in memory per process, least recently used out first

Graph = dict[bytes, tuple[int, bytes]]  # hex sha -> (type number, raw object)


class GraphWriter:
    """Collects the non-blob objects of a pack as ingest resolves them."""

    def __init__(self) -> None:
        self._out = [MAGIC]
        self.count = 0

    def add(self, raw_sha: bytes, type_num: int, raw: bytes) -> None:
        self._out += (_RECORD.pack(type_num, raw_sha, len(raw)), raw)
        self.count += 1

    def getvalue(self) -> bytes:
        data = b"".join(self._out)
        return data + zlib.crc32(data).to_bytes(4, "big")

    def write(self, path: Path) -> None:
        path.write_bytes(self.getvalue())
        self._out = []


def parse(data: bytes) -> Graph | None:
    """The records of a graph file, or None if it is not one (damaged, truncated, foreign)."""
    raw, crc = data[:-4], data[-4:]
    if not raw.startswith(MAGIC) or zlib.crc32(raw).to_bytes(4, "big") != crc:
        return None
    graph: Graph = {}
    pos, end, size = len(MAGIC), len(raw), _RECORD.size
    while pos < end:
        if pos + size > end:
            return None
        type_num, sha, length = _RECORD.unpack_from(raw, pos)
        pos += size
        if pos + length > end:
            return None
        graph[sha_to_hex(sha)] = (type_num, raw[pos:pos + length])
        pos += length
    return graph


class _Cache:
    """Parsed graphs by file path, bounded in inflated bytes (graph files never change: a
    pack's name carries its checksum and a nonce)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0
        self._items: OrderedDict[str, tuple[Graph | None, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path) -> Graph | None:
        key = str(path)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
        try:
            data = path.read_bytes()
        except OSError:
            return None  # no graph for this pack: not cached, a later push or download may add it
        graph = parse(data)
        cost = sum(len(raw) for _, raw in graph.values()) if graph else 0
        with self._lock:
            self._items[key] = (graph, cost)
            self.used += cost
            while self.used > self.limit and len(self._items) > 1:
                _, (_, freed) = self._items.popitem(last=False)
                self.used -= freed
        return graph


CACHE = _Cache(CACHE_BYTES)


def graphs_of(pack_basenames: Iterable[str]) -> list[Graph]:
    """The graphs stored beside these packs (by their path without `.pack`), where there are any."""
    return [g for g in (CACHE.get(Path(base + SUFFIX)) for base in pack_basenames) if g]
