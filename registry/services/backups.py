"""Operators' use cases for disasters (the CLI; no route): back a registry up while it serves,
restore a backup onto an empty target, and verify every template."""
from __future__ import annotations

from collections.abc import Callable

from ..backup import archive, restore, take, verify
from ..backup.restore import RestoreReport
from ..backup.take import BackupReport
from ..backup.verify import VerifyReport
from ..container import Container
from ..settings import Settings
from . import gallery, templates

Progress = Callable[[str], None]


def backup(c: Container, dest: str, progress: Progress = lambda m: None) -> BackupReport:
    """A consistent copy of the metadata, packs and refs into `dest` (a directory or
    s3://bucket/prefix); packs the destination holds from an earlier backup are not copied again."""
    return take.take(c.settings, c.blobs, archive.open_destination(dest, create=True), progress)


def restore_backup(settings: Settings, src: str, force: bool, snapshot: str | None = None,
                   progress: Progress = lambda m: None) -> RestoreReport:
    """The newest complete snapshot of `src` (or the one named) onto this registry's data dir,
    database and blob store, refused when they hold a registry unless `force`. Then the search
    index is rebuilt when it lives in files (PostgreSQL's is in the restored database)."""
    report = restore.restore(settings, archive.open_destination(src, create=False), force, snapshot, progress)
    if settings.search_backend == "whoosh":
        c = Container.build(settings)
        try:
            progress(f"search index rebuilt: {gallery.reindex(c)} templates")
        finally:
            c.close()
    return report


def verify_all(c: Container, progress: Progress = lambda m: None) -> VerifyReport:
    """Every template: refs resolve, `git fsck --strict` clean, metadata and refs agree."""
    return verify.verify(c.meta, c.repos, templates.all_templates(c), progress)
