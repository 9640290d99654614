"""A file's history and blame, bounded: the commits that changed one path (newest first) and,
for each line of the file at a commit, the commit that last changed it (dulwich's annotate)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dulwich.annotate import annotate_lines
from dulwich.walk import Walker

from ..errors import InvalidInput, PathNotFound
from .browse import commit_info, resolve_commit, walk_to
from .repo import TemplateRepo

MAX_BLAME_BYTES = 512 * 1024  # blame diffs every version of the file: larger files are refused
MAX_BLAME_COMMITS = 2_000  # and follows at most this many commits back


@dataclass(frozen=True)
class BlameLine:
    number: int
    text: str
    commit: dict[str, Any]  # commit_info of the commit that last changed the line
    first: bool  # the first line of a run from the same commit (the page names the commit once)


def _path_bytes(path: str) -> bytes:
    parts = [p for p in path.strip("/").split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise InvalidInput("a file path is needed, without . or ..")
    return "/".join(parts).encode()


def file_history(repo: TemplateRepo, ref: str, path: str, offset: int, limit: int) -> list[dict[str, Any]]:
    """The commits reachable from `ref` that changed `path` (a file or a directory), newest first."""
    head = resolve_commit(repo, ref)
    walker = Walker(repo.object_store, [head.id], paths=[_path_bytes(path)], max_entries=offset + limit)
    return [commit_info(entry.commit) for i, entry in enumerate(walker) if i >= offset]


def blame(repo: TemplateRepo, ref: str, path: str) -> list[BlameLine]:
    """Each line of the file at `ref` with the commit that last changed it."""
    head = resolve_commit(repo, ref)
    _, obj = walk_to(repo, head.id.decode(), path)
    data = getattr(obj, "data", None)
    if not isinstance(data, bytes):
        raise PathNotFound(f"{path!r} is a directory")
    if len(data) > MAX_BLAME_BYTES:
        raise InvalidInput(f"{path} is {len(data)} bytes: blame is shown for files up to {MAX_BLAME_BYTES} bytes")
    walked = list(Walker(repo.object_store, [head.id], paths=[_path_bytes(path)], max_entries=MAX_BLAME_COMMITS + 1))
    if len(walked) > MAX_BLAME_COMMITS:
        raise InvalidInput(f"{path} has more than {MAX_BLAME_COMMITS} commits: blame is not shown")
    lines = annotate_lines(repo.object_store, head.id, _path_bytes(path), follow=False)
    out: list[BlameLine] = []
    previous = None
    for number, ((commit, _entry), text) in enumerate(lines, start=1):
        out.append(BlameLine(number, text.decode("utf-8", "replace").rstrip("\r\n"), commit_info(commit),
                             commit.id != previous))
        previous = commit.id
    return out
