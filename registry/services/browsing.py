"""The read side of the file pages: a directory, one file, a path's history and blame at any
branch, tag or commit. Each checks access through the one guard first, and returns plain records
(never an open repo); `rest` is REF/PATH as in the URL (the longest known ref wins)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..access import Actor
from ..container import Container
from ..errors import InvalidInput, PathNotFound
from ..git import browse, history
from ..git.repo import TemplateRepo
from . import guard

MAX_SHOWN_BYTES = 1024 * 1024  # a file page shows files up to this size; larger ones are offered raw


@dataclass(frozen=True)
class Place:
    """Where a file page is: the template, the ref and path, and what the ref selector offers."""
    owner: str
    name: str
    ref: str
    path: str
    commit: str  # the commit `ref` names now
    branches: list[str]
    tags: list[str]

    @property
    def crumbs(self) -> list[tuple[str, str]]:
        """(name, path) of each directory down to the path."""
        parts = [p for p in self.path.split("/") if p]
        return [(part, "/".join(parts[:i + 1])) for i, part in enumerate(parts)]


@dataclass(frozen=True)
class Listing:
    place: Place
    entries: list[dict[str, Any]]  # directories first, then files, each by name
    readme: tuple[str, str] | None  # (file name, text) of a README in this directory


@dataclass(frozen=True)
class FileView:
    place: Place
    sha: str
    size: int
    text: str | None  # None: binary, or too large to show
    why_not_shown: str | None


def _place(repo: TemplateRepo, owner: str, name: str, rest: str) -> Place:
    ref, path = browse.split_ref_path(repo, rest.strip("/"))
    if not ref:
        raise InvalidInput("a branch, tag or commit is needed")
    commit = browse.resolve_commit(repo, ref).id.decode()
    return Place(owner, name, ref, path.strip("/"), commit, [b["name"] for b in browse.branches(repo)],
                 [r.removeprefix("refs/tags/") for r in sorted(repo.doc.refs) if r.startswith("refs/tags/")])


def listing(c: Container, actor: Actor, owner: str, name: str, rest: str) -> Listing:
    with c.open_repo(guard.template(c, actor, owner, name)) as repo:
        place = _place(repo, owner, name, rest)
        found = browse.tree(repo, place.commit, place.path)
        if found["type"] != "dir":
            raise PathNotFound(f"{place.path} is a file")
        entries = sorted(found["entries"], key=lambda e: (e["type"] != "dir", e["name"].lower()))
        readme = None
        for entry in entries:
            if entry["type"] == "file" and entry["name"].lower() in ("readme.md", "readme"):
                data = browse.raw(repo, place.commit, entry["path"])
                if len(data) <= MAX_SHOWN_BYTES:
                    readme = (entry["name"], data.decode("utf-8", "replace"))
                break
    return Listing(place, entries, readme)


def file(c: Container, actor: Actor, owner: str, name: str, rest: str) -> FileView:
    with c.open_repo(guard.template(c, actor, owner, name)) as repo:
        place = _place(repo, owner, name, rest)
        found = browse.tree(repo, place.commit, place.path)
        if found["type"] != "file":
            raise PathNotFound(f"{place.path or '/'} is a directory")
        data = browse.raw(repo, place.commit, place.path) if found["size"] <= MAX_SHOWN_BYTES else b""
    text, why = None, None
    if found["size"] > MAX_SHOWN_BYTES:
        why = f"this file is {found['size']:,} bytes: too large to show here"
    elif b"\0" in data[:8000]:
        why = "this file is binary"
    else:
        text = data.decode("utf-8", "replace")
    return FileView(place, found["sha"], found["size"], text, why)


def raw(c: Container, actor: Actor, owner: str, name: str, rest: str) -> tuple[Place, bytes]:
    with c.open_repo(guard.template(c, actor, owner, name)) as repo:
        place = _place(repo, owner, name, rest)
        return place, browse.raw(repo, place.commit, place.path)


def commits(c: Container, actor: Actor, owner: str, name: str, rest: str, offset: int,
            limit: int) -> tuple[Place, list[dict[str, Any]]]:
    """The commits that changed the path (the whole history when the path is empty)."""
    with c.open_repo(guard.template(c, actor, owner, name)) as repo:
        place = _place(repo, owner, name, rest)
        if not place.path:
            return place, list(browse.commits(repo, place.commit, offset, limit))
        browse.tree(repo, place.commit, place.path)  # the path exists at this ref (else 404)
        return place, history.file_history(repo, place.commit, place.path, offset, limit)


def blame(c: Container, actor: Actor, owner: str, name: str, rest: str) -> tuple[Place, list[history.BlameLine]]:
    with c.open_repo(guard.template(c, actor, owner, name)) as repo:
        place = _place(repo, owner, name, rest)
        return place, history.blame(repo, place.commit, place.path)
