"""What a pushed pack's objects are checked for and tell the push policy, as they are indexed.

- `Budget`: how much one push may inflate, each object and all together; indexpack charges it
  from each entry's header (and each delta's result size) before inflating or applying.
- `Inspector.see` gets every object of the pack once, inflated: it runs git's fsck rules on every
  tree, commit and tag (registry.git.fsck), hands blobs to the push's blob inspector (secrets,
  size), and records each object's type and the type its referrers say each object they name is,
  for the policy to check across packs (`type_problem`). The bulk of a push is trees: their
  entries are taken by kind in C-level calls, not a Python loop per entry.

tests/unit/test_fuzz.py, tests/integration/test_hostile_objects.py and test_bombs.py exercise it.
"""
from __future__ import annotations

from binascii import hexlify, unhexlify
from collections.abc import Callable
from dataclasses import dataclass, field
from hashlib import blake2b
from itertools import islice

from dulwich.objects import Blob, Commit, ObjectID, RawObjectID, ShaFile, Tag, Tree, sha_to_hex

from ..errors import RegistryError, TooLarge
from . import fsck
from .graph import GraphWriter

GITLINK = 0o160000
DIRECTORY = 0o040000
KIND = {Commit.type_num: "commit", Tree.type_num: "tree", Blob.type_num: "blob", Tag.type_num: "tag"}
UNBOUNDED = 1 << 62
MANIFEST = b"template.json"
_ENTRY_END = fsck._ENTRY_END  # noqa: SLF001  (one regex: a tree split as split_tree splits it)


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
    objects: int = UNBOUNDED  # how many objects the pack may hold

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


class PackCorrupt(RegistryError):
    """A pack that is not one: bad framing, checksum, zlib data or sizes. Nothing is stored."""

    code = "pack_corrupt"


@dataclass
class Seen:
    """What one pack's objects told us: types, and what their referrers expect."""

    types: dict[bytes, int] = field(default_factory=dict)  # hex sha -> type number
    # type number -> {raw id -> who says it is of that type}: raw, as trees hold them (hex once, in `expected`)
    expect: dict[int, dict[bytes, str]] = field(default_factory=lambda: {k: {} for k in KIND})
    commits: list[ObjectID] = field(default_factory=list)
    commit_trees: dict[bytes, bytes] = field(default_factory=dict)  # commit -> its root tree (hex)
    manifests: dict[bytes, bytes] = field(default_factory=dict)  # tree -> its template.json blob (hex)

    def expects(self, kind: int, named: dict[bytes, str]) -> None:
        """Note that each of `named` is said to be a `kind`; an object that another referrer
        named as another type refuses the push (one of them is wrong: a tree listing a blob as
        a directory breaks checkouts). C-level set tests, not a loop per object."""
        for other, known in self.expect.items():
            if known and other != kind and not known.keys().isdisjoint(named):
                oid = next(s for s in named if s in known)
                raise ObjectRejected(f"{named[oid]} and {known[oid]} disagree on the type of {oid.hex()[:12]}: "
                                     f"{KIND[kind]} or {KIND[other]}")
        self.expect[kind].update(named)

    def expected(self) -> dict[int, dict[bytes, str]]:
        """`expect` by hex sha, as the rest of the push policy names objects."""
        return {kind: {hexlify(oid): who for oid, who in named.items()} for kind, named in self.expect.items()}


