"""BlobStore on the local disk: one file per key, CAS by an flock'd lock file + atomic rename."""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import InvalidName
from .base import Blob, BlobNotFound, PreconditionFailed


def _version(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._locks = self.root / ".locks"
        self._locks.mkdir(exist_ok=True)

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or any(p in ("", ".", "..") or "\0" in p for p in parts) or key.startswith(".locks"):
            raise InvalidName(f"invalid blob key {key!r}")
        return self.root.joinpath(*parts)

    @contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        lock_name = hashlib.sha1(key.encode()).hexdigest()
        with open(self._locks / lock_name, "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _write_atomic(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with _suppress_missing():
                os.unlink(tmp)
            raise

    def get(self, key: str) -> Blob:
        try:
            data = self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise BlobNotFound(f"no blob {key!r}") from None
        return Blob(data, _version(data))

    def put(self, key: str, data: bytes) -> str:
        with self._lock(key):
            self._write_atomic(self._path(key), data)
        return _version(data)

    def put_if_absent(self, key: str, data: bytes) -> str:
        path = self._path(key)
        with self._lock(key):
            if path.exists():
                raise PreconditionFailed(f"blob {key!r} already exists")
            self._write_atomic(path, data)
        return _version(data)

    def put_if_match(self, key: str, data: bytes, version: str) -> str:
        path = self._path(key)
        with self._lock(key):
            try:
                current = _version(path.read_bytes())
            except FileNotFoundError:
                raise PreconditionFailed(f"blob {key!r} does not exist") from None
            if current != version:
                raise PreconditionFailed(f"blob {key!r} changed (version {current} != {version})")
            self._write_atomic(path, data)
        return _version(data)

    def put_file_if_absent(self, key: str, path: Path) -> bool:
        dest = self._path(key)
        with self._lock(key):
            if dest.exists():
                return False
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
            os.close(fd)
            try:
                shutil.copyfile(path, tmp)
                os.replace(tmp, dest)
            except BaseException:
                with _suppress_missing():
                    os.unlink(tmp)
                raise
        return True

    def download(self, key: str, dest: Path) -> None:
        src = self._path(key)
        if not src.exists():
            raise BlobNotFound(f"no blob {key!r}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        os.close(fd)
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.exists() else None

    def download_url(self, key: str, expires_s: int = 3600) -> str | None:
        return None  # a file under data_dir: nothing outside this machine can read it by URL

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def modified(self, key: str) -> float:
        try:
            return self._path(key).stat().st_mtime
        except FileNotFoundError:
            raise BlobNotFound(f"no blob {key!r}") from None

    def delete(self, key: str) -> None:
        with self._lock(key), _suppress_missing():
            self._path(key).unlink()

    def list(self, prefix: str) -> Iterator[str]:
        keys = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d != ".locks"]
            rel = os.path.relpath(dirpath, self.root)
            for name in filenames:
                if name.startswith(".tmp-"):
                    continue
                key = name if rel == "." else f"{rel.replace(os.sep, '/')}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        return iter(sorted(keys))

    def usage(self, prefix: str) -> tuple[int, int]:
        count = size = 0
        for key in self.list(prefix):
            try:
                size += self._path(key).stat().st_size
                count += 1
            except FileNotFoundError:
                continue  # deleted while listed
        return count, size

    def copy(self, src: str, dst: str) -> None:
        source = self._path(src)
        if not source.exists():
            raise BlobNotFound(f"no blob {src!r}")
        dest = self._path(dst)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with self._lock(dst):
            try:
                os.link(source, dest)  # immutable blobs: a hard link is a free copy
            except FileExistsError:
                pass
            except OSError:
                shutil.copyfile(source, dest)


@contextmanager
def _suppress_missing() -> Iterator[None]:
    try:
        yield
    except FileNotFoundError:
        pass
