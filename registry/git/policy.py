"""What a push may do, checked for every ref update before the refs document is swapped.

dulwich's receive-pack validates none of this (DESIGN.md pitfall 5): ref names, targets that
exist and have the right type, connectivity of the new pack, fast-forward, protection.
Every check returns a short reason, shown to git users as `! [remote rejected] ref (reason)`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from dulwich.graph import can_fast_forward
from dulwich.objects import Commit, ObjectID, Tag, Tree
from dulwich.refs import Ref, check_ref_format

from .ingest import type_problem
from .refsdoc import ZERO_SHA

if TYPE_CHECKING:
    from .objects import BlobPackObjectStore
    from .repo import TemplateRepo

WRITABLE_PREFIXES = ("refs/heads/", "refs/tags/")


@dataclass(frozen=True)
class RefUpdate:
    ref: str
    old: str
    new: str

    @property
    def is_delete(self) -> bool:
        return self.new == ZERO_SHA

    @property
    def is_create(self) -> bool:
        return self.old == ZERO_SHA


@dataclass(frozen=True)
class BranchRule:
    """The part of branch protection that governs pushes (the rest governs merges).
    `require_pull`: the branch moves only by merging pull requests (it asks for approvals or
    checks, which a direct push would skip), as GitHub's "require a pull request"."""

    allow_force_push: bool = False
    allow_deletion: bool = False
    require_pull: bool = False


PROTECTED = "protected branch"  # how every refusal by a branch rule starts


RuleLookup = Callable[[str], "BranchRule | None"]


MAX_REF_BYTES = 255


def ref_name_problem(ref: str) -> str | None:
    try:
        size = len(ref.encode("utf-8"))
    except UnicodeEncodeError:  # the wire bytes were decoded with surrogateescape
        return "invalid ref name (not UTF-8)"
    if size > MAX_REF_BYTES:
        return f"ref name longer than {MAX_REF_BYTES} bytes"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in ref):
        return "invalid ref name (control character)"
    if not ref.startswith(WRITABLE_PREFIXES):
        if ref.startswith("refs/pull/"):
            return "refs/pull/ is managed by the registry"
        return "only refs/heads/* and refs/tags/* may be pushed"
    if not check_ref_format(Ref(ref.encode("utf-8", "surrogateescape"))):
        return "invalid ref name"
    return None


def update_problem(repo: TemplateRepo, update: RefUpdate, current: str, rule: BranchRule | None,
                   default_branch: str) -> str | None:
    """Why this single update must be refused, or None. `current` is the ref's value now."""
    problem = ref_name_problem(update.ref)
    if problem:
        return problem
    if current != update.old:
        return "stale info: the ref moved; fetch first"
    if update.is_delete:
        if update.ref == default_branch:
            return "refusing to delete the default branch"
        if rule is not None and not rule.allow_deletion:
            return f"{PROTECTED}: deletion is not allowed"
        return None
    try:
        obj = repo.object_store[ObjectID(update.new.encode())]
    except KeyError:
        return f"missing object {update.new}"
    if update.ref.startswith("refs/heads/") and not isinstance(obj, Commit):
        return f"{update.ref} must point at a commit, not a {obj.type_name.decode()}"
    if not isinstance(obj, (Commit, Tag)):
        return f"a tag must point at a commit or tag object, not a {obj.type_name.decode()}"
    if update.ref.startswith("refs/heads/") and not update.is_create:
        problem = direct_push_problem(rule)
        if problem:
            return problem
        fast_forward = can_fast_forward(repo, ObjectID(update.old.encode()), ObjectID(update.new.encode()))
        if not fast_forward and rule is not None and not rule.allow_force_push:
            return f"{PROTECTED}: force push is not allowed"
    return None


def direct_push_problem(rule: BranchRule | None) -> str | None:
    """Why a branch refuses every update pushed to it (not its creation), whatever it holds:
    its protection wants changes to come as pull requests."""
    if rule is not None and rule.require_pull:
        return f"{PROTECTED}: changes must go through a pull request"
    return None


def is_rewrite(repo: TemplateRepo, update: RefUpdate) -> bool:
    """Whether an (accepted) update may leave objects unreachable: a deletion, a moved tag,
    or a branch moved to a commit that does not descend from its old one."""
    if update.is_create:
        return False
    if update.is_delete or not update.ref.startswith("refs/heads/"):
        return True
    return not can_fast_forward(repo, ObjectID(update.old.encode()), ObjectID(update.new.encode()))


def connectivity_problem(store: BlobPackObjectStore) -> str | None:
    """Every object the staged packs reference must exist. Stored packs were checked when
    they arrived, so checking what the new packs point at outside themselves proves it all."""
    for sha in sorted(store.outside_refs):
        if ObjectID(sha) not in store:
            return f"missing object {sha.decode()}"
    # ...and have the type its referrer says (a commit's tree is a tree, a directory a tree, a
    # file a blob): a commit whose tree is a blob would break every clone of the branch.
    outside = [sha for named in store.expected_types.values() for sha in named if sha not in store.new_types]
    return type_problem({**store.new_types, **store.object_types(outside)}, store.expected_types)


def content_problem(store: BlobPackObjectStore, inspect_manifest: Callable[[bytes], str | None]) -> str | None:
    """Why the new objects may not be stored: a blob the inspector refused (a secret, a file
    over the size limit), or a new template.json with a literal credential."""
    for sha, problem in store.blob_problems.items():
        path = _path_of(store, store.new_commits, sha)
        return f"{problem} in {path}" if path else problem
    seen: set[bytes] = set()
    for commit_sha in store.new_commits:
        blob_sha = _manifest_of(store, store.commit_trees[commit_sha])
        if blob_sha is None:
            continue
        if blob_sha in seen or blob_sha in store.outside_refs:
            continue  # already stored: it was checked when it arrived
        seen.add(blob_sha)
        path = inspect_manifest(store[ObjectID(blob_sha)].as_raw_string())
        if path:
            return f"literal credential in template.json at {path}: use a ${{secrets.NAME}} reference"
    return None


def _manifest_of(store: BlobPackObjectStore, tree_sha: bytes) -> bytes | None:
    """The template.json blob of a root tree: noted while the pack was read for a new tree, read
    from the store for one that was stored before (a commit may reuse an old tree)."""
    if tree_sha in store.new_types:
        return store.manifests.get(tree_sha)
    tree = cast(Tree, store[ObjectID(tree_sha)])  # unchecked: a crafted commit may name a blob (then this raises)
    try:
        return tree[b"template.json"][1]
    except KeyError:
        return None


def _path_of(store: BlobPackObjectStore, commits: list[ObjectID], blob_sha: bytes, limit: int = 20_000) -> str | None:
    """Where a blob sits in the first new commit that holds it (for the refusal message)."""
    visited = 0
    for commit_sha in commits:
        commit = store[commit_sha]
        assert isinstance(commit, Commit)  # new_commits holds commits only
        stack = [(b"", commit.tree)]
        while stack and visited < limit:
            prefix, tree_sha = stack.pop()
            visited += 1
            tree = cast(Tree, store[tree_sha])  # a commit's tree or a directory entry: unchecked, as above
            for entry in tree.iteritems():
                if entry.sha == blob_sha:
                    return (prefix + entry.path).decode("utf-8", "replace")
                if entry.mode == 0o040000:
                    stack.append((prefix + entry.path + b"/", entry.sha))
    return None
