"""Shallow fetches in upload-pack: deepen, deepen-relative, deepen-since, deepen-not.

dulwich parses only `deepen N`: it refuses `git fetch --deepen`, `--shallow-since` and
`--shallow-exclude` (DESIGN.md pitfall 8) and fails a shallow client's plain fetch (shallow
lines, no deepen). Here the shallow section is answered as C git's upload-pack does: `shallow`
lines name the sent commits whose parents are not sent, `unshallow` lines the client's
boundaries whose parents now are; the object walk stops at the boundaries. Each walk visits a
commit at most once. Both protocol versions use this (v0.py, v2fetch.py); a refused request
gets an ERR pkt-line (git: `remote error`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dulwich.objects import Commit, ObjectID, Tag, valid_hexsha
from dulwich.pack import ObjectContainer
from dulwich.refs import Ref

from .pktline import show

INFINITE_DEPTH = 0x7FFFFFFF  # what `git fetch --unshallow` sends as its depth
SECTION = (b"shallow", b"deepen", b"deepen-since", b"deepen-not")  # the request lines parse_request reads
# git's dwim rules: how `--shallow-exclude=NAME` finds a ref
_REF_RULES = ("{}", "refs/{}", "refs/tags/{}", "refs/heads/{}", "refs/remotes/{}", "refs/remotes/{}/HEAD")


class ShallowRefused(Exception):
    """A shallow request that can't be served; the message goes to the client as ERR."""


@dataclass
class ShallowRequest:
    client_shallow: set[ObjectID] = field(default_factory=set)  # boundaries the client has (known commits)
    depth: int = 0
    relative: bool = False
    since: int | None = None
    exclude: list[ObjectID] = field(default_factory=list)  # deepen-not tips

    @property
    def deepens(self) -> bool:
        return self.depth > 0 or self.since is not None or bool(self.exclude)


@dataclass
class ShallowInfo:
    boundary: set[ObjectID]  # sent commits whose parents are not sent
    unshallow: set[ObjectID]  # client boundaries whose parents are sent now


class CommitGraph:
    """Parents and committer times of one request's commits, each read from the store once."""

    def __init__(self, store: ObjectContainer) -> None:
        self.store = store
        self._seen: dict[ObjectID, tuple[list[ObjectID], int] | None] = {}

    def get(self, sha: ObjectID) -> tuple[list[ObjectID], int] | None:
        """(parents, commit time) of a commit; None if `sha` is missing or not a commit."""
        if sha not in self._seen:
            try:
                obj = self.store[sha]
            except KeyError:
                obj = None
            self._seen[sha] = (list(obj.parents), obj.commit_time) if isinstance(obj, Commit) else None
        return self._seen[sha]

    def parents(self, sha: ObjectID) -> list[ObjectID]:
        entry = self.get(sha)
        return entry[0] if entry else []

    def peel(self, sha: ObjectID) -> ObjectID | None:
        """The commit a want or ref names, through annotated tags; None if it names no commit."""
        return to_commit(self.store.__getitem__, sha)


def peel(get: Callable[[ObjectID], object], sha: ObjectID, hops: int = 100) -> tuple[ObjectID, object | None]:
    """Through annotated tags (and tags of tags) from `sha`: the id reached and its object (None
    when the store lacks it, or past `hops` tags). The one place v0 and v2 follow tags."""
    for _ in range(hops):
        try:
            obj = get(sha)
        except KeyError:
            return sha, None
        if not isinstance(obj, Tag):
            return sha, obj
        sha = obj.object[1]
    return sha, None


def to_commit(get: Callable[[ObjectID], object], sha: ObjectID) -> ObjectID | None:
    """The commit `sha` names, through annotated tags; None if it names none."""
    reached, obj = peel(get, sha)
    return reached if isinstance(obj, Commit) else None


def parse_request(lines: Iterable[bytes], relative: bool, graph: CommitGraph,
                  resolve_ref: Callable[[bytes], ObjectID]) -> ShallowRequest:
    """The shallow section of an upload-pack request (the lines before its flush)."""
    req = ShallowRequest(relative=relative)
    named: set[bytes] = set()
    for line in lines:
        command, _, arg = line.partition(b" ")
        if command == b"shallow":
            if not valid_hexsha(arg):
                raise ShallowRefused(f"upload-pack: invalid shallow line: {show(line)}")
            sha = ObjectID(arg)
            if sha not in req.client_shallow and sha in graph.store:  # C git ignores unknown ones
                if graph.get(sha) is None:
                    raise ShallowRefused(f"upload-pack: invalid shallow object {show(arg)}")
                req.client_shallow.add(sha)
        elif command == b"deepen":
            req.depth = _number(arg, INFINITE_DEPTH, line)
            if req.depth == 0:
                raise ShallowRefused(f"upload-pack: invalid deepen: {show(line)}")
        elif command == b"deepen-since":
            req.since = _number(arg, 1 << 62, line)
        elif command == b"deepen-not":
            if arg not in named:
                named.add(arg)
                req.exclude.append(resolve_ref(arg))
        else:
            raise ShallowRefused(f"upload-pack: unexpected line in the shallow section: {show(line)}")
    if req.depth and (req.since is not None or req.exclude):
        raise ShallowRefused("upload-pack: deepen and deepen-since (or deepen-not) cannot be used together")
    return req


