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

import os
import shutil
import struct
import tempfile
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from dulwich.objects import sha_to_hex

MAGIC = b"RGGRAPH2"
SUFFIX = ".graph"
_RECORD = struct.Struct(">B20sI")
# Inflated graphs kept in memory per process, least recently used out first. Small: a process
# starts at ~43 MB private and is recycled past REGISTRY_SERVE_RECYCLE_MB (72), which a cache
# allowed 64 MB could reach alone (issue 29); parsing a graph again costs a few ms per MB.
CACHE_BYTES = 12 << 20

Graph = dict[bytes, tuple[int, bytes]]  # hex sha -> (type number, raw object)


class GraphWriter:
    """Collects the non-blob objects of a pack as ingest resolves them, written to a file as they
    come (with a running CRC), never held: a pack of large trees would otherwise keep every one
    inflated until the end, and a copy or two more to join them (issue 29: 158 MiB for ten 4 MiB
    trees). `path`: where to spool (the store's staging directory, so `write` is a rename);
    without one, an anonymous temporary file."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._file: BinaryIO = open(path, "w+b") if path is not None else tempfile.TemporaryFile()  # noqa: SIM115
        self._crc = 0
        self.count = 0
        self._put(MAGIC)

    def _put(self, data: bytes) -> None:
        self._file.write(data)
        self._crc = zlib.crc32(data, self._crc)

    def add(self, raw_sha: bytes, type_num: int, raw: bytes) -> None:
        head = _RECORD.pack(type_num, raw_sha, len(raw))
        if len(raw) < 1 << 16:  # most objects: one write and one CRC step for the record
            self._put(head + raw)
        else:  # not copied to be joined
            self._put(head)
            self._put(raw)
        self.count += 1

    def getvalue(self) -> bytes:
        """The whole file as `write` would leave it (for tests: small graphs only)."""
        self._file.seek(0)
        data = self._file.read()  # at the end again, where the next record goes
        return data + self._crc.to_bytes(4, "big")

    def write(self, path: Path) -> None:
        """Seal the file (its CRC) and put it at `path`; the writer is done."""
        self._file.write(self._crc.to_bytes(4, "big"))
        if self._path is not None:
            self._file.close()
            os.replace(self._path, path)
            return
        self._file.seek(0)
        with open(path, "wb") as out:
            shutil.copyfileobj(self._file, out)
        self._file.close()

    def close(self) -> None:
        """Drop what was written (a refused push): the spool file closed and removed."""
        self._file.close()
        if self._path is not None:
            self._path.unlink(missing_ok=True)


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
