"""`registry gc`: repack each repo into one exact pack, then drop packs no refs document names.

Repacking restores the clone fast path after deletions and force pushes (the repo's packs
hold only reachable objects again). Unnamed packs are deleted only once older than a grace
period, so a push between uploading its pack and swapping its refs is never robbed.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from dulwich.objects import Blob

from ..errors import Conflict
from ..storage import BlobNotFound, BlobStore
from . import RepoStore, refsdoc
from .fetchpack import write_selection
from .fetchwalk import PackReader, newest_first, select
from .graph import GraphWriter
from .objects import BlobPackObjectStore

DOC_SUFFIX = "/refs.json"


@dataclass
class GcReport:
    repos: int = 0
    repacked: int = 0
    packs_removed: int = 0


def repack(repos: RepoStore, repo_id: str, max_packs: int = 1) -> bool:
    """Rewrite one repo's objects as a single pack of exactly its reachable objects, unless its
    packs already hold exactly those and there are at most `max_packs` of them."""
    with repos.open(repo_id) as repo:
        doc = repo.doc
        if len(doc.packs) <= max_packs and doc.exact:
            return False
        store = repo.object_store
        wants = sorted({sha.encode() for sha in doc.refs.values()})
        if wants:
            _write_reachable(store, wants)
        keys = store.publish() if store.has_pending else []
        try:
            refsdoc.swap(repos.blobs, repo_id, doc, replace(doc, packs=tuple(keys), exact=True))
        except Conflict:  # a push landed meanwhile: leave this repo for the next run; the
            return False  # new pack, named by nothing, goes with the grace period
        return True


def _write_reachable(store: BlobPackObjectStore, wants: list[bytes]) -> None:
    """Stage one pack of what `wants` reach, stored entries copied verbatim (fetchpack) and its
    index built from where they landed: nothing is inflated but the commits and trees the walk
    reads (from the .graph files, where there are any)."""
    reader = PackReader(newest_first(store))
    selection = select(reader, wants, [])
    graph = GraphWriter(store.staging_file(".graph"))
    for sha, type_num in selection.objects:
        if type_num != Blob.type_num:
            graph.add(bytes.fromhex(sha.decode("ascii")), type_num, reader.get_raw(sha)[1])
    path = store.staging_file(".pack")
    offsets: dict[bytes, int] = {}
    with open(path, "wb") as f:
        write_selection(reader, selection, f.write, thin=False, ofs=True, offsets=offsets)
    store.stage_written(path, offsets, graph)


def collect(blobs: BlobStore, grace_seconds: float, now: float | None = None) -> int:
    """Delete pack blobs that no refs document names and that are older than the grace period."""
    now = time.time() if now is None else now
    keys = list(blobs.list("repos/"))
    named: set[str] = set()
    for key in keys:
        if key.endswith(DOC_SUFFIX):
            try:
                named.update(refsdoc.load(blobs, key[len("repos/"):-len(DOC_SUFFIX)]).packs)
            except Exception:  # a repo deleted while we scan names nothing
                continue
    removed = 0
    for key in keys:
        base, dot, ext = key.rpartition(".")
        if ext not in ("pack", "idx", "graph") or "/packs/" not in key or base in named:
            continue
        try:
            if now - blobs.modified(key) < grace_seconds:
                continue
        except BlobNotFound:
            continue
        blobs.delete(key)
        removed += ext == "pack"
    return removed


def run_gc(repos: RepoStore, grace_seconds: float, progress: Callable[[str], None] = lambda msg: None) -> GcReport:
    report = GcReport()
    for key in list(repos.blobs.list("repos/")):
        if not key.endswith(DOC_SUFFIX):
            continue
        repo_id = key[len("repos/"):-len(DOC_SUFFIX)]
        report.repos += 1
        if repack(repos, repo_id):
            report.repacked += 1
            progress(f"repacked {repo_id}")
    report.packs_removed = collect(repos.blobs, grace_seconds)
    return report
