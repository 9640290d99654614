"""What an incremental fetch sends, found at a cost that follows what is sent (issue 14).

dulwich's MissingObjectFinder parses every commit reachable from the client's haves (the
whole history, for a fetch of one commit) and its lookups try every pack, oldest first. Here
the commits are walked as C git's revision walk does: newest first by committer date from the
wants and the haves together, stopping once every commit left in the queue is known to be
reachable from a have (a few more steps as slop for clock skew). A commit is left out only
when it is proven reachable from a have, so a skewed clock can cost extra objects, never
missing ones. Trees and blobs of the boundary commits (the client's, met by the walk) are
what the client has: neither sent again, and valid bases for a thin pack's deltas.
"""
from __future__ import annotations

import heapq
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from dulwich.object_store import BucketBasedObjectStore, PackBasedObjectStore
from dulwich.objects import S_ISGITLINK, Blob, Commit, ObjectID, ShaFile, Tag, Tree, parse_tree
from dulwich.pack import Pack

from .graph import Graph, graphs_of
from .ingest import commit_links


class CommitInfo(NamedTuple):
    parents: Sequence[bytes]
    commit_time: int
    tree: bytes


SLOP = 5  # steps walked after every queued commit is uninteresting (git's revision.c)


def newest_first(store: PackBasedObjectStore) -> list[Pack]:
    """The store's packs, the newest first: the order its refs document appends them in (dulwich
    opens them in set order)."""
    packs = store.packs  # opens every pack, keyed by name
    if not isinstance(store, BucketBasedObjectStore):
        return packs
    order = {name: i for i, name in enumerate(store._iter_pack_names())}
    cached = sorted(store._pack_cache.items(), key=lambda item: order.get(item[0], -1), reverse=True)
    return [pack for _name, pack in cached]


class PackReader:
    """Stored objects read through each pack's .idx, newest pack first (an incremental fetch
    wants recent objects), with each object's location and parsed form kept for one request."""

    def __init__(self, packs: Iterable[Pack]) -> None:
        self.packs = list(packs)
        self._where: dict[bytes, tuple[int, int] | None] = {}
        self._commits: dict[bytes, CommitInfo | None] = {}  # what the walk reads of each commit
        self.graphs: list[Graph] = []

    def read_graphs(self) -> None:
        """Read commits, trees and tags from the graph files beside the packs (graph.py), where
        there are any: for a walk of the whole history, which reads every one of them."""
        self.graphs = graphs_of(pack._basename for pack in self.packs)

    def locate(self, sha: bytes) -> tuple[int, int] | None:
        """(index in `packs`, offset) of a hex sha, or None if no pack holds it."""
        if sha not in self._where:
            self._where[sha] = None
            for i, pack in enumerate(self.packs):
                try:
                    self._where[sha] = (i, pack.index.object_offset(ObjectID(sha)))
                    break
                except KeyError:
                    continue
        return self._where[sha]

    def __contains__(self, sha: object) -> bool:
        return isinstance(sha, bytes) and self.locate(sha) is not None

    def get_raw(self, sha: bytes) -> tuple[int, bytes]:
        for graph in self.graphs:
            if (hit := graph.get(sha)) is not None:
                return hit
        where = self.locate(sha)
        if where is None:
            raise KeyError(sha)
        pack = self.packs[where[0]]
        type_num, obj = pack.data.get_object_at(where[1])
        type_num, chunks = pack.resolve_object(where[1], type_num, obj)
        return type_num, b"".join(chunks)  # type: ignore[arg-type]

    def __getitem__(self, sha: bytes) -> ShaFile:
        type_num, raw = self.get_raw(sha)
        return ShaFile.from_raw_string(type_num, raw, sha=ObjectID(sha))

    def commit(self, sha: bytes) -> CommitInfo | None:
        """A commit's parents, date and tree (kept: the walk asks more than once); None if
        `sha` is missing or not a commit."""
        if sha not in self._commits:
            try:
                type_num, raw = self.get_raw(sha)
            except KeyError:
                type_num, raw = 0, b""
            self._commits[sha] = _commit_info(raw) if type_num == Commit.type_num else None
        return self._commits[sha]

    def tree_items(self, sha: bytes) -> list[tuple[bytes, int, bytes]]:
        """A tree's entries (name, mode, hex sha), parsed without building objects."""
        type_num, raw = self.get_raw(sha)
        if type_num != Tree.type_num:
            raise KeyError(sha)
        return list(parse_tree(raw, 20))


def _commit_info(raw: bytes) -> CommitInfo:
    """Parents, committer date and tree of a stored commit (its header passed fsck at push)."""
    tree, parents = commit_links(raw)
    when = 0
    for line in raw.partition(b"\n\n")[0].split(b"\n"):
        if line.startswith(b"committer "):
            fields = line.rsplit(b" ", 2)
            when = int(fields[1]) if len(fields) == 3 and fields[1].isdigit() else 0
            break
    return CommitInfo(parents, when, tree)


@dataclass
class Selection:
    objects: list[tuple[bytes, int]] = field(default_factory=list)  # (hex sha, type) to send, in order
    client_has: set[bytes] = field(default_factory=set)  # objects the client is known to hold