class Inspector:
    """Checks every object of a pack as it is indexed (indexpack.Indexer calls `see`)."""

    def __init__(self, inspect_blob: Callable[[bytes], str | None] | None = None,
                 graph: GraphWriter | None = None) -> None:
        self.seen = Seen()
        self.inspect_blob = inspect_blob
        self.blob_problems: dict[ObjectID, str] = {}
        # the commits, trees and tags, inflated, for walks (graph.py): spooled to a file as they come
        self.graph = graph if graph is not None else GraphWriter()
        self._shapes: set[bytes] = set()  # digests of the heads of trees that passed fsck (split_tree)

    def see(self, oid: RawObjectID, kind: int, raw: bytes) -> None:
        sha = sha_to_hex(oid)
        seen = self.seen
        seen.types[sha] = kind
        if kind == Blob.type_num:
            if self.inspect_blob is not None and not self.blob_problems:
                problem = self.inspect_blob(raw)
                if problem:
                    self.blob_problems[ObjectID(sha)] = problem
            return
        self.graph.add(oid, kind, raw)
        who = f"{KIND[kind]} {sha[:12].decode()}"
        if kind == Tree.type_num:
            self._tree(sha, raw, who)
        elif kind == Commit.type_num:
            _refuse(who, fsck.commit_problem(raw))
            tree, parents = commit_links(raw)
            seen.commits.append(ObjectID(sha))
            seen.commit_trees[sha] = tree
            seen.expects(Tree.type_num, {unhexlify(tree): who})
            if parents:
                seen.expects(Commit.type_num, dict.fromkeys(map(unhexlify, parents), who))
        else:
            _refuse(who, fsck.tag_problem(raw))
            obj = ShaFile.from_raw_chunks(kind, [raw])
            if isinstance(obj, Tag):
                declared, target = obj.object
                seen.expects(declared.type_num, {unhexlify(target): who})

    def _tree(self, sha: bytes, raw: bytes, who: str) -> None:
        if len(raw) > fsck.LARGE_TREE:
            if (runs := fsck.tree_runs(raw)) is not None:
                self._large_tree(sha, runs, who)
                return
            # not WELL_FORMED: check_tree's verdict, without matching the whole tree first
            _refuse(who, fsck.tree_problem(raw))
        split = fsck.split_tree(raw)
        if split is None:  # not as git writes trees: the rules one by one say why
            problem, entries = fsck.check_tree(raw)
            _refuse(who, problem)
            self._entries(sha, [f"{mode:o} ".encode() + name for name, mode, _ in entries],
                          [unhexlify(c) for _, _, c in entries], who)
            return
        heads, ids = split
        shape = b"\0".join(heads)
        key = blake2b(shape, digest_size=16).digest()  # held for the push: a digest, not the names
        if key not in self._shapes:  # the names and modes of a tree are checked once a push
            _refuse(who, fsck.check_tree(raw)[0])
            self._shapes.add(key)
        self._entries(sha, heads, ids, who, shape)

    def _large_tree(self, sha: bytes, runs: list[bytes], who: str) -> None:
        """`_tree` a run of entries at a time (fsck.tree_runs): the same shape digest, checks
        and expectations, without a list of every entry of a tree of megabytes (issue 29)."""
        digest = blake2b(digest_size=16)
        for i, run in enumerate(runs):
            heads = _ENTRY_END.split(run)[0:-1:2]
            digest.update(b"\0" + b"\0".join(heads) if i else b"\0".join(heads))
        key = digest.digest()
        if key not in self._shapes:
            _refuse(who, fsck.large_tree_problem(runs))
            self._shapes.add(key)
        for run in runs:
            parts = _ENTRY_END.split(run)
            self._entries(sha, parts[0:-1:2], parts[1::2], who)

    def _entries(self, sha: bytes, heads: list[bytes], ids: list[bytes], who: str, shape: bytes | None = None) -> None:
        """What a tree's entries ("mode name" heads, raw ids) are said to be: files, unless a
        directory or a submodule is among them (then one by one)."""
        shape = b"\0".join(heads) if shape is None else shape
        if b"40000 " not in shape and b"160000 " not in shape:  # files only: the common case
            self.seen.expects(Blob.type_num, dict.fromkeys(ids, who))
        else:
            files, directories = {}, {}
            for head, oid in zip(heads, ids, strict=True):
                if head.startswith(b"40000 "):
                    directories[oid] = who
                elif not head.startswith(b"160000 "):
                    files[oid] = who
            self.seen.expects(Blob.type_num, files)
            self.seen.expects(Tree.type_num, directories)
        if MANIFEST in shape:
            self._manifest(sha, heads, ids)

    def _manifest(self, sha: bytes, heads: list[bytes], ids: list[bytes]) -> None:
        for head, oid in zip(heads, ids, strict=True):
            if head.endswith(b" " + MANIFEST) and head.index(b" ") == len(head) - len(MANIFEST) - 1:
                self.seen.manifests[sha] = hexlify(oid)


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


def _refuse(what: str, problem: str | None) -> None:
    if problem:
        raise ObjectRejected(f"{what}: {problem}")


def type_problem(types: dict[bytes, int], expect: dict[int, dict[bytes, str]]) -> str | None:
    """Whether every referenced object has the type its referrer says (a commit's tree is a
    tree, a directory entry names a tree, a tag's target its declared type). Objects missing
    from `types` are skipped: connectivity reports them."""
    for want, named in expect.items():
        for sha, who in named.items():
            if types.get(sha, want) != want:
                rule = " (badTree)" if want == Tree.type_num else ""
                return (f"{who}: {sha.decode()[:12]} is a {KIND.get(types[sha], 'object')}, "
                        f"not a {KIND.get(want, 'object')}{rule}")
    return None
