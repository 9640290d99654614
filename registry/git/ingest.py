"""Reading a pushed pack as hostile input: bounded before inflating, checked like `git fsck`.

- `BoundedCopier` reads each object's header as it comes off the wire and refuses an object
  whose declared (inflated) size is over the per-object limit, or that would take the push
  over its total inflated budget, before dulwich inflates it. dulwich then inflates at most
  the declared size (read_zlib_chunks stops past it), so a 2 GiB blob of zeros costs nothing.
- `IngestIndexer` resolves deltas with the same bounds (a delta's result size is read from
  its header before it is applied, so chains of doubling deltas stop at the limit), runs
  git's fsck rules on every tree, commit and tag (registry.git.fsck), and records each
  object's type and the types its referrers expect, for the caller to check across packs.

Both rely on how dulwich's PackStreamReader reads (headers through `read`, a byte at a time;
zlib data through `recv`) and resolves (`_resolve_object`, and the `_full_ofs`/`_pending_*`
bookkeeping of DeltaChainIterator that `_walk_all_chains` follows); tests/unit/test_fuzz.py and
tests/integration/test_hostile_objects.py and test_bombs.py exercise it.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tag, Tree, sha_to_hex
from dulwich.pack import (
    DELTA_TYPES,
    OFS_DELTA,
    REF_DELTA,
    PackIndexEntry,
    PackIndexer,
    PackStreamCopier,
    UnpackedObject,
    apply_delta,
    unpack_object,
    unpack_object_at,
)

from ..errors import RegistryError, TooLarge
from . import fsck
from .graph import GraphWriter

GITLINK = 0o160000
KIND = {Commit.type_num: "commit", Tree.type_num: "tree", Blob.type_num: "blob", Tag.type_num: "tag"}
UNBOUNDED = 1 << 62
MANIFEST = b"template.json"


class ObjectRejected(RegistryError):
    """An object breaks git's rules (fsck): nothing of the push is stored."""

    code = "object_rejected"


class ObjectTooLarge(TooLarge):
    code = "object_too_large"


@dataclass
class Budget:
    """How many bytes one push may inflate: each object, and all of them together."""

    per_object: int
    total: int
    used: int = 0

    def charge(self, size: int, what: str) -> None:
        if size > self.per_object:
            raise ObjectTooLarge(f"{what} of {size} bytes exceeds the limit of {self.per_object} bytes",
                                 limit=self.per_object)
        self.used += size
        if self.used > self.total:
            raise TooLarge(f"the push inflates to more than {self.total} bytes", limit=self.total)


