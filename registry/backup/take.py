"""`registry backup DEST`: a consistent copy of a registry that goes on serving.

Order is what makes it consistent under concurrent pushes:
1. the metadata, as one moment's snapshot, with the template ids it holds (metadata.dump);
2. for each of those templates, its refs document as it is now, then every pack it names
   (packs are immutable: one a destination already holds is not copied again). A push lands
   its pack before its refs, so a document read after that names only packs that exist; a
   pack gone meanwhile (a repack then `registry gc`) means the document moved: it is read
   again. Refs read after the metadata may be ahead of it: the restored registry's checks
   catch up, as after any push whose statuses were not recorded yet;
3. the refs documents, once all their packs are in place;
4. the manifest, last: a snapshot without one is incomplete and never restored.
A template deleted between 1 and 2 is listed in the manifest, and restore deletes its row.
"""
from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import BackupError
from ..git.refsdoc import RefsDocument, doc_key
from ..settings import Settings
from ..storage import BlobNotFound, BlobStore
from . import archive, metadata
from .archive import FileSum, Manifest

EXTENSIONS = (".pack", ".idx", ".graph")  # .graph is optional (packs from before it have none)
THREADS = 4  # packs copied at once (each waits mostly on storage)
REREADS = 5  # a template whose packs keep vanishing under the backup is an error past this


@dataclass
class BackupReport:
    stamp: str
    templates: int = 0
    packs_copied: int = 0
    packs_reused: int = 0
    bytes_copied: int = 0
    total_bytes: int = 0
    deleted: int = 0
    seconds: float = 0.0


Progress = Callable[[str], None]


def take(settings: Settings, blobs: BlobStore, dest: BlobStore, progress: Progress = lambda m: None) -> BackupReport:
    started = time.monotonic()
    stamp = archive.new_stamp()
    report = BackupReport(stamp)
    known = _known_packs(dest)
    with tempfile.TemporaryDirectory(prefix="registry-backup-") as tmp:
        dumped = metadata.dump(settings, Path(tmp) / "metadata")
        meta_sum = _upload(dest, archive.snapshot_key(stamp, dumped.file_name), dumped.path)
        progress(f"metadata ({dumped.kind}, {meta_sum.size} bytes, {len(dumped.template_ids)} templates)")
        manifest = Manifest(stamp, time.time(), dumped.kind, dumped.file_name, dumped.revision, meta_sum)
        docs: dict[str, bytes] = {}
        with ThreadPoolExecutor(THREADS, thread_name_prefix="backup") as pool:
            copy = _Copier(blobs, dest, known, report, pool, Path(tmp))
            for i, template_id in enumerate(dumped.template_ids, 1):
                data = copy.template(template_id)
                if data is None:
                    manifest.deleted.append(template_id)
                else:
                    docs[template_id] = data
                if i % 100 == 0:
                    progress(f"{i}/{len(dumped.template_ids)} templates")
        manifest.packs = copy.sums
        for template_id, data in docs.items():  # refs documents last: each names packs already there
            dest.put(archive.snapshot_key(stamp, f"refs/{template_id}.json"), data)
            manifest.refs[template_id] = archive.checksum_bytes(data)
        key_file = settings.data_dir / "secret_key"
        if settings.secret_key is None and key_file.exists():
            manifest.secret_key = _upload(dest, archive.snapshot_key(stamp, "secret_key"), key_file)
    manifest.finished_at = time.time()
    dest.put(archive.snapshot_key(stamp, archive.MANIFEST), manifest.to_bytes())
    report.templates, report.deleted = len(docs), len(manifest.deleted)
    report.total_bytes = sum(s.size for s in manifest.packs.values()) + meta_sum.size
    report.seconds = time.monotonic() - started
    return report


def _known_packs(dest: BlobStore) -> dict[str, FileSum | None]:
    """Pack files the destination holds, with their checksums where an earlier manifest has them."""
    held: dict[str, FileSum | None] = {key.removeprefix("blobs/"): None for key in dest.list("blobs/")}
    stamps = archive.snapshots(dest)
    if stamps:  # the newest manifest names what the last backup held; others are summed again
        for key, total in archive.read_manifest(dest, stamps[-1]).packs.items():
            if key in held:
                held[key] = total
    return held


class _Copier:
    def __init__(self, blobs: BlobStore, dest: BlobStore, known: dict[str, FileSum | None], report: BackupReport,
                 pool: ThreadPoolExecutor, tmp: Path) -> None:
        self.blobs, self.dest, self.known, self.report, self.pool, self.tmp = blobs, dest, known, report, pool, tmp
        self.sums: dict[str, FileSum] = {}

    def template(self, template_id: str) -> bytes | None:
        """Copy what the template's refs document names; its bytes, or None when it was deleted."""
        for _ in range(REREADS):
            try:
                blob = self.blobs.get(doc_key(template_id))
            except BlobNotFound:
                return None
            doc = RefsDocument.from_bytes(blob.data, blob.version)
            try:
                self._packs(doc.packs)
                return blob.data
            except BlobNotFound:
                continue  # repacked and collected meanwhile: the document moved on
        raise BackupError(f"template {template_id}: its packs kept vanishing while it was copied")

    def _packs(self, packs: tuple[str, ...]) -> None:
        keys = [pack + ext for pack in packs for ext in EXTENSIONS if pack + ext not in self.sums]
        for key, (total, copied) in zip(keys, self.pool.map(self._one, keys), strict=True):
            if total is None:
                continue
            self.sums[key] = total
            if key.endswith(".pack"):
                self.report.packs_copied += copied
                self.report.packs_reused += not copied
            self.report.bytes_copied += total.size if copied else 0

    def _one(self, key: str) -> tuple[FileSum | None, bool]:
        """Copy one pack file unless the destination holds it: (its checksum, whether it was copied);
        None for a .graph the pack does not have."""
        if (held := self.known.get(key)) is not None:
            return held, False
        local = self.blobs.local_path(key)
        path = local or self.tmp / key.replace("/", "_")
        try:
            if local is None:
                self.blobs.download(key, path)
        except BlobNotFound:
            if key.endswith(".graph"):
                return None, False
            raise
        try:
            total = archive.checksum_file(path)
            if key in self.known:  # held, from a backup whose manifest was never written: summed again
                return total, False
            self.dest.put_file_if_absent(archive.pack_key(key), path)
            return total, True
        finally:
            if local is None:
                path.unlink(missing_ok=True)


def _upload(dest: BlobStore, key: str, path: Path) -> FileSum:
    """A file of this snapshot (its name is new: nothing is there to replace)."""
    total = archive.checksum_file(path)
    dest.put_file_if_absent(key, path)
    return total

