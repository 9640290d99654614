"""Read-only views of a repo for the API: branches, tags, history, trees and file contents."""
from __future__ import annotations

import stat
from collections.abc import Iterator
from typing import Any

from dulwich.objects import Blob, Commit, ObjectID, Tag, Tree
from dulwich.walk import Walker

from ..errors import InvalidInput, PathNotFound, RefNotFound
from .repo import TemplateRepo


def commit_info(c: Commit) -> dict[str, Any]:
    return {
        "sha": c.id.decode(),
        "message": c.message.decode("utf-8", "replace"),
        "author": c.author.decode("utf-8", "replace"),
        "committer": c.committer.decode("utf-8", "replace"),
        "authored_at": c.author_time,
        "committed_at": c.commit_time,
        "parents": [p.decode() for p in c.parents],
    }


def resolve_commit(repo: TemplateRepo, ref: str) -> Commit:
    """A branch name, tag name, full ref or (abbreviated to 7+) commit sha, peeled to a commit."""
    candidates = [ref, f"refs/heads/{ref}", f"refs/tags/{ref}"]
    sha = next((repo.doc.refs[c] for c in candidates if c in repo.doc.refs), None)
    if sha is None and len(ref) >= 7 and all(ch in "0123456789abcdef" for ch in ref.lower()):
        if len(ref) == 40:
            sha = ref.lower()
        else:
            matches = list(repo.object_store.iter_prefix(ref.lower().encode()))
            sha = matches[0].decode() if len(matches) == 1 else None
    if sha is None:
        raise RefNotFound(f"no branch, tag or commit {ref!r}")
    try:
        obj = repo.object_store[ObjectID(sha.encode())]
        while isinstance(obj, Tag):
            obj = repo.object_store[obj.object[1]]
    except KeyError:
        raise RefNotFound(f"no commit {ref!r}") from None
    if not isinstance(obj, Commit):
        raise RefNotFound(f"{ref!r} is not a commit")
    return obj


def branches(repo: TemplateRepo) -> list[dict[str, Any]]:
    return [{"name": r[len("refs/heads/"):], "sha": s, "default": r == repo.default_branch}
            for r, s in sorted(repo.doc.refs.items()) if r.startswith("refs/heads/")]


def tags(repo: TemplateRepo) -> list[dict[str, Any]]:
    out = []
    for r, s in sorted(repo.doc.refs.items()):
        if r.startswith("refs/tags/"):
            out.append({"name": r[len("refs/tags/"):], "sha": s,
                        "commit": resolve_commit(repo, r).id.decode()})
    return out


def commits(repo: TemplateRepo, ref: str, offset: int, limit: int) -> Iterator[dict[str, Any]]:
    head = resolve_commit(repo, ref)
    walker = Walker(repo.object_store, [head.id], max_entries=offset + limit)
    for i, entry in enumerate(walker):
        if i >= offset:
            yield commit_info(entry.commit)


def walk_to(repo: TemplateRepo, ref: str, path: str) -> tuple[int, Any]:
    tree = repo.object_store[resolve_commit(repo, ref).tree]
    mode, obj = stat.S_IFDIR, tree
    parts = [p for p in path.strip("/").split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise InvalidInput("path may not contain . or ..")
    for i, part in enumerate(parts):
        if not isinstance(obj, Tree):
            raise PathNotFound(f"{'/'.join(parts[:i])} is not a directory")
        try:
            mode, sha = obj[part.encode()]
        except KeyError:
            raise PathNotFound(f"no path {path!r} at {ref}") from None
        if stat.S_ISLNK(mode) or mode == 0o160000:
            raise PathNotFound(f"{path!r} is a link or submodule")
        obj = repo.object_store[sha]
    return mode, obj


def tree(repo: TemplateRepo, ref: str, path: str) -> dict[str, Any]:
    mode, obj = walk_to(repo, ref, path)
    if isinstance(obj, Blob):
        return {"type": "file", "path": path, "sha": obj.id.decode(), "size": len(obj.data)}
    entries = []
    for entry in obj.iteritems():
        kind = "dir" if stat.S_ISDIR(entry.mode) else "submodule" if entry.mode == 0o160000 else "file"
        name = entry.path.decode("utf-8", "replace")
        entries.append({"name": name, "path": f"{path.strip('/')}/{name}".lstrip("/"), "type": kind,
                        "sha": entry.sha.decode(), "mode": f"{entry.mode:06o}"})
    return {"type": "dir", "path": path, "sha": obj.id.decode(), "entries": entries}


def raw(repo: TemplateRepo, ref: str, path: str) -> bytes:
    _, obj = walk_to(repo, ref, path)
    if not isinstance(obj, Blob):
        raise PathNotFound(f"{path!r} is a directory")
    return obj.data


def split_ref_path(repo: TemplateRepo, rest: str) -> tuple[str, str]:
    """Split "feature/x/prompts/a.md" into a ref and a path, preferring the longest known ref."""
    parts = rest.split("/")
    for i in range(len(parts), 0, -1):
        ref = "/".join(parts[:i])
        if any(f"{p}{ref}" in repo.doc.refs for p in ("refs/heads/", "refs/tags/")):
            return ref, "/".join(parts[i:])
    return parts[0], "/".join(parts[1:])
