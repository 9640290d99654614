"""`registry restore SRC [--force]`: the newest complete snapshot of SRC put back, onto an empty
data dir, database and bucket (or over a registry, with --force). Every file is checked against
the manifest's SHA-256 as it is read; the metadata is migrated to this version's schema after.

Order: metadata, then packs, then refs documents (a refs document never names a pack that is
not there yet), then the key file. The registry must not be serving meanwhile: restore writes
under it."""
from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete

from ..errors import BackupError, TargetNotEmpty
from ..git.refsdoc import doc_key
from ..meta import db
from ..meta.schema import templates
from ..settings import Settings
from ..storage import BlobNotFound, BlobStore, open_blob_store
from . import archive, metadata
from .archive import Manifest


@dataclass
class RestoreReport:
    stamp: str
    templates: int = 0
    packs: int = 0
    bytes: int = 0
    seconds: float = 0.0


def choose(src: BlobStore, stamp: str | None) -> Manifest:
    """The snapshot to restore: the one named, else the newest complete one."""
    stamps = archive.snapshots(src)
    if not stamps:
        raise BackupError("no complete backup there (no snapshots/*/manifest.json)")
    if stamp is not None and stamp not in stamps:
        raise BackupError(f"no complete snapshot {stamp!r}; there are: {', '.join(stamps[-5:])}")
    return archive.read_manifest(src, stamp or stamps[-1])


def restore(settings: Settings, src: BlobStore, force: bool, stamp: str | None = None,
            progress: Callable[[str], None] = lambda m: None) -> RestoreReport:
    started = time.monotonic()
    manifest = choose(src, stamp)
    blobs = open_blob_store(settings)
    if not force:
        _refuse_unless_empty(settings, blobs)
    report = RestoreReport(manifest.stamp)
    with tempfile.TemporaryDirectory(prefix="registry-restore-") as tmp:
        dump = Path(tmp) / manifest.metadata_file
        _fetch(src, archive.snapshot_key(manifest.stamp, manifest.metadata_file), dump, manifest.metadata)
        metadata.restore(settings, manifest.metadata_kind, dump, force)
        store = db.open_store(settings)  # migrated to this version's schema
        try:
            if manifest.deleted:
                with store.engine.begin() as conn:
                    conn.execute(delete(templates).where(templates.c.id.in_(manifest.deleted)))
        finally:
            store.engine.dispose()
        progress(f"metadata ({manifest.metadata_kind}, schema {manifest.schema_revision})")
        for i, (key, expected) in enumerate(sorted(manifest.packs.items()), 1):
            if not blobs.exists(key):
                path = Path(tmp) / "pack"
                _fetch(src, archive.pack_key(key), path, expected)
                blobs.put_file_if_absent(key, path)
                path.unlink()
            report.packs += key.endswith(".pack")
            report.bytes += expected.size
            if i % 300 == 0:
                progress(f"{i}/{len(manifest.packs)} pack files")
    for template_id, expected in sorted(manifest.refs.items()):
        data = src.get(archive.snapshot_key(manifest.stamp, f"refs/{template_id}.json")).data
        archive.check(f"refs of {template_id}", archive.checksum_bytes(data), expected)
        blobs.put(doc_key(template_id), data)
        report.templates += 1
    if manifest.secret_key is not None:
        _restore_key(settings, src, manifest, force)
    report.seconds = time.monotonic() - started
    return report


def _refuse_unless_empty(settings: Settings, blobs: BlobStore) -> None:
    if not metadata.is_empty(settings):
        raise TargetNotEmpty("the metadata database already holds a registry; restore onto an empty one, "
                             "or pass --force to restore over it")
    if next(iter(blobs.list("repos/")), None) is not None:
        raise TargetNotEmpty("the blob store already holds repositories; restore onto an empty one, "
                             "or pass --force to restore over it")


def _fetch(src: BlobStore, key: str, path: Path, expected: archive.FileSum) -> None:
    try:
        src.download(key, path)
    except BlobNotFound:
        raise BackupError(f"{key} is missing from the backup") from None
    archive.check(key, archive.checksum_file(path), expected)


def _restore_key(settings: Settings, src: BlobStore, manifest: Manifest, force: bool) -> None:
    assert manifest.secret_key is not None
    path = settings.data_dir / "secret_key"
    if path.exists() and not force:
        return
    data = src.get(archive.snapshot_key(manifest.stamp, "secret_key")).data
    archive.check("secret_key", archive.checksum_bytes(data), manifest.secret_key)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".restoring")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
