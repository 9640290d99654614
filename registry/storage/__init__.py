"""Blob storage: a protocol and its local-disk and S3 implementations."""
from __future__ import annotations

from ..settings import Settings
from .base import Blob, BlobNotFound, BlobStore, PreconditionFailed
from .local import LocalBlobStore

__all__ = ["Blob", "BlobNotFound", "BlobStore", "PreconditionFailed", "LocalBlobStore", "open_blob_store"]


def open_blob_store(settings: Settings) -> BlobStore:
    """The blob store the settings name: local disk under data_dir, or an S3 bucket."""
    if settings.storage == "s3":
        from ..errors import InvalidInput
        from .s3 import S3BlobStore

        if not settings.s3_bucket:
            raise InvalidInput("REGISTRY_STORAGE=s3 needs REGISTRY_S3_BUCKET")
        return S3BlobStore(settings.s3_bucket, settings.s3_prefix)
    return LocalBlobStore(settings.blob_dir or settings.data_dir / "blobs")
