"""Create commits from files on the server side (imports now; merges later)."""
from __future__ import annotations

import time

from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tree

from .refsdoc import ZERO_SHA
from .repo import TemplateRepo


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
            tree.add(head.encode(), 0o100644, blob.id)
    for name, content in subdirs.items():
        sub = build_tree(content, objects)
        tree.add(name.encode(), 0o040000, sub.id)
    objects.append(tree)
    return tree


def commit_files(repo: TemplateRepo, files: dict[str, bytes], message: str, author: str,
                 branch: str = "main") -> str:
    """Commit `files` as the whole tree on top of `branch` (created if absent); returns the sha."""
    ref = f"refs/heads/{branch}"
    old = repo.ref_value(ref)
    objects: list[ShaFile] = []
    tree = build_tree(files, objects)
    commit = Commit()
    commit.tree = tree.id
    commit.parents = [] if old == ZERO_SHA else [ObjectID(old.encode())]
    commit.author = commit.committer = author.encode()
    commit.author_time = commit.commit_time = int(time.time())
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = message.encode()
    objects.append(commit)
    repo.object_store.add_objects([(obj, None) for obj in objects])
    repo.commit_updates({ref: commit.id.decode()}, {ref: old})
    return commit.id.decode()
