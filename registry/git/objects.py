"""A dulwich object store whose packs are immutable blobs in a BlobStore.

New objects (a push's thin pack, a merge's commits) are first *staged* as local packs:
readable by this store so that policy checks can look at them, but stored nowhere
until `publish()` uploads them. The caller then names them in the refs document by CAS,
so a refused push stores nothing. Published packs are read through a local cache keyed
by blob key (blobs are immutable), so a clone does not download them again.
"""
from __future__ import annotations

import mmap
import os
import secrets
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from dulwich.object_store import BucketBasedObjectStore
from dulwich.objects import ObjectID, RawObjectID, ShaFile
from dulwich.pack import (
    Pack,
    PackIndexEntry,
    extend_pack,
)

from ..storage import BlobNotFound, BlobStore
from . import packwriter
from .graph import SUFFIX as GRAPH
from .graph import GraphWriter
from .idx import write_index
from .indexpack import Indexer, copy_wire
from .ingest import UNBOUNDED, Budget, Inspector

PENDING = "pending:"
BlobInspector = Callable[[bytes], "str | None"]  # a blob's content -> why it may not be stored


class BlobPackObjectStore(BucketBasedObjectStore):
    def __init__(self, blobs: BlobStore, pack_keys: tuple[str, ...], cache_dir: Path, home: str) -> None:
        """`pack_keys` are the packs the refs document names; `home` is where new ones go."""
        super().__init__()
        self.blobs = blobs
        self.cache_dir = Path(cache_dir)
        self.home = home
        self._pack_keys = list(pack_keys)
        self._staging: Path | None = None
        self._pending: dict[str, Path] = {}  # "pending:pack-<hex>" -> local basename
        # What staging learnt about the new objects, for the push policy:
        self.outside_refs: set[bytes] = set()  # pointed at, not contained: must already be stored
        self.new_commits: list[ObjectID] = []
        self.commit_trees: dict[bytes, bytes] = {}  # new commit -> its root tree (hex)
        self.manifests: dict[bytes, bytes] = {}  # new tree -> its template.json blob (hex)
        self.new_types: dict[bytes, int] = {}  # hex sha -> type of every staged object
        self.expected_types: dict[int, dict[bytes, str]] = {}  # type -> {hex sha -> which object says so}
        self.blob_problems: dict[ObjectID, str] = {}  # blob sha -> why it may not be stored

    # -- reading -----------------------------------------------------------------
    def _iter_pack_names(self) -> Iterator[str]:
        yield from self._pack_keys
        yield from self._pending

    def _get_pack(self, name: str) -> Pack:
        base = self._pending.get(name) or self._local_base(name)
        return Pack(str(base), object_format=self.object_format)

    def _local_base(self, key: str) -> Path:
        local = self.blobs.local_path(key + ".pack")
        if local is not None and self.blobs.local_path(key + ".idx") is not None:
            return local.with_suffix("")
        base = self.cache_dir / key
        if not (base.with_suffix(".idx").exists() and base.with_suffix(".pack").exists()):
            # The pack first: the idx's presence is what marks a complete cache entry.
            self.blobs.download(key + ".pack", base.with_suffix(".pack"))
            try:  # a cache for walks (graph.py); packs from before it have none
                self.blobs.download(key + GRAPH, base.with_suffix(GRAPH))
            except BlobNotFound:
                pass
            self.blobs.download(key + ".idx", base.with_suffix(".idx"))
        return base

    def local_pack(self, key: str) -> Path:
        """A stored pack's files on local disk (`.pack`, `.idx`; `.graph` where it has one), without
        the extension: the blob store's own file, or the pack cache's copy (`registry verify` runs
        git on them)."""
        return self._local_base(key)

    def _remove_pack_by_name(self, name: str) -> None:
        raise NotImplementedError("packs are removed by registry gc, never by a request")

    def object_types(self, shas: list[bytes]) -> dict[bytes, int]:
        """The types of stored objects (hex shas; absent ones are left out), read from pack
        headers only: a delta has its base's type, so following OFS/REF delta bases to a full
        object inflates nothing. Each pack file is opened once for all of them."""
        self.packs  # noqa: B018  (fills the pack cache, keyed by name)
        found: dict[bytes, int] = {}
        todo = list(shas)
        for name, pack in list(self._pack_cache.items()):
            here = []
            for sha in todo:
                try:
                    here.append((sha, pack.index.object_offset(ObjectID(sha))))
                except KeyError:
                    continue
            if not here:
                continue
            base = self._pending.get(name) or self._local_base(name)
            with open(base.with_suffix(".pack"), "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                for sha, offset in here:
                    if (kind := packwriter.type_at(data, offset, pack)) is not None:
                        found[sha] = kind
            todo = [sha for sha in todo if sha not in found]
            if not todo:
                break
        return found

    # -- staging new objects -------------------------------------------------------
    def _staging_dir(self) -> Path:
        if self._staging is None:
            root = self.cache_dir / ".staging"
            root.mkdir(parents=True, exist_ok=True)
            self._staging = Path(tempfile.mkdtemp(dir=root))
        return self._staging

    def add_thin_pack(
        self,
        read_all: Callable[[int], bytes],
        read_some: Callable[[int], bytes] | None,
        progress: Callable[..., None] | None = None,
        *,
        max_input_size: int | None = None,
        budget: Budget | None,
        inspect_blob: BlobInspector | None = None,
    ) -> Pack:
        """Read a (thin) pack from the wire, complete it with its external bases, stage it.
        `budget` bounds inflation: a push's, or None only for packs we wrote (it must be named, so
        no caller with hostile input omits it); `inspect_blob` says why a new file may not be stored."""
        fd, path = tempfile.mkstemp(dir=self._staging_dir(), suffix=".tmp")
        f = os.fdopen(fd, "w+b")
        try:
            copy_wire(read_some or read_all, f, max_input_size)
        except BaseException:
            f.close()
            raise
        return self._index(f, Path(path), budget or Budget(UNBOUNDED, UNBOUNDED), inspect_blob)

    def _index(self, f: BinaryIO, path: Path, budget: Budget, inspect_blob: BlobInspector | None) -> Pack:
        """Index and check the pack in `f` (indexpack), note what it told us, stage it."""
        inspector = Inspector(inspect_blob, GraphWriter(self.staging_file(GRAPH)))
        try:
            found = Indexer(f, self.object_format.hash_func, budget, inspector.see, self.get_raw).run()
        except BaseException:
            f.close()
            inspector.graph.close()
            raise
        self._learn(inspector)
        return self._stage(f, path, found.entries, found.ext_refs, inspector.graph)

    def _learn(self, inspector: Inspector) -> None:
        seen = inspector.seen
        expected = seen.expected()
        self.outside_refs |= set().union(*expected.values()) - seen.types.keys()
        self.new_commits += seen.commits
        self.commit_trees.update(seen.commit_trees)
        self.manifests.update(seen.manifests)
        self.new_types.update(seen.types)
        for kind, named in expected.items():
            self.expected_types.setdefault(kind, {}).update(named)
        self.blob_problems.update(inspector.blob_problems)

    def add_pack(self) -> tuple[BinaryIO, Callable[[], None], Callable[[], None]]:
        # dulwich declares commit() -> None, though its own stores' commit returns the pack, as this one does.
        fd, path = tempfile.mkstemp(dir=self._staging_dir(), suffix=".tmp")
        f = os.fdopen(fd, "w+b")

        def commit() -> Pack | None:
            if f.tell() == 0:
                abort()
                return None
            f.flush()
            return self._index(f, Path(path), Budget(UNBOUNDED, UNBOUNDED), None)

        def abort() -> None:
            f.close()
            Path(path).unlink(missing_ok=True)

        return f, commit, abort  # type: ignore[return-value]

    def add_object(self, obj: ShaFile) -> None:
        self.add_objects([(obj, None)])

    def _stage(self, f: BinaryIO, path: Path, entries: list[PackIndexEntry], ext_refs: set[RawObjectID],
               graph: GraphWriter) -> Pack:
        try:
            pack_sha, extra = extend_pack(f, ext_refs, get_raw=self.get_raw, object_format=self.object_format)
            f.flush()
            f.close()
            entries = sorted([*entries, *extra])
        except BaseException:
            f.close()
            path.unlink(missing_ok=True)
            graph.close()
            raise
        return self._register(path, entries, pack_sha, graph)

    def stage_written(self, path: Path, offsets: dict[bytes, int], graph: GraphWriter) -> Pack:
        """Stage a pack this process wrote from stored objects (a repack), given where each
        object (hex sha) starts in it: its index is built from those offsets, not by reading
        the objects again."""
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            pack_sha = bytes(data[-20:])
            order = sorted((offset, sha) for sha, offset in offsets.items())
            ends = [offset for offset, _ in order[1:]] + [len(data) - 20]
            entries: list[PackIndexEntry] = sorted(
                (RawObjectID(bytes.fromhex(sha.decode("ascii"))), offset, zlib.crc32(data[offset:end]))
                for (offset, sha), end in zip(order, ends, strict=True))
        return self._register(path, entries, pack_sha, graph)

    def _register(self, path: Path, entries: list[PackIndexEntry], pack_sha: bytes, graph: GraphWriter) -> Pack:
        """Name a written pack by its checksum, write its .idx and .graph, and add it as pending."""
        try:
            base = path.with_name("pack-" + pack_sha.hex())
            os.replace(path, base.with_suffix(".pack"))
            graph.write(base.with_suffix(GRAPH))
            with open(base.with_suffix(".idx"), "wb") as idx:
                write_index(idx, entries, pack_sha)
            pack = Pack(str(base), object_format=self.object_format)
            pack.check_length_and_checksum()
        except BaseException:
            path.unlink(missing_ok=True)
            graph.close()
            raise
        name = PENDING + base.name
        self._pending[name] = base
        self._pack_cache[name] = pack
        self._invalidate_peel_cache()
        return pack

    def staging_file(self, suffix: str) -> Path:
        """A new empty file in this store's staging directory (removed with `discard`)."""
        fd, path = tempfile.mkstemp(dir=self._staging_dir(), suffix=suffix)
        os.close(fd)
        return Path(path)

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def publish(self) -> list[str]:
        """Upload staged packs (create-only) and return their blob keys, for the refs document.

        Each key carries a nonce, so no other push ever names the same blobs. A push that
        loses its CAS leaves them unnamed; gc removes them after its grace period.
        """
        keys = []
        for base in self._pending.values():
            key = f"{self.home}{base.name}-{secrets.token_hex(4)}"
            # Pack before idx: a reader treats the idx as the mark of a complete pack.
            self.blobs.put_file_if_absent(key + ".pack", base.with_suffix(".pack"))
            self.blobs.put_file_if_absent(key + GRAPH, base.with_suffix(GRAPH))
            self.blobs.put_file_if_absent(key + ".idx", base.with_suffix(".idx"))
            keys.append(key)
        return keys

    def adopt_published(self, keys: list[str]) -> None:
        """After the refs document names `keys`: keep the staged files as the cache's copy."""
        for name, key in zip(list(self._pending), keys, strict=True):
            base = self._pending.pop(name)
            pack = self._pack_cache.pop(name)
            pack.close()
            if self.blobs.local_path(key + ".idx") is None:
                dest = self.cache_dir / key
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(base.with_suffix(".pack"), dest.with_suffix(".pack"))
                os.replace(base.with_suffix(GRAPH), dest.with_suffix(GRAPH))
                os.replace(base.with_suffix(".idx"), dest.with_suffix(".idx"))
            self._pack_keys.append(key)

    def discard(self) -> None:
        """Forget staged packs and remove their files: nothing of them is kept."""
        for name in list(self._pending):
            self._pack_cache.pop(name).close()
        self._pending.clear()
        self.outside_refs, self.new_commits, self.blob_problems = set(), [], {}
        self.new_types, self.expected_types = {}, {}
        self.commit_trees, self.manifests = {}, {}
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def close(self) -> None:
        self.discard()
        super().close()
