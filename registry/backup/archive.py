"""Where backups live and what a backup is: a destination (a directory or `s3://bucket/prefix`)
opened as a BlobStore, the keys inside it, and the manifest that makes a snapshot complete.

Layout of a destination, shared by every backup taken into it:
    blobs/repos/{id}/packs/pack-*.{pack,idx,graph}   packs, immutable: copied once, reused after
    snapshots/{stamp}/metadata.sqlite3 | .pgdump     the metadata at the snapshot
    snapshots/{stamp}/refs/{id}.json                 each template's refs document
    snapshots/{stamp}/secret_key                     the data dir's key file, when there is one
    snapshots/{stamp}/manifest.json                  written last: a snapshot without it is incomplete

The manifest names every file the snapshot needs with its size and SHA-256, so a restore checks
each byte it reads, and a snapshot's packs are known without listing the bucket.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import BackupError, InvalidInput
from ..storage import BlobStore
from ..storage.local import LocalBlobStore
from ..storage.s3 import S3BlobStore

FORMAT = 1
MANIFEST = "manifest.json"
CHUNK = 1 << 20


def open_destination(url: str, create: bool) -> BlobStore:
    """A backup destination as a BlobStore: `s3://bucket/prefix` (boto3's own AWS_* settings) or a
    local directory (made when `create`; a source must exist)."""
    if url.startswith("s3://"):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise InvalidInput(f"{url}: name a bucket, as s3://bucket/prefix")
        return S3BlobStore(bucket, prefix)
    if "://" in url:
        raise InvalidInput(f"{url}: a backup goes to a directory or to s3://bucket/prefix")
    path = Path(url).expanduser()
    if not create and not path.is_dir():
        raise InvalidInput(f"{url}: no such directory")
    if path.exists() and not path.is_dir():
        raise InvalidInput(f"{url}: not a directory")
    return LocalBlobStore(path)


def new_stamp(now: float | None = None) -> str:
    """A snapshot's name: its UTC time (so names sort in time order) and a few random letters."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now)) + "-" + secrets.token_hex(3)


def pack_key(blob_key: str) -> str:
    return f"blobs/{blob_key}"


def snapshot_key(stamp: str, name: str) -> str:
    return f"snapshots/{stamp}/{name}"


@dataclass(frozen=True)
class FileSum:
    """A file of a backup: its size and SHA-256 (hex)."""

    size: int
    sha256: str


@dataclass
class Manifest:
    stamp: str
    created_at: float
    metadata_kind: str  # "sqlite" or "postgresql"
    metadata_file: str  # its name under the snapshot
    schema_revision: str
    metadata: FileSum
    refs: dict[str, FileSum] = field(default_factory=dict)  # template id -> its refs document
    packs: dict[str, FileSum] = field(default_factory=dict)  # blob key (.pack/.idx/.graph) -> file
    deleted: list[str] = field(default_factory=list)  # templates deleted while the backup ran
    secret_key: FileSum | None = None
    format: int = FORMAT
    finished_at: float = 0.0

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            body: dict[str, Any] = json.loads(data)
            if body.get("format") != FORMAT:
                raise BackupError(f"backup format {body.get('format')!r} is not one this registry reads ({FORMAT})")
            sums = {k: FileSum(**v) for k, v in body.pop("refs").items()}
            packs = {k: FileSum(**v) for k, v in body.pop("packs").items()}
            meta = FileSum(**body.pop("metadata"))
            key = body.pop("secret_key")
            return cls(refs=sums, packs=packs, metadata=meta, secret_key=FileSum(**key) if key else None, **body)
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"the backup's manifest is unreadable: {exc}") from None


def snapshots(dest: BlobStore) -> list[str]:
    """Complete snapshots (those with a manifest), oldest first."""
    return sorted(key.split("/")[1] for key in dest.list("snapshots/") if key.endswith("/" + MANIFEST))


def read_manifest(dest: BlobStore, stamp: str) -> Manifest:
    return Manifest.from_bytes(dest.get(snapshot_key(stamp, MANIFEST)).data)


def checksum_file(path: Path) -> FileSum:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        for chunk in _chunks(fh):
            digest.update(chunk)
            size += len(chunk)
    return FileSum(size, digest.hexdigest())


def checksum_bytes(data: bytes) -> FileSum:
    return FileSum(len(data), hashlib.sha256(data).hexdigest())


def check(name: str, got: FileSum, expected: FileSum) -> None:
    if got != expected:
        raise BackupError(f"{name}: checksum {got.sha256[:12]} ({got.size} bytes) is not the manifest's "
                          f"{expected.sha256[:12]} ({expected.size} bytes): the backup is damaged")


def _chunks(fh: BinaryIO) -> Iterator[bytes]:
    while chunk := fh.read(CHUNK):
        yield chunk
