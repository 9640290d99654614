"""Template repositories: dulwich over a BlobStore (packs as blobs, refs as one CAS'd document)."""
from __future__ import annotations

import logging
from collections.abc import Set as AbstractSet
from pathlib import Path

from ..errors import StorageError, TemplateNotFound
from ..storage import BlobStore
from . import refsdoc
from .refsdoc import RefsDocument
from .repo import TemplateRepo

log = logging.getLogger(__name__)


class RepoStore:
    """Creates, opens and deletes template repositories in a blob store."""

    def __init__(self, blobs: BlobStore, cache_dir: Path) -> None:
        self.blobs = blobs
        self.cache_dir = Path(cache_dir)

    def create(self, repo_id: str, default_branch: str = "main") -> None:
        refsdoc.create(self.blobs, repo_id, RefsDocument(head=f"refs/heads/{default_branch}"))

    def fork(self, parent_id: str, repo_id: str) -> None:
        """A new repo whose refs and pack list copy the parent's: no pack byte is copied, so
        the cost does not grow with the repo's size. The fork's own pushes add packs of its own."""
        parent = refsdoc.load(self.blobs, parent_id)
        refs = refsdoc.visible(parent.refs)  # the parent's own (drafts) stay with it
        refsdoc.create(self.blobs, repo_id, RefsDocument(head=parent.head, refs=refs, packs=parent.packs,
                                                          exact=parent.exact and refs == parent.refs))

    def abandon(self, repo_id: str) -> None:
        """Best-effort removal of the refs document of a repo whose creation failed: its outcome
        may have been unknown, so it may exist. A left-over is an unreachable orphan, never data."""
        try:
            self.blobs.delete(refsdoc.doc_key(repo_id))
        except StorageError:
            log.warning("could not remove the refs document of abandoned repo %s", repo_id)

    def packs_named(self, repo_ids: list[str]) -> set[str]:
        """Pack keys the refs documents of these repos name (those that still exist)."""
        named: set[str] = set()
        for repo_id in repo_ids:
            try:
                named.update(refsdoc.load(self.blobs, repo_id).packs)
            except TemplateNotFound:
                continue
        return named

    def open(self, repo_id: str) -> TemplateRepo:
        return TemplateRepo(self.blobs, repo_id, refsdoc.load(self.blobs, repo_id), self.cache_dir)

    def delete(self, repo_id: str, keep: AbstractSet[str] = frozenset()) -> None:
        """Remove the refs document first (the repo is gone at once), then its packs, except
        those in `keep` (named by forks, which share their parent's packs)."""
        self.blobs.delete(refsdoc.doc_key(repo_id))
        for key in list(self.blobs.list(refsdoc.pack_prefix(repo_id))):
            if key.rsplit(".", 1)[0] not in keep:
                self.blobs.delete(key)
