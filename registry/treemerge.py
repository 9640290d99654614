"""Merging two commits' trees: dulwich's three-way merge over an overlay store (nothing is
written to the repo), with template.json merged by JSON path whenever both sides changed it,
so two edits of different keys never conflict, and a test file (`tests/*.json`) whose lines
conflict merged by test case (`casemerge`). What still conflicts is what the conflict view
(`registry.conflicts`) shows."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dulwich.errors import NotTreeError
from dulwich.graph import find_merge_base
from dulwich.merge import three_way_merge
from dulwich.object_store import BaseObjectStore, MemoryObjectStore, OverlayObjectStore
from dulwich.objects import S_ISGITLINK, Blob, Commit, ObjectID, ShaFile, SubmoduleEncountered, Tree

from . import jsonsafe
from .casemerge import is_test_file, merge_cases
from .git.diff import MANIFEST
from .git.repo import TemplateRepo
from .git.write import edit_tree
from .jsonmerge import MISSING, merge3


@dataclass(frozen=True)
class TreeMerge:
    tree: ObjectID  # the merged tree; conflicted files hold ours (or git's conflict markers)
    objects: list[ShaFile]  # the new objects it needs, none of them in the store
    conflicts: list[str]  # what conflicts: paths, template.json's as template.json:$.json.path
    files: list[str]  # the files in conflict, each once


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
    merged = merge_detail(store, base, ours, theirs)
    return merged.tree, merged.objects, merged.conflicts


def merge_detail(store: BaseObjectStore, base: Commit | None, ours: Commit, theirs: Commit) -> TreeMerge:
    """The three-way merge of two commits' trees, with the files still in conflict."""
    scratch = MemoryObjectStore()
    overlay = OverlayObjectStore([scratch, store], add_store=scratch)
    tree, raw_conflicts = three_way_merge(overlay, base, ours, theirs)
    scratch.add_object(tree)  # dulwich stores the subtrees it merges, never the root it returns
    conflicts: list[str] = []
    files: list[str] = []
    edits: dict[str, bytes | None] = {}
    manifest = merge_manifest(overlay, base, ours, theirs)
    if manifest is not None:
        merged, json_conflicts = manifest
        if json_conflicts:
            conflicts += [f"{MANIFEST}:{path}" for path in json_conflicts]
            files.append(MANIFEST)
        else:
            edits[MANIFEST] = dump_manifest(merged)
    for path in sorted({c.decode("utf-8", "replace") for c in raw_conflicts}):
        if path == MANIFEST and manifest is not None:
            continue  # decided by JSON path above
        if is_test_file(path):
            sides = [blob_at(overlay, commit, path) for commit in (base, ours, theirs)]
            cased = merge_cases(sides[0], sides[1], sides[2]) if sides[1] is not None and sides[2] is not None \
                else None
            if cased is not None and not cased[1]:
                edits[path] = cased[0]
                continue
        conflicts.append(path)
        files.append(path)
    if edits:
        made: list[ShaFile] = []
        tree = edit_tree(overlay, tree.id, edits, made)
        for obj in made:
            scratch.add_object(obj)
    return TreeMerge(tree.id, new_objects(scratch, tree.id), sorted(conflicts), sorted(files))


def new_objects(scratch: BaseObjectStore, tree: ObjectID) -> list[ShaFile]:
    """The objects of `tree` that `scratch` holds (what a merge made), walked from the root:
    trees and blobs the merge made and then replaced are left out."""
    found: list[ShaFile] = []
    seen: set[bytes] = set()
    stack = [tree]
    while stack:
        sha = stack.pop()
        if sha in seen or sha not in scratch:
            continue
        seen.add(sha)
        obj = scratch[sha]
        found.append(obj)
        if isinstance(obj, Tree):
            stack.extend(entry.sha for entry in obj.iteritems())
    return found


def dump_manifest(value: Any) -> bytes:
    """template.json as a merge writes it."""
    return (json.dumps(value, indent=2) + "\n").encode()


def entry_at(store: BaseObjectStore, commit: Commit | None, path: str) -> tuple[int, ObjectID] | None:
    """(mode, id) of `path` in `commit`'s tree, None when it has nothing there."""
    return None if commit is None else entry_in(store, commit.tree, path)


def entry_in(store: BaseObjectStore, tree: ObjectID, path: str) -> tuple[int, ObjectID] | None:
    """(mode, id) of `path` in `tree`, None when it has nothing there."""
    root = store[tree]
    assert isinstance(root, Tree)
    try:
        return root.lookup_path(store.__getitem__, path.encode())
    except (KeyError, NotTreeError, SubmoduleEncountered):
        return None


def blob_at(store: BaseObjectStore, commit: Commit | None, path: str) -> bytes | None:
    """The content of the file `path` in `commit`, None when it has none there (or a directory)."""
    entry = entry_at(store, commit, path)
    obj = store[entry[1]] if entry is not None and not S_ISGITLINK(entry[0]) else None
    return obj.data if isinstance(obj, Blob) else None


def merge_manifest(store: BaseObjectStore, base: Commit | None, ours: Commit,
                   theirs: Commit) -> tuple[Any, list[str]] | None:
    """template.json merged by JSON path, or None when a textual merge decides (changed on one
    side at most, missing on a side, or not JSON somewhere)."""
    def load(commit: Commit | None) -> Any:
        data = blob_at(store, commit, MANIFEST)
        return MISSING if data is None else jsonsafe.loads(data)

    try:
        b, o, t = load(base), load(ours), load(theirs)
    except (ValueError, UnicodeDecodeError):
        return None
    if o == b or t == b or o is MISSING or t is MISSING:
        return None
    return merge3({} if b is MISSING else b, o, t)