def _split(reader: PackReader, shas: Iterable[bytes], strict: bool) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """Commits, tags and other objects among `shas`, a tag's target counted as well. Unknown
    shas raise KeyError when `strict` (wants), else are skipped (haves)."""
    commits: list[bytes] = []
    tags: list[bytes] = []
    others: list[bytes] = []
    todo = list(shas)
    while todo:
        sha = todo.pop()
        try:
            obj = reader[sha]
        except KeyError:
            if strict:
                raise
            continue
        if isinstance(obj, Commit):
            commits.append(sha)
        elif isinstance(obj, Tag):
            tags.append(sha)
            todo.append(obj.object[1])
        else:
            others.append(sha)
    return commits, tags, others


def walk_commits(reader: PackReader, wants: Sequence[bytes], haves: Sequence[bytes],
                 shallow: frozenset[bytes] = frozenset()) -> tuple[list[bytes], set[bytes]]:
    """(commits to send, newest first; commits the client has that the walk met)."""
    uninteresting: set[bytes] = set()
    queued: set[bytes] = set()
    walked: set[bytes] = set()
    heap: list[tuple[int, int, bytes]] = []
    live: set[bytes] = set()  # queued, not walked, and not known to be the client's

    def enqueue(sha: bytes) -> None:
        commit = reader.commit(sha)
        if commit is not None and sha not in queued:
            queued.add(sha)
            if sha not in uninteresting:
                live.add(sha)
            heapq.heappush(heap, (-commit.commit_time, len(queued), sha))

    def mark(sha: bytes) -> None:
        """`sha` is reachable from a have, and so is all it reaches: also through commits
        walked already as wanted (a clock skew or equal dates), as git's
        mark_parents_uninteresting."""
        stack = [sha]
        while stack:
            sha = stack.pop()
            if sha in uninteresting:
                continue
            uninteresting.add(sha)
            live.discard(sha)
            if sha in walked:
                commit = reader.commit(sha)
                stack.extend(commit.parents if commit is not None else ())
            else:
                enqueue(sha)

    for sha in haves:
        mark(sha)
    for sha in wants:
        enqueue(sha)
    sent: list[bytes] = []
    slop = SLOP
    while heap and (live or slop > 0):
        if not live:
            slop -= 1
        _, _, sha = heapq.heappop(heap)
        live.discard(sha)
        walked.add(sha)
        commit = reader.commit(sha)
        assert commit is not None
        if sha in uninteresting:
            for parent in commit.parents:
                mark(parent)
            continue
        sent.append(sha)
        if sha not in shallow:
            for parent in commit.parents:
                enqueue(parent)
    sent = [sha for sha in sent if sha not in uninteresting]
    common = {sha for sha in wants if sha in uninteresting}
    for sha in sent:
        commit = reader.commit(sha)
        if commit is not None and sha not in shallow:
            common.update(p for p in commit.parents if p in uninteresting)
    return sent, common


def _under(reader: PackReader, tree: bytes, seen: set[bytes]) -> Iterator[tuple[bytes, int]]:
    """The trees and blobs under `tree` that are not in `seen`, as (sha, type), depth first. The
    caller adds each to `seen` as it takes it, so none comes twice."""
    stack = [tree]
    while stack:
        for _name, mode, sha in reader.tree_items(stack.pop()):
            if sha in seen or S_ISGITLINK(mode):
                continue
            is_dir = stat.S_ISDIR(mode)
            yield sha, Tree.type_num if is_dir else Blob.type_num
            if is_dir:
                stack.append(sha)


def _tree_contents(reader: PackReader, tree: bytes, into: set[bytes]) -> None:
    """Every tree and blob under `tree` (itself included) into `into`."""
    into.add(tree)
    for sha, _ in _under(reader, tree, into):
        into.add(sha)


def select(reader: PackReader, wants: Sequence[bytes], haves: Sequence[bytes],
           shallow: frozenset[bytes] = frozenset(), tagged: Mapping[ObjectID, ObjectID] | None = None,
           progress: Callable[[bytes], object] | None = None) -> Selection:
    """The objects to send for `wants` to a client that has `haves` (and all they reach)."""
    if not haves:
        reader.read_graphs()  # the whole history is walked
    want_commits, want_tags, want_others = _split(reader, wants, strict=True)
    have_commits, have_tags, _ = _split(reader, haves, strict=False)
    commits, common = walk_commits(reader, want_commits, have_commits, shallow)
    has: set[bytes] = set(common) | set(have_tags)
    for commit in filter(None, map(reader.commit, common)):
        _tree_contents(reader, commit.tree, has)
    done = set(has)
    out: list[tuple[bytes, int]] = []
    peeled: dict[bytes, bytes] = {k: v for k, v in (tagged or {}).items()}

    def emit(sha: bytes, type_num: int) -> None:
        done.add(sha)
        out.append((sha, type_num))
        if sha in peeled and peeled[sha] not in done:
            emit(peeled[sha], Tag.type_num)

    def emit_tree(tree: bytes) -> None:
        if tree in done:
            return
        emit(tree, Tree.type_num)
        for sha, type_num in _under(reader, tree, done):
            emit(sha, type_num)

    for sha in commits:
        emit(sha, Commit.type_num)
    for commit in filter(None, map(reader.commit, commits)):
        emit_tree(commit.tree)
    for sha in want_tags:
        if sha not in done and sha not in has:
            emit(sha, Tag.type_num)
    for sha in want_others:
        if sha in done or sha in has:
            continue
        obj = reader[sha]
        if isinstance(obj, Tree):
            emit_tree(sha)
        else:
            emit(sha, obj.type_num)
    if progress is not None:
        progress(f"counting objects: {len(out)}, done.\n".encode("ascii"))
    return Selection(out, has)
