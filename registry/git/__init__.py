"""Template repositories: dulwich over a BlobStore (packs as blobs, refs as one CAS'd document)."""
from __future__ import annotations

from pathlib import Path

from ..storage import BlobStore
from . import refsdoc
from .refsdoc import RefsDocument
from .repo import TemplateRepo


class RepoStore:
    """Creates, opens and deletes template repositories in a blob store."""

    def __init__(self, blobs: BlobStore, cache_dir: Path) -> None:
        self.blobs = blobs
        self.cache_dir = Path(cache_dir)

    def create(self, repo_id: str, default_branch: str = "main") -> None:
        refsdoc.create(self.blobs, repo_id, RefsDocument(head=f"refs/heads/{default_branch}"))

    def open(self, repo_id: str) -> TemplateRepo:
        return TemplateRepo(self.blobs, repo_id, refsdoc.load(self.blobs, repo_id), self.cache_dir)

    def delete(self, repo_id: str) -> None:
        """Remove the refs document first (the repo is gone at once), then its packs.

        Forks that share these packs must be accounted for here once forks exist."""
        self.blobs.delete(refsdoc.doc_key(repo_id))
        for key in list(self.blobs.list(refsdoc.pack_prefix(repo_id))):
            self.blobs.delete(key)
