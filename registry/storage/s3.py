"""BlobStore on S3 (AWS, MinIO, moto): conditional writes with IfNoneMatch / IfMatch.

botocore errors are turned into the protocol's own errors here, so nothing above sees boto3.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..errors import StorageError
from .base import Blob, BlobNotFound, PreconditionFailed

_MISSING = {"NoSuchKey", "404", "NotFound"}
_PRECONDITION = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


def _etag(resp: dict[str, Any]) -> str:
    etag: str = resp["ETag"]
    return etag.strip('"')


class S3BlobStore:
    def __init__(self, bucket: str, prefix: str = "", client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or boto3.client(
            "s3", config=Config(retries={"max_attempts": 5, "mode": "standard"})
        )

    def _key(self, key: str) -> str:
        return self.prefix + key

    def _call(self, fn: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return fn(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                raise BlobNotFound(f"no blob {key!r}") from None
            if code in _PRECONDITION:
                raise PreconditionFailed(f"blob {key!r}: precondition failed ({code})") from None
            raise StorageError(f"S3 error on {key!r}: {code}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 unreachable for {key!r}: {exc}") from exc

    def get(self, key: str) -> Blob:
        resp = self._call(self.client.get_object, key, Key=self._key(key))
        return Blob(resp["Body"].read(), _etag(resp))

    def put(self, key: str, data: bytes) -> str:
        return _etag(self._call(self.client.put_object, key, Key=self._key(key), Body=data))

    def put_if_absent(self, key: str, data: bytes) -> str:
        resp = self._call(self.client.put_object, key, Key=self._key(key), Body=data, IfNoneMatch="*")
        return _etag(resp)

    def put_if_match(self, key: str, data: bytes, version: str) -> str:
        try:
            resp = self._call(self.client.put_object, key, Key=self._key(key), Body=data, IfMatch=version)
        except BlobNotFound:  # S3 answers 404 to If-Match on a missing key
            raise PreconditionFailed(f"blob {key!r} does not exist") from None
        return _etag(resp)

    def put_file_if_absent(self, key: str, path: Path) -> bool:
        try:
            with open(path, "rb") as fh:
                self._call(self.client.put_object, key, Key=self._key(key), Body=fh, IfNoneMatch="*")
        except PreconditionFailed:
            return False
        return True

    def download(self, key: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                resp = self._call(self.client.get_object, key, Key=self._key(key))
                for chunk in resp["Body"].iter_chunks(1 << 20):
                    fh.write(chunk)
            os.replace(tmp, dest)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def local_path(self, key: str) -> Path | None:
        return None

    def exists(self, key: str) -> bool:
        try:
            self._call(self.client.head_object, key, Key=self._key(key))
        except BlobNotFound:
            return False
        return True

    def modified(self, key: str) -> float:
        stamp: float = self._call(self.client.head_object, key, Key=self._key(key))["LastModified"].timestamp()
        return stamp

    def download_url(self, key: str, expires_s: int = 3600) -> str:
        """A presigned GET URL: how a Fargate task reads its input without credentials for the bucket."""
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(key)}, ExpiresIn=expires_s)
        return url

    def delete(self, key: str) -> None:
        self._call(self.client.delete_object, key, Key=self._key(key))

    def list(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix):]
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"S3 list of {prefix!r} failed: {exc}") from exc

    def usage(self, prefix: str) -> tuple[int, int]:
        count = size = 0
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
                for item in page.get("Contents", []):
                    count, size = count + 1, size + int(item.get("Size", 0))
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"S3 list of {prefix!r} failed: {exc}") from exc
        return count, size

    def copy(self, src: str, dst: str) -> None:
        self._call(
            self.client.copy_object, src, Key=self._key(dst),
            CopySource={"Bucket": self.bucket, "Key": self._key(src)},
        )
