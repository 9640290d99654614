"""The refs document: one JSON blob per repo holding HEAD, every ref and the repo's packs.

A push or merge changes it with a single compare-and-swap, so all its ref updates and the
packs they need become visible together or not at all. Packs that are stored but never
named here are invisible orphans that `registry gc` removes.

Every write carries a fresh `write_id`. When the outcome of a conditional write is ambiguous
(the response was lost, the connection reset, a 5xx, or a 412 on a retry whose first attempt
had landed), the writer reads the document back: its own write id there means the write
landed, whatever the error said. Nothing is ever deleted on the strength of an error alone.

The document also keeps the write ids of its last `RECENT` versions, so that whoever knows a
write id (a push's follow-up, journalled in the database before its write: services/landing.py)
can tell later, after the writer died or the database failed, whether that write landed.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ..errors import Conflict, StorageError, TemplateNotFound
from ..storage import BlobNotFound, BlobStore, PreconditionFailed

log = logging.getLogger(__name__)

ZERO_SHA = "0" * 40
# Refs the registry keeps for itself and never shows a git client: not advertised (v0 or v2),
# never wantable, never copied into a fork. They only keep their commits from gc
# (refs/drafts/N/base: the commit a shared draft stands on).
HIDDEN_PREFIXES = ("refs/drafts/",)


def visible(refs: dict[str, str]) -> dict[str, str]:
    """`refs` without the hidden ones."""
    return {ref: sha for ref, sha in refs.items() if not ref.startswith(HIDDEN_PREFIXES)}


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
    write_id: str = ""  # who wrote this version: resolves ambiguous writes (see module doc)
    recent: tuple[str, ...] = ()  # the write ids of the last RECENT versions, this one's last

    def wrote(self, write_id: str) -> bool:
        """Whether the write `write_id` is one of the last RECENT that made this document."""
        return write_id in self.recent

    def to_bytes(self) -> bytes:
        body = {"head": self.head, "refs": dict(sorted(self.refs.items())), "packs": list(self.packs),
                "exact": self.exact, "write_id": self.write_id, "recent": list(self.recent)}
        return json.dumps(body, indent=1).encode()

    @classmethod
    def from_bytes(cls, data: bytes, version: str | None) -> RefsDocument:
        body = json.loads(data)
        return cls(head=body["head"], refs=dict(body["refs"]), packs=tuple(body["packs"]),
                   exact=body.get("exact", False), version=version, write_id=body.get("write_id", ""),
                   recent=tuple(body.get("recent", ())))

    def with_changes(self, updates: dict[str, str], new_packs: list[str], head: str | None = None,
                     rewrite: bool = False) -> RefsDocument:
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


# How often an ambiguous write is re-read (and, when nobody else wrote, tried again).
ATTEMPTS = 5
BACKOFF_S = 0.2
# Write ids a document remembers. A journalled write is settled within seconds of the database
# answering again, and no write (each journalled first) can be made while it does not.
RECENT = 100


def new_write_id() -> str:
    return uuid.uuid4().hex


def _current(store: BlobStore, repo_id: str) -> RefsDocument | None:
    """The stored document, None if absent; StorageError only after retries."""
    for attempt in range(ATTEMPTS):
        try:
            return load(store, repo_id)
        except TemplateNotFound:
            return None
        except StorageError:
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(BACKOFF_S * 2 ** attempt)
    raise AssertionError("unreachable")


def _write(store: BlobStore, repo_id: str, doc: RefsDocument, put: Callable[[bytes], str],
           unchanged: Callable[[RefsDocument | None], bool], lost: str, write_id: str | None) -> RefsDocument:
    """Write `doc` by `put` with `write_id` (None: a fresh one), resolving every ambiguous outcome
    by reading back.

    `unchanged(current)` says whether the stored state is still the one `put` was conditioned on
    (then nobody else wrote, and a failed attempt is simply tried again); otherwise the write was
    lost to another writer and Conflict(`lost`) is raised. The result is certain either way, or a
    StorageError says storage could not be reached to find out.
    """
    wid = write_id or new_write_id()
    mine = replace(doc, write_id=wid, recent=(*doc.recent, wid)[-RECENT:])
    data = mine.to_bytes()
    for attempt in range(ATTEMPTS):
        try:
            return replace(mine, version=put(data))
        except (PreconditionFailed, StorageError) as exc:
            error: PreconditionFailed | StorageError = exc
        current = _current(store, repo_id)
        if current is not None and current.write_id == mine.write_id:
            log.info("write of %s landed despite %s", doc_key(repo_id), error.code)
            return replace(mine, version=current.version)
        if current is not None and current.wrote(wid):
            # It landed and another writer has since written on top of it (its answer was lost
            # or slow while another push went through): landed, and the stored document is newer.
            log.info("write of %s landed despite %s, and was built on since", doc_key(repo_id), error.code)
            return current
        if not unchanged(current):
            raise Conflict(lost)
        if attempt < ATTEMPTS - 1:
            time.sleep(BACKOFF_S * 2 ** attempt)
    raise error if isinstance(error, StorageError) else Conflict(lost)


def create(store: BlobStore, repo_id: str, doc: RefsDocument) -> RefsDocument:
    """Store a new repo's first document; Conflict if one exists that this call did not write."""
    return _write(store, repo_id, doc, lambda data: store.put_if_absent(doc_key(repo_id), data),
                  lambda current: current is None, "the repository already exists", None)


def swap(store: BlobStore, repo_id: str, old: RefsDocument, new: RefsDocument,
         write_id: str | None = None) -> RefsDocument:
    """Replace `old` by `new` only if nobody changed it since `old` was read; `write_id` names the
    write (None: a fresh id)."""
    if old.version is None:
        raise Conflict("cannot swap a document that was never stored")
    version = old.version
    return _write(store, repo_id, new, lambda data: store.put_if_match(doc_key(repo_id), data, version),
                  lambda current: current is not None and current.version == version,
                  "refs changed concurrently; fetch and try again", write_id)
