"""A template's git repository: dulwich's BaseRepo over a refs document and blob packs."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from dulwich.config import ConfigFile
from dulwich.objects import ObjectID
from dulwich.refs import DictRefsContainer, Ref
from dulwich.repo import BaseRepo

from ..errors import Conflict, RefNotFound
from ..storage import BlobStore
from . import refsdoc
from .objects import BlobPackObjectStore
from .refsdoc import ZERO_SHA, RefsDocument


class TemplateRepo(BaseRepo):
    """One snapshot of a repo: reads see the refs document as it was opened.

    Writes go through `commit_updates`, which publishes staged packs and swaps the refs
    document in one compare-and-swap.
    """

    object_store: BlobPackObjectStore

    def __init__(self, blobs: BlobStore, repo_id: str, doc: RefsDocument, cache_dir: Path) -> None:
        self.blobs, self.repo_id, self.doc = blobs, repo_id, doc
        store = BlobPackObjectStore(blobs, doc.packs, cache_dir, refsdoc.pack_prefix(repo_id))
        super().__init__(store, DictRefsContainer(self._ref_dict(doc)))

    @staticmethod
    def _ref_dict(doc: RefsDocument) -> dict[Ref, bytes]:
        """What dulwich's handlers see: never the hidden refs (refsdoc.HIDDEN_PREFIXES)."""
        refs = {Ref(k.encode()): v.encode() for k, v in refsdoc.visible(doc.refs).items()}
        refs[Ref(b"HEAD")] = b"ref: " + doc.head.encode()
        return refs

    # -- BaseRepo's storage hooks: a bare repo with no files of its own ----------------
    def get_config(self) -> ConfigFile:
        return ConfigFile()

    def get_config_stack(self) -> ConfigFile:  # type: ignore[override]  # dulwich declares StackedConfig
        return ConfigFile()

    def get_description(self) -> bytes | None:
        return None

    def get_named_file(self, path: str | bytes, basedir: str | None = None) -> BinaryIO | None:
        return None

    def _determine_file_mode(self) -> bool:
        return False

    def _determine_symlinks(self) -> bool:
        return False

    def close(self) -> None:
        """Drop staged packs and close open pack files."""
        self.object_store.close()

    def __enter__(self) -> TemplateRepo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------
    @property
    def default_branch(self) -> str:
        return self.doc.head

    @property
    def head_sha(self) -> str | None:
        """The default branch's tip; None while it has no commits."""
        return self.doc.refs.get(self.doc.head)

    def stored_refs(self) -> dict[str, str]:
        """The refs as stored now, read afresh (not this object's view of them)."""
        return dict(refsdoc.load(self.blobs, self.repo_id).refs)

    def ref_value(self, ref: str) -> str:
        return self.doc.refs.get(ref, ZERO_SHA)

    def advertised_refs(self) -> dict[Ref, ObjectID]:
        """The refs upload-pack shows, in either protocol version: the stored ones, and HEAD while
        its branch exists. Never the hidden ones `serve_also` adds for one request, nor those the
        registry keeps for itself (refs/drafts/)."""
        doc = self.doc
        refs = {Ref(ref.encode()): ObjectID(sha.encode()) for ref, sha in refsdoc.visible(doc.refs).items()}
        if doc.head in doc.refs:
            refs[Ref(b"HEAD")] = ObjectID(doc.refs[doc.head].encode())
        return refs

    def serve_also(self, shas: set[str]) -> None:
        """Let one stateless upload-pack request want these commits, which a push made ancestors
        of current tips since the client read the refs (see git/wants.py). They are named by
        hidden refs of this snapshot only, never advertised or stored."""
        for sha in sorted(shas):
            self.refs.set_if_equals(Ref(f"refs/registry-served/{sha}".encode()), None, ObjectID(sha.encode()))

    # -- writing ------------------------------------------------------------------
    def set_head(self, ref: str, retries: int = 5) -> RefsDocument:
        """Make `ref` (an existing branch) the default branch, by CAS like every refs change."""
        doc = self.doc
        for _ in range(retries):
            if ref not in doc.refs:
                raise RefNotFound(f"no branch {ref.removeprefix('refs/heads/')!r}")
            try:
                new = refsdoc.swap(self.blobs, self.repo_id, doc, replace(doc, head=ref))
                break
            except Conflict:  # another ref moved meanwhile: try again on the fresh document
                doc = refsdoc.load(self.blobs, self.repo_id)
        else:
            raise Conflict("refs are too busy; try again")
        self.doc = new
        self.refs = DictRefsContainer(self._ref_dict(new))
        return new

    def commit_updates(self, updates: dict[str, str], expected: dict[str, str], rewrite: bool = False,
                       retries: int = 5, adopt: tuple[str, ...] = (), write_id: str | None = None) -> RefsDocument:
        """Publish staged packs and apply `updates` (ref -> new sha) in one CAS, as the write
        `write_id` when given (a journalled write: see refsdoc's `recent`).

        `adopt` names packs stored elsewhere (a fork's) that this repo starts to read, without a
        copy. `expected` holds each ref's value the caller validated against. A CAS lost to an
        unrelated change (another ref) is retried on the fresh document; one where any of
        our refs moved raises Conflict. Uploaded packs are never deleted here: a write whose
        outcome looked lost may have landed and named them (refsdoc resolves that by reading
        back), so packs no document names are left to gc's grace period.
        """
        store = self.object_store
        keys = store.publish() if store.has_pending else []
        doc = self.doc
        try:
            for _ in range(retries):
                moved = [ref for ref, old in expected.items() if doc.refs.get(ref, ZERO_SHA) != old]
                if moved:
                    raise Conflict(f"{', '.join(moved)} changed concurrently; fetch and try again", refs=moved)
                head = self._head_after(doc, updates)
                try:
                    changed = doc.with_changes(updates, keys + list(adopt), head, rewrite)
                    new = refsdoc.swap(self.blobs, self.repo_id, doc, changed, write_id)
                    break
                except Conflict:
                    doc = refsdoc.load(self.blobs, self.repo_id)
            else:
                raise Conflict("refs are too busy; try again")
        except BaseException:
            store.discard()
            raise
        store.adopt_published(keys)
        self.doc = new
        self.refs = DictRefsContainer(self._ref_dict(new))
        return new

    @staticmethod
    def _head_after(doc: RefsDocument, updates: dict[str, str]) -> str | None:
        """An empty repo's first pushed branch becomes HEAD when the default is absent (as GitHub)."""
        if doc.head in doc.refs or doc.head in updates and updates[doc.head] != ZERO_SHA:
            return None
        branches = sorted(r for r, s in updates.items() if r.startswith("refs/heads/") and s != ZERO_SHA)
        return branches[0] if branches and not any(r.startswith("refs/heads/") for r in doc.refs) else None