def delta_result_size(delta: bytes) -> int:
    """The result size a git delta declares (its second varint), read before applying it."""
    pos, seen = 0, 0
    for _ in range(2):
        value, shift = 0, 0
        while True:
            if pos >= len(delta) or shift > 63:
                raise ObjectRejected("a delta has a truncated header (badDelta)")
            byte = delta[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        seen = value
    return seen


class BoundedCopier(PackStreamCopier):
    """PackStreamCopier that checks every object's declared size before it is inflated."""

    def __init__(self, *args: Any, budget: Budget, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._budget = budget
        self._state = "pack-header"
        self._header: list[int] = []

    def verify(self, progress: Any = None) -> None:
        """As dulwich's, with each object's CRC32 taken as it streams by, so that the indexer can
        finish a whole (non-delta) object from this pass alone."""
        for unpacked in self.read_objects(compute_crc32=True):
            if self._delta_iter:
                self._delta_iter.record(unpacked)

    def read(self, size: int) -> bytes:
        data = super().read(size)
        if self._state == "pack-header":
            self._state = "body"  # the next one-byte read starts the first object
        elif size == 1 and self._state in ("body", "object-header"):
            self._object_header_byte(data[0])
        elif size == 1 and self._state == "ofs" and not data[0] & 0x80 or self._state == "ref":
            self._state = "body"
        return data

    def _object_header_byte(self, byte: int) -> None:
        if self._state == "body":
            self._header = []
            self._state = "object-header"
        self._header.append(byte)
        if byte & 0x80:
            return
        type_num = (self._header[0] >> 4) & 0x07
        size = self._header[0] & 0x0F
        for i, more in enumerate(self._header[1:]):
            size += (more & 0x7F) << (i * 7 + 4)
        what = "delta" if type_num in DELTA_TYPES else KIND.get(type_num, "object")
        self._budget.charge(size, what if what != "blob" else "file")
        self._state = "ofs" if type_num == OFS_DELTA else "ref" if type_num == REF_DELTA else "body"


@dataclass
class Seen:
    """What one pack's objects told us: types, references, and what their referrers expect."""

    types: dict[bytes, int] = field(default_factory=dict)  # hex sha -> type number
    expect: dict[bytes, tuple[int, str]] = field(default_factory=dict)  # hex sha -> (type, who expects it)
    referenced: set[bytes] = field(default_factory=set)
    commits: list[ObjectID] = field(default_factory=list)
    commit_trees: dict[bytes, bytes] = field(default_factory=dict)  # commit -> its root tree (hex)
    manifests: dict[bytes, bytes] = field(default_factory=dict)  # tree -> its template.json blob (hex)


class IngestIndexer(PackIndexer):
    """Indexes a pack and, in the same pass, bounds delta results, runs fsck on every non-blob
    object and notes what the pack references but does not contain.

    A whole object recorded as it streams in (inflated already, CRC32 known) is checked and
    indexed right then; the walk over delta chains inflates it again only if deltas build on it.
    """

    def __init__(self, *args: Any, budget: Budget | None = None, inspect_blob: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = budget or Budget(UNBOUNDED, UNBOUNDED)  # packs this process wrote itself
        self.seen = Seen()
        self.blob_problems: dict[ObjectID, str] = {}
        self.inspect_blob = inspect_blob
        self._early: dict[int, PackIndexEntry] = {}  # offset -> entry of whole objects done while streaming
        self.graph = GraphWriter()  # the commits, trees and tags, inflated, for walks (graph.py)

    def record(self, unpacked: UnpackedObject) -> None:
        super().record(unpacked)
        if unpacked.pack_type_num not in DELTA_TYPES and unpacked.crc32 is not None and unpacked.obj_chunks:
            assert unpacked.offset is not None
            self._early[unpacked.offset] = self._result(unpacked)

    def _walk_all_chains(self) -> Iterator[PackIndexEntry]:
        for offset, type_num in self._full_ofs:
            entry = self._early.pop(offset, None)
            if entry is None:
                yield from self._follow_chain(offset, type_num, None)
                continue
            yield entry
            children = [*self._pending_ofs.pop(offset, []), *self._pending_ref.pop(entry[0], [])]
            if children:
                base = super()._resolve_object(offset, type_num, None).obj_chunks
                for child in children:
                    yield from self._follow_chain(child, type_num, base)
        yield from self._walk_ref_chains()
        assert not self._pending_ofs, repr(self._pending_ofs)

    def _resolve_object(self, offset: int, obj_type_num: int,
                        base_chunks: bytes | list[bytes] | None) -> UnpackedObject:
        if base_chunks is None:
            return super()._resolve_object(offset, obj_type_num, base_chunks)
        unpacked = self._delta_at(offset)
        delta = b"".join(unpacked.decomp_chunks)
        self.budget.charge(delta_result_size(delta), "file" if obj_type_num == Blob.type_num else
                           KIND.get(obj_type_num, "object"))
        unpacked.obj_type_num = obj_type_num
        unpacked.obj_chunks = apply_delta(base_chunks, delta)
        if obj_type_num != Blob.type_num and not unpacked.obj_chunks:
            raise ObjectRejected(f"a delta resolved to an empty {KIND.get(obj_type_num, 'object')} (badDelta)")
        return unpacked

    def _delta_at(self, offset: int) -> UnpackedObject:
        """The delta stored at `offset`, inflated (its size was bounded when it arrived)."""
        if self._contents is not None:
            unpacked, _ = unpack_object_at(self._contents, offset, self.hash_func,
                                           compute_crc32=self._compute_crc32, include_comp=self._include_comp)
        else:
            assert self._file is not None
            self._file.seek(offset)
            unpacked, _ = unpack_object(self._file.read, self.hash_func, read_some=None,
                                        compute_crc32=self._compute_crc32, include_comp=self._include_comp)
        unpacked.offset = offset
        if unpacked.pack_type_num not in DELTA_TYPES:
            raise ObjectRejected("a delta base points at a non-delta object (badDelta)")
        return unpacked

    def _result(self, unpacked: UnpackedObject) -> PackIndexEntry:
        entry = super()._result(unpacked)
        sha = sha_to_hex(entry[0])
        kind = unpacked.obj_type_num
        assert kind is not None and unpacked.obj_chunks is not None  # set for every resolved object
        seen = self.seen
        seen.types[sha] = kind
        raw = b"".join(unpacked.obj_chunks)
        if kind == Blob.type_num:
            if self.inspect_blob is not None and not self.blob_problems:
                problem = self.inspect_blob(raw)
                if problem:
                    self.blob_problems[ObjectID(sha)] = problem
            return entry
        self.graph.add(entry[0], kind, raw)
        short = sha[:12].decode()
        if kind == Tree.type_num:  # the bulk of a push: parse without building objects
            problem, entries = fsck.check_tree(raw)
            _refuse(f"tree {short}", problem)
            referenced, expect, who = seen.referenced, seen.expect, f"tree {short}"
            for name, mode, child in entries:
                if mode == GITLINK:
                    continue
                referenced.add(child)
                _expect(expect, child, Tree.type_num if mode == 0o040000 else Blob.type_num, who)
                if name == MANIFEST:
                    seen.manifests[sha] = child
            return entry
        if kind == Commit.type_num:
            _refuse(f"commit {short}", fsck.commit_problem(raw))
            tree, parents = commit_links(raw)
            seen.commits.append(ObjectID(sha))
            seen.commit_trees[sha] = tree
            for ref, want in [(tree, Tree.type_num), *((p, Commit.type_num) for p in parents)]:
                seen.referenced.add(ref)
                _expect(seen.expect, ref, want, f"commit {short}")
            return entry
        _refuse(f"{KIND.get(kind, 'object')} {short}", fsck.tag_problem(raw))
        obj = ShaFile.from_raw_chunks(kind, [raw])
        if isinstance(obj, Tag):
            declared, target = obj.object
            seen.referenced.add(target)
            _expect(seen.expect, target, declared.type_num, f"tag {short}")
        return entry

    @property
    def outside(self) -> set[bytes]:
        return self.seen.referenced - set(self.seen.types)


def commit_links(raw: bytes) -> tuple[bytes, list[bytes]]:
    """A commit's tree and parents (hex), read from a header `fsck.commit_problem` accepted: the
    tree line first, then the run of parent lines right after it (as git and dulwich read them)."""
    lines = raw.partition(b"\n\n")[0].split(b"\n")
    parents = []
    for line in islice(lines, 1, None):
        if not line.startswith(b"parent "):
            break
        parents.append(line[7:])
    return lines[0][5:], parents


def _expect(expect: dict[bytes, tuple[int, str]], sha: bytes, kind: int, who: str) -> None:
    """Note what `who` says `sha` is; two referrers that disagree refuse the push (one of them
    names an object of the wrong type: a tree listing a blob as a directory breaks checkouts)."""
    known = expect.get(sha)
    if known is None:
        expect[sha] = (kind, who)
    elif known[0] != kind:
        raise ObjectRejected(f"{who} and {known[1]} disagree on the type of {sha[:12].decode()}: "
                             f"{KIND.get(kind, kind)} or {KIND.get(known[0], known[0])}")


def _refuse(what: str, problem: str | None) -> None:
    if problem:
        raise ObjectRejected(f"{what}: {problem}")


def type_problem(types: dict[bytes, int], expect: dict[bytes, tuple[int, str]]) -> str | None:
    """Whether every referenced object has the type its referrer says (a commit's tree is a
    tree, a directory entry names a tree, a tag's target its declared type). Objects missing
    from `types` are skipped: connectivity reports them."""
    for sha, (want, who) in expect.items():
        have = types.get(sha)
        if have is not None and have != want:
            rule = " (badTree)" if want == Tree.type_num else ""
            return f"{who}: {sha.decode()[:12]} is a {KIND.get(have, 'object')}, not a {KIND.get(want, 'object')}{rule}"
    return None
