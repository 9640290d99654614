"""The refs document: one JSON blob per repo holding HEAD, every ref and the repo's packs.

A push or merge changes it with a single compare-and-swap, so all its ref updates and the
packs they need become visible together or not at all. Packs that are stored but never
named here are invisible orphans that `registry gc` removes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

from ..errors import Conflict, TemplateNotFound
from ..storage import BlobNotFound, BlobStore, PreconditionFailed

ZERO_SHA = "0" * 40


def doc_key(repo_id: str) -> str:
    return f"repos/{repo_id}/refs.json"


def pack_prefix(repo_id: str) -> str:
    return f"repos/{repo_id}/packs/"


@dataclass(frozen=True)
class RefsDocument:
    head: str = "refs/heads/main"
    refs: dict[str, str] = field(default_factory=dict)
    # Blob keys (without .pack/.idx) of every pack this repo reads; forks share their parent's.
    packs: tuple[str, ...] = ()
    # True while every object in `packs` is reachable from `refs`: a clone may then be sent
    # all stored objects verbatim. A deletion or rewrite clears it (until a repack).
    exact: bool = True
    version: str | None = None  # the blob version it was read at; None for a new doc

    def to_bytes(self) -> bytes:
        body = {"head": self.head, "refs": dict(sorted(self.refs.items())), "packs": list(self.packs),
                "exact": self.exact}
        return json.dumps(body, indent=1).encode()

    @classmethod
    def from_bytes(cls, data: bytes, version: str | None) -> "RefsDocument":
        body = json.loads(data)
        return cls(head=body["head"], refs=dict(body["refs"]), packs=tuple(body["packs"]),
                   exact=body.get("exact", False), version=version)

    def with_changes(self, updates: dict[str, str], new_packs: list[str], head: str | None = None,
                     rewrite: bool = False) -> "RefsDocument":
        """A copy with refs set (ZERO_SHA deletes) and packs appended; `rewrite` if any
        update deletes a ref or moves it to a non-descendant."""
        refs = dict(self.refs)
        for name, sha in updates.items():
            if sha == ZERO_SHA:
                refs.pop(name, None)
            else:
                refs[name] = sha
        packs = self.packs + tuple(p for p in new_packs if p not in self.packs)
        return replace(self, refs=refs, packs=packs, head=head or self.head, exact=self.exact and not rewrite)


def load(store: BlobStore, repo_id: str) -> RefsDocument:
    try:
        blob = store.get(doc_key(repo_id))
    except BlobNotFound:
        raise TemplateNotFound(f"repository {repo_id} has no refs document") from None
    return RefsDocument.from_bytes(blob.data, blob.version)


def create(store: BlobStore, repo_id: str, doc: RefsDocument) -> RefsDocument:
    try:
        version = store.put_if_absent(doc_key(repo_id), doc.to_bytes())
    except PreconditionFailed:
        raise Conflict(f"repository {repo_id} already exists") from None
    return replace(doc, version=version)


def swap(store: BlobStore, repo_id: str, old: RefsDocument, new: RefsDocument) -> RefsDocument:
    """Replace `old` by `new` only if nobody changed it since `old` was read."""
    if old.version is None:
        raise Conflict("cannot swap a document that was never stored")
    try:
        version = store.put_if_match(doc_key(repo_id), new.to_bytes(), old.version)
    except PreconditionFailed:
        raise Conflict("refs changed concurrently; fetch and try again") from None
    return replace(new, version=version)
