"""The BlobStore protocol: flat keys to immutable-or-CAS'd byte blobs.

Packs are written once (put_if_absent); the per-repo refs document is changed only by
compare-and-swap (put_if_match against the version read). Both backends pass one contract suite.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..errors import NotFound, PreconditionFailed

__all__ = ["Blob", "BlobNotFound", "BlobStore", "PreconditionFailed"]


class BlobNotFound(NotFound):
    code = "blob_not_found"


@dataclass(frozen=True)
class Blob:
    data: bytes
    version: str  # opaque; pass back to put_if_match


@runtime_checkable
class BlobStore(Protocol):
    def get(self, key: str) -> Blob:
        """The blob and its version; BlobNotFound if absent."""

    def put(self, key: str, data: bytes) -> str:
        """Unconditional write; returns the new version."""

    def put_if_absent(self, key: str, data: bytes) -> str:
        """Create-only write; PreconditionFailed if the key exists."""

    def put_if_match(self, key: str, data: bytes, version: str) -> str:
        """Write only if the current version is `version`; PreconditionFailed otherwise."""

    def put_file_if_absent(self, key: str, path: Path) -> bool:
        """Create-only upload of a local file; False if the key already existed."""

    def download(self, key: str, dest: Path) -> None:
        """Copy a blob into a local file (written atomically)."""

    def local_path(self, key: str) -> Path | None:
        """A readable local path for the blob when the medium is the local disk, else None."""

    def download_url(self, key: str, expires_s: int = 3600) -> str | None:
        """A URL that reads the blob without credentials for `expires_s` seconds (a presigned GET,
        how a Fargate task reads its input), or None when the medium has no such URL (local disk)."""

    def exists(self, key: str) -> bool: ...

    def modified(self, key: str) -> float:
        """When the blob was last written (epoch seconds); BlobNotFound if absent."""

    def delete(self, key: str) -> None:
        """Remove a blob; absent keys are not an error."""

    def list(self, prefix: str) -> Iterator[str]:
        """Keys starting with `prefix`, in lexical order."""

    def copy(self, src: str, dst: str) -> None:
        """Server-side copy: no bytes pass through this process where the medium allows."""

    def usage(self, prefix: str) -> tuple[int, int]:
        """How many blobs start with `prefix`, and their bytes: what they take on the medium,
        read from a listing (one request per thousand keys on S3), never from the blobs."""
