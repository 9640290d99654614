"""A dulwich object store whose packs are immutable blobs in a BlobStore.

New objects (a push's thin pack, a merge's commits) are first *staged* as local packs:
readable by this store so that policy checks can look at them, but stored nowhere
until `publish()` uploads them. The caller then names them in the refs document by CAS,
so a refused push stores nothing. Published packs are read through a local cache keyed
by blob key (blobs are immutable), so a clone does not download them again.
"""
from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from dulwich.object_store import BucketBasedObjectStore
from dulwich.objects import Blob, Commit, ObjectID, RawObjectID, ShaFile, Tag, Tree, parse_tree, sha_to_hex
from dulwich.pack import (
    Pack,
    PackData,
    PackIndexEntry,
    PackIndexer,
    PackStreamCopier,
    UnpackedObject,
    extend_pack,
    write_pack_index,
)

from ..errors import TooLarge
from ..storage import BlobStore

PENDING = "pending:"
BlobInspector = Callable[[bytes], "str | None"]  # a blob's content -> why it may not be stored
GITLINK = 0o160000


def references(obj: ShaFile) -> list[bytes]:
    """The objects `obj` points at (hex): a commit's tree and parents, a tree's entries
    (gitlinks name another repository's commits), a tag's target."""
    if isinstance(obj, Commit):
        return [obj.tree, *obj.parents]
    if isinstance(obj, Tree):
        return [entry.sha for entry in obj.iteritems() if entry.mode != GITLINK]
    if isinstance(obj, Tag):
        return [obj.object[1]]
    return []


