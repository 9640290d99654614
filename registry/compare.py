"""Comparing two refs, of one template or of a template and its fork: how far each side has
moved since their merge base, the commits the head adds, and the files it changes (as in a pull
request, with the structured template.json diff). Two repositories are read through one overlay
store, so nothing is copied."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from dulwich.graph import find_merge_base
from dulwich.object_store import BaseObjectStore, OverlayObjectStore
from dulwich.objects import ObjectID
from dulwich.repo import ParentsProvider
from dulwich.walk import Walker

from .git import browse
from .git.browse import commit_info
from .git.diff import file_changes
from .git.repo import TemplateRepo

MAX_COMMITS = 250


@dataclass(frozen=True)
class Comparison:
    base_sha: str
    head_sha: str
    merge_base: str | None
    ahead_by: int
    behind_by: int
    commits: list[dict[str, Any]]
    files: list[dict[str, Any]]


class _Both:
    """What dulwich's graph and diff helpers read of a repo, over both repositories' objects."""

    def __init__(self, store: BaseObjectStore) -> None:
        self.object_store = store

    def parents_provider(self) -> ParentsProvider:
        return ParentsProvider(self.object_store)


def compare(base_repo: TemplateRepo, base_ref: str, head_repo: TemplateRepo, head_ref: str) -> Comparison:
    base = browse.resolve_commit(base_repo, base_ref).id
    head = browse.resolve_commit(head_repo, head_ref).id
    store = base_repo.object_store if head_repo is base_repo else \
        OverlayObjectStore([base_repo.object_store, head_repo.object_store])
    both = _Both(store)
    bases = find_merge_base(cast(Any, both), [ObjectID(base), ObjectID(head)])
    merge_base = bases[0] if bases else None
    ahead = list(Walker(store, [ObjectID(head)], exclude=[ObjectID(base)]))
    behind = sum(1 for _ in Walker(store, [ObjectID(base)], exclude=[ObjectID(head)]))
    files = file_changes(cast(TemplateRepo, both), merge_base or b"", head)
    return Comparison(base.decode(), head.decode(), merge_base.decode() if merge_base else None, len(ahead),
                      behind, [commit_info(e.commit) for e in ahead[:MAX_COMMITS]], files)
