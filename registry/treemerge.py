"""Merging two commits' trees: dulwich's three-way merge over an overlay store (nothing is
written to the repo), with template.json merged by JSON path whenever both sides changed it,
so two edits of different keys never conflict."""
from __future__ import annotations

import json
from typing import Any

from dulwich.graph import find_merge_base
from dulwich.merge import three_way_merge
from dulwich.object_store import BaseObjectStore, MemoryObjectStore, OverlayObjectStore
from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tree

from . import jsonsafe
from .git.diff import MANIFEST
from .git.repo import TemplateRepo
from .jsonmerge import MISSING, merge3


def merged_tree(repo: TemplateRepo, ours_sha: bytes, theirs_sha: bytes) -> tuple[bytes, list[ShaFile], list[str], bool]:
    """(tree id, new objects, conflicts, fast-forwardable) of merging theirs into ours."""
    store = repo.object_store
    ours_sha, theirs_sha = ObjectID(ours_sha), ObjectID(theirs_sha)
    bases = find_merge_base(repo, [ours_sha, theirs_sha])
    ours, theirs = store[ours_sha], store[theirs_sha]
    assert isinstance(ours, Commit) and isinstance(theirs, Commit)
    if bases and bases[0] == ours_sha:
        return theirs.tree, [], [], True
    base_commit = store[bases[0]] if bases else None
    assert base_commit is None or isinstance(base_commit, Commit)
    tree, objects, conflicts = merge_commits(store, base_commit, ours, theirs)
    return tree, objects, conflicts, False


def merge_commits(store: BaseObjectStore, base: Commit | None, ours: Commit,
                  theirs: Commit) -> tuple[ObjectID, list[ShaFile], list[str]]:
    """(tree id, new objects, conflicts) of the three-way merge of two commits' trees from
    `base`'s; nothing is written to `store`, which must hold all three trees."""
    scratch = MemoryObjectStore()
    overlay = OverlayObjectStore([scratch, store], add_store=scratch)
    tree, raw_conflicts = three_way_merge(overlay, base, ours, theirs)
    conflicts = [c.decode("utf-8", "replace") for c in raw_conflicts if c != MANIFEST.encode()]
    manifest = merge_manifest(overlay, base, ours, theirs)
    if manifest is not None:
        merged, json_conflicts = manifest
        if json_conflicts:
            conflicts += [f"{MANIFEST}:{path}" for path in json_conflicts]
        else:
            blob = Blob.from_string((json.dumps(merged, indent=2) + "\n").encode())
            scratch.add_object(blob)
            tree[MANIFEST.encode()] = (0o100644, blob.id)  # a new root tree (new id)
    scratch.add_object(tree)  # dulwich stores the subtrees it merges, never the root it returns
    objects = [scratch[sha] for sha in scratch]
    return tree.id, objects, sorted(conflicts)


def merge_manifest(store: BaseObjectStore, base: Commit | None, ours: Commit,
                   theirs: Commit) -> tuple[Any, list[str]] | None:
    """template.json merged by JSON path, or None when a textual merge decides (changed on one
    side at most, missing on a side, or not JSON somewhere)."""
    def load(commit: Commit | None) -> Any:
        if commit is None:
            return MISSING
        tree = store[commit.tree]
        assert isinstance(tree, Tree)
        try:
            _, sha = tree[MANIFEST.encode()]
        except KeyError:
            return MISSING
        return jsonsafe.loads(store[sha].as_raw_string())

    try:
        b, o, t = load(base), load(ours), load(theirs)
    except ValueError:
        return None
    if o == b or t == b or o is MISSING or t is MISSING:
        return None
    return merge3({} if b is MISSING else b, o, t)