class _CheckingIndexer(PackIndexer):
    """Indexes a pack and, in the same pass, parses every non-blob object (a malformed one
    raises) and notes what the pack references but does not contain."""

    def __init__(self, *args: Any, inspect_blob: BlobInspector | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contained: set[bytes] = set()
        self.referenced: set[bytes] = set()
        self.commits: list[ObjectID] = []
        self.blob_problems: dict[ObjectID, str] = {}
        self.inspect_blob = inspect_blob

    def _result(self, unpacked: UnpackedObject) -> PackIndexEntry:
        entry = super()._result(unpacked)
        self.contained.add(sha_to_hex(entry[0]))
        kind = unpacked.obj_type_num
        assert kind is not None and unpacked.obj_chunks is not None  # set for every resolved object
        if kind == Blob.type_num:
            if self.inspect_blob is not None and not self.blob_problems:
                problem = self.inspect_blob(b"".join(unpacked.obj_chunks))
                if problem:
                    self.blob_problems[sha_to_hex(entry[0])] = problem
        elif kind == Tree.type_num:  # the bulk of a push: parse without building objects
            text = b"".join(unpacked.obj_chunks)
            self.referenced.update(sha for _, mode, sha in parse_tree(text, 20, strict=True) if mode != GITLINK)
        else:
            obj = ShaFile.from_raw_chunks(kind, unpacked.obj_chunks)
            self.referenced.update(references(obj))
            if kind == Commit.type_num:
                self.commits.append(obj.id)
        return entry

    @property
    def outside(self) -> set[bytes]:
        return self.referenced - self.contained


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
        self.blob_problems: dict[ObjectID, str] = {}  # blob sha -> why it may not be stored
        self.inspect_blob: BlobInspector | None = None

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
            self.blobs.download(key + ".idx", base.with_suffix(".idx"))
        return base

    def _remove_pack_by_name(self, name: str) -> None:
        raise NotImplementedError("packs are removed by registry gc, never by a request")

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
    ) -> Pack:
        """Read a (thin) pack from the wire, complete it with its external bases, stage it."""
        if max_input_size:
            read_all, read_some = _bounded(read_all, read_some, max_input_size)
        fd, path = tempfile.mkstemp(dir=self._staging_dir(), suffix=".tmp")
        with os.fdopen(fd, "w+b") as f:
            indexer = _CheckingIndexer(f, self.object_format.hash_func, resolve_ext_ref=self.get_raw,
                                       inspect_blob=self.inspect_blob)
            copier = PackStreamCopier(self.object_format.hash_func, read_all, read_some, f,
                                      delta_iter=indexer)  # type: ignore[arg-type]  # any DeltaChainIterator works
            copier.verify(progress=progress)
            f.flush()
            f.seek(0)
            with PackData(path, file=f, object_format=self.object_format) as data:
                indexer.set_pack_data(data)
                entries = list(indexer)
                ext_refs = set(indexer.ext_refs())
            self._learn(indexer)
            return self._stage(f, Path(path), entries, ext_refs)

    def _learn(self, indexer: _CheckingIndexer) -> None:
        self.outside_refs |= indexer.outside
        self.new_commits += indexer.commits
        self.blob_problems.update(indexer.blob_problems)

    def add_pack(self) -> tuple[BinaryIO, Callable[[], None], Callable[[], None]]:
        # dulwich declares commit() -> None, though its own stores' commit returns the pack, as this one does.
        fd, path = tempfile.mkstemp(dir=self._staging_dir(), suffix=".tmp")
        f = os.fdopen(fd, "w+b")

        def commit() -> Pack | None:
            if f.tell() == 0:
                abort()
                return None
            f.seek(0)
            with PackData(path, file=f, object_format=self.object_format) as data:
                indexer = _CheckingIndexer.for_pack_data(data, resolve_ext_ref=self.get_raw)
                assert isinstance(indexer, _CheckingIndexer)  # for_pack_data builds a `cls`
                entries = list(indexer)
                ext_refs = set(indexer.ext_refs())
            self._learn(indexer)
            return self._stage(f, Path(path), entries, ext_refs)

        def abort() -> None:
            f.close()
            Path(path).unlink(missing_ok=True)

        return f, commit, abort  # type: ignore[return-value]

    def add_object(self, obj: ShaFile) -> None:
        self.add_objects([(obj, None)])

    def _stage(self, f: BinaryIO, path: Path, entries: list[PackIndexEntry], ext_refs: set[RawObjectID]) -> Pack:
        try:
            pack_sha, extra = extend_pack(f, ext_refs, get_raw=self.get_raw, object_format=self.object_format)
            f.flush()
            f.close()
            entries = sorted([*entries, *extra])
            base = path.with_name("pack-" + pack_sha.hex())
            os.replace(path, base.with_suffix(".pack"))
            with open(base.with_suffix(".idx"), "wb") as idx:
                write_pack_index(idx, entries, pack_sha)
            pack = Pack(str(base), object_format=self.object_format)
            pack.check_length_and_checksum()
        except BaseException:
            f.close()
            path.unlink(missing_ok=True)
            raise
        name = PENDING + base.name
        self._pending[name] = base
        self._pack_cache[name] = pack
        self._invalidate_peel_cache()
        return pack

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
                os.replace(base.with_suffix(".idx"), dest.with_suffix(".idx"))
            self._pack_keys.append(key)

    def discard(self) -> None:
        """Forget staged packs and remove their files: nothing of them is kept."""
        for name in list(self._pending):
            self._pack_cache.pop(name).close()
        self._pending.clear()
        self.outside_refs, self.new_commits, self.blob_problems = set(), [], {}
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def close(self) -> None:
        self.discard()
        super().close()


def _bounded(
    read_all: Callable[[int], bytes], read_some: Callable[[int], bytes] | None, limit: int
) -> tuple[Callable[[int], bytes], Callable[[int], bytes] | None]:
    """Wrap the wire readers so more than `limit` bytes raise TooLarge."""
    total = 0

    def count(data: bytes) -> bytes:
        nonlocal total
        total += len(data)
        if total > limit:
            raise TooLarge(f"push exceeds the maximum size of {limit} bytes", limit=limit)
        return data

    return (lambda n: count(read_all(n))), (None if read_some is None else (lambda n: count(read_some(n))))
