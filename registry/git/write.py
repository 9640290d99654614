"""Create commits from files on the server side: imports, merges, and commits made for users
(the web editor, the contents API), whose objects then land through the push path."""
from __future__ import annotations

import io
import stat
import time
from collections.abc import Mapping

from dulwich.object_store import BaseObjectStore
from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tree
from dulwich.pack import write_pack_objects

from ..errors import InvalidInput, PathNotFound
from .refsdoc import ZERO_SHA
from .repo import TemplateRepo

FILE, EXECUTABLE, DIRECTORY = 0o100644, 0o100755, 0o040000


def build_tree(files: dict[str, bytes], objects: list[ShaFile]) -> Tree:
    """A tree (and subtrees, appended to `objects`) holding `files` at their slash paths."""
    tree = Tree()
    subdirs: dict[str, dict[str, bytes]] = {}
    for path, data in files.items():
        head, sep, rest = path.partition("/")
        if sep:
            subdirs.setdefault(head, {})[rest] = data
        else:
            blob = Blob.from_string(data)
            objects.append(blob)
            tree.add(head.encode(), FILE, blob.id)
    for name, content in subdirs.items():
        sub = build_tree(content, objects)
        tree.add(name.encode(), DIRECTORY, sub.id)
    objects.append(tree)
    return tree


def edit_tree(store: BaseObjectStore, tree_id: ObjectID | None, changes: Mapping[str, bytes | None],
              objects: list[ShaFile], prefix: str = "") -> Tree:
    """The tree `tree_id` (None: empty) with `changes` applied: path -> new content, or None to
    delete the file. New trees and blobs are appended to `objects`, nothing is stored; a file
    keeps its executable bit, a directory left empty goes. Paths must be checked already
    (git.paths); their depth bounds the recursion. InvalidInput or PathNotFound, naming the
    path, for a change the tree cannot take (a file under a file, a directory replaced)."""
    tree = Tree()
    if tree_id is not None:
        old = store[tree_id]
        if not isinstance(old, Tree):
            raise InvalidInput(f"{prefix.rstrip('/') or 'the root'} is not a directory")
        for entry in old.iteritems():
            tree.add(entry.path, entry.mode, entry.sha)
    files: dict[str, bytes | None] = {}
    subdirs: dict[str, dict[str, bytes | None]] = {}
    for path, data in changes.items():
        head, sep, rest = path.partition("/")
        if sep:
            subdirs.setdefault(head, {})[rest] = data
        else:
            files[head] = data
    # Deletions, then directories, then new files: a file may replace a directory emptied in the
    # same change (a/b deleted, a written), and a directory a deleted file (a deleted, a/b written).
    for name in [n for n, data in files.items() if data is None]:
        key, where = name.encode(), prefix + name
        current = _entry(tree, key)
        if current is None:
            raise PathNotFound(f"no file {where!r} to delete", path=where)
        if stat.S_ISDIR(current[0]):
            raise InvalidInput(f"{where!r} is a directory", path=where)
        del tree[key]
    for name, sub in subdirs.items():
        key, where = name.encode(), prefix + name
        current = _entry(tree, key)
        if current is not None and not stat.S_ISDIR(current[0]):
            raise InvalidInput(f"{where!r} is a file, not a directory", path=where)
        subtree = edit_tree(store, current[1] if current is not None else None, sub, objects, where + "/")
        if len(subtree):
            tree[key] = (DIRECTORY, subtree.id)
        elif current is not None:
            del tree[key]
    for name, data in files.items():
        if data is None:
            continue
        key, where = name.encode(), prefix + name
        current = _entry(tree, key)
        if current is not None and stat.S_ISDIR(current[0]):
            raise InvalidInput(f"{where!r} is a directory", path=where)
        blob = Blob.from_string(data)
        objects.append(blob)
        tree[key] = (current[0] if current is not None and current[0] in (FILE, EXECUTABLE) else FILE, blob.id)
    objects.append(tree)
    return tree


def _entry(tree: Tree, name: bytes) -> tuple[int, ObjectID] | None:
    """(mode, id) of `name` in `tree`, None if it has none (dulwich's Tree has no .get)."""
    try:
        mode, sha = tree[name]
    except KeyError:
        return None
    return mode, sha


def ident(name: str, email: str) -> str:
    """`Name <email>` as a commit's author line has it (neither may hold <, > or a newline)."""
    for part in (name, email):
        if any(ch in part for ch in "<>\n\0"):
            raise InvalidInput("an author's name and email may not contain <, > or a newline")
    return f"{name} <{email}>"


def make_commit(tree: ObjectID, parents: list[str], author: str, message: str) -> Commit:
    """A commit of `tree` by `author` (an `ident`), now, in UTC; not stored."""
    commit = Commit()
    commit.tree = tree
    commit.parents = [ObjectID(p.encode()) for p in parents]
    commit.author = commit.committer = author.encode()
    commit.author_time = commit.commit_time = int(time.time())
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = message.encode()
    return commit


def pack_of(store: BaseObjectStore, objects: list[ShaFile]) -> bytes:
    """A pack holding `objects` once each (whole, no deltas), as a push would send them."""
    unique = list({obj.id: obj for obj in objects}.values())
    out = io.BytesIO()
    write_pack_objects(out, unique, store.object_format, deltify=False)
    return out.getvalue()


def commit_files(repo: TemplateRepo, files: dict[str, bytes], message: str, author: str,
                 branch: str = "main") -> str:
    """Commit `files` as the whole tree on top of `branch` (created if absent); returns the sha."""
    ref = f"refs/heads/{branch}"
    old = repo.ref_value(ref)
    objects: list[ShaFile] = []
    tree = build_tree(files, objects)
    commit = make_commit(tree.id, [] if old == ZERO_SHA else [old], author, message)
    objects.append(commit)
    repo.object_store.add_objects([(obj, None) for obj in objects])
    repo.commit_updates({ref: commit.id.decode()}, {ref: old})
    return commit.id.decode()