def resolve_ref(refs: Mapping[Ref, ObjectID], name: bytes) -> ObjectID:
    """The object a deepen-not ref names, by git's dwim rules; exactly one ref must match."""
    found = {ref for rule in _REF_RULES if (ref := Ref(rule.encode().replace(b"{}", name))) in refs}
    if len(found) != 1:
        problem = "ambiguous deepen-not" if found else "deepen-not is not a ref"
        raise ShallowRefused(f"upload-pack: {problem}: {show(name)}")
    return refs[found.pop()]


def compute(graph: CommitGraph, req: ShallowRequest, wants: Sequence[ObjectID]) -> ShallowInfo:
    """Which commits become boundaries and which client boundaries are lifted."""
    heads = _unique(graph.peel(w) for w in wants)
    if req.since is not None or req.exclude:
        included, boundary = _by_rev_list(graph, heads, req.since, req.exclude)
    elif req.depth == INFINITE_DEPTH and not req.relative:
        # Everything reachable is sent (this server holds full history): no new boundary,
        # and every client boundary is lifted, even one the wants don't reach.
        return ShallowInfo(set(), set(req.client_shallow))
    else:
        included, boundary = _by_depth(graph, heads, req.depth, req.client_shallow if req.relative else None)
    return ShallowInfo(boundary, {s for s in req.client_shallow if s in included and s not in boundary})


def _by_depth(graph: CommitGraph, heads: list[ObjectID], depth: int,
              relative_to: set[ObjectID] | None) -> tuple[set[ObjectID], set[ObjectID]]:
    """Breadth first, so each commit is met at its least depth: the heads are at depth 1, and
    commits at `depth` are boundaries. With `relative_to` (deepen-relative), depth counts from
    the shallowest client boundary the heads reach (as C git since 2.54, which also handles
    boundaries hidden behind a merge); if they reach none, from the heads."""
    limit = None if relative_to else depth
    level, frontier, seen = 1, heads, set(heads)
    included: set[ObjectID] = set()
    boundary: set[ObjectID] = set()
    while frontier:
        if limit is None and relative_to and not relative_to.isdisjoint(frontier):
            limit = min(depth + level, INFINITE_DEPTH)
        following: list[ObjectID] = []
        for sha in frontier:
            included.add(sha)
            if limit is not None and limit != INFINITE_DEPTH and level >= limit:
                boundary.add(sha)
                continue
            for parent in graph.parents(sha):
                if parent not in seen:
                    seen.add(parent)
                    following.append(parent)
        frontier, level = following, level + 1
    if limit is None and relative_to:  # no client boundary is reachable from the wants
        return _by_depth(graph, heads, depth, None)
    return included, boundary


def _by_rev_list(graph: CommitGraph, heads: list[ObjectID], since: int | None,
                 exclude: list[ObjectID]) -> tuple[set[ObjectID], set[ObjectID]]:
    """`git rev-list --max-age=since --not exclude... --not heads...`: the commits reachable
    from the heads, newer than `since` (an older commit ends its line of history) and not
    reachable from any excluded ref; those with a parent left out are boundaries."""
    excluded = _reachable(graph, _unique(graph.peel(x) for x in exclude))

    def wanted(sha: ObjectID) -> bool:
        entry = graph.get(sha)
        return entry is not None and sha not in excluded and (since is None or entry[1] >= since)

    start = [h for h in heads if wanted(h)]
    included = _reachable(graph, start, wanted)
    if not included:
        raise ShallowRefused("upload-pack: no commits selected for shallow requests")
    boundary = {sha for sha in included if any(p not in included for p in graph.parents(sha))}
    return included, boundary


def _reachable(graph: CommitGraph, starts: list[ObjectID],
               keep: Callable[[ObjectID], bool] = lambda sha: True) -> set[ObjectID]:
    """Commits reachable from `starts` through commits that `keep` accepts (starts included)."""
    found, stack = set(starts), list(starts)
    while stack:
        for parent in graph.parents(stack.pop()):
            if parent not in found and keep(parent):
                found.add(parent)
                stack.append(parent)
    return found


@dataclass
class ShallowPlan:
    """What the shallow section of a fetch makes of it, in either protocol version."""

    stop: set[ObjectID]  # commits the object walk does not go past: kept and new boundaries
    shallow: set[ObjectID]  # new boundaries, told to the client as `shallow` lines
    unshallow: set[ObjectID]  # client boundaries lifted, told as `unshallow` lines
    extra_wants: list[ObjectID]  # parents of the lifted boundaries: sent though no want may reach them


def plan(graph: CommitGraph, req: ShallowRequest, wants: Sequence[ObjectID]) -> ShallowPlan:
    """The boundaries of a fetch for `wants` (raises ShallowRefused)."""
    if not req.deepens:  # a shallow client's plain fetch: keep its boundaries, say nothing
        return ShallowPlan(set(req.client_shallow), set(), set(), [])
    info = compute(graph, req, wants)
    # The parents of a lifted boundary are sent too (as C git), also when no want reaches it.
    known = set(wants)
    extra: list[ObjectID] = []
    for sha in sorted(info.unshallow):
        for parent in graph.parents(sha):
            if parent not in known and graph.get(parent) is not None:
                known.add(parent)
                extra.append(parent)
    return ShallowPlan(info.boundary | (req.client_shallow - info.unshallow), info.boundary - req.client_shallow,
                       info.unshallow, extra)


def _number(text: bytes, most: int, line: bytes) -> int:
    if not (text.isdigit() and len(text) <= 19 and int(text) <= most):
        raise ShallowRefused(f"upload-pack: invalid {show(line.partition(b' ')[0])}: {show(line)}")
    return int(text)


def _unique(shas: Iterable[ObjectID | None]) -> list[ObjectID]:
    return list(dict.fromkeys(s for s in shas if s is not None))
