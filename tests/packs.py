"""Raw git objects and packs built by hand, for what no git client would send."""
from __future__ import annotations

import hashlib
import struct
import zlib

COMMIT, TREE, BLOB, TAG, OFS_DELTA, REF_DELTA = 1, 2, 3, 4, 6, 7
NAMES = {COMMIT: b"commit", TREE: b"tree", BLOB: b"blob", TAG: b"tag"}
IDENT = b"Mallory <m@example.com> 1700000000 +0000"


def sha(type_num: int, data: bytes) -> str:
    return hashlib.sha1(NAMES[type_num] + b" %d\0" % len(data) + data).hexdigest()


def tree(*entries: tuple[bytes, bytes, str]) -> bytes:
    """Raw tree bytes, entries written exactly as given (mode, name, hex sha): no sorting."""
    return b"".join(mode + b" " + name + b"\0" + bytes.fromhex(hexsha) for mode, name, hexsha in entries)


def commit(tree_sha: str, parents: tuple[str, ...] = (), author: bytes | None = IDENT,
           committer: bytes | None = IDENT, message: bytes = b"hostile\n") -> bytes:
    lines = [b"tree " + tree_sha.encode()] + [b"parent " + p.encode() for p in parents]
    if author is not None:
        lines.append(b"author " + author)
    if committer is not None:
        lines.append(b"committer " + committer)
    return b"\n".join(lines) + b"\n\n" + message


def _header(type_num: int, size: int) -> bytes:
    out = bytearray()
    byte = (type_num << 4) | (size & 0x0F)
    size >>= 4
    while size:
        out.append(byte | 0x80)
        byte = size & 0x7F
        size >>= 7
    out.append(byte)
    return bytes(out)


def entry(type_num: int, data: bytes) -> bytes:
    return _header(type_num, len(data)) + zlib.compress(data)


def entry_declared(type_num: int, size: int, compressed: bytes) -> bytes:
    """An entry whose header declares `size` over already-compressed data (bombs)."""
    return _header(type_num, size) + compressed


def ofs_delta(back: int, delta: bytes) -> bytes:
    enc = bytearray([back & 0x7F])
    back >>= 7
    while back:
        back -= 1
        enc.insert(0, 0x80 | (back & 0x7F))
        back >>= 7
    return _header(OFS_DELTA, len(delta)) + bytes(enc) + zlib.compress(delta)


def ref_delta(base_hex: str, delta: bytes) -> bytes:
    return _header(REF_DELTA, len(delta)) + bytes.fromhex(base_hex) + zlib.compress(delta)


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def copy_op(offset: int, size: int) -> bytes:
    """A delta instruction copying `size` (< 2**24) bytes of the base from `offset`."""
    op, args = 0x80, bytearray()
    for i in range(4):
        if (offset >> (8 * i)) & 0xFF:
            op |= 1 << i
            args.append((offset >> (8 * i)) & 0xFF)
    for i in range(3):
        if (size >> (8 * i)) & 0xFF:
            op |= 1 << (4 + i)
            args.append((size >> (8 * i)) & 0xFF)
    return bytes([op]) + bytes(args)


def doubling_delta(base_size: int) -> bytes:
    """A delta whose result is its base twice over."""
    ops = bytearray()
    for _ in range(2):
        done = 0
        while done < base_size:
            step = min(base_size - done, 0xFFFFFF)
            ops += copy_op(done, step)
            done += step
    return varint(base_size) + varint(2 * base_size) + bytes(ops)


def pack(*entries: bytes) -> bytes:
    body = b"PACK" + struct.pack(">II", 2, len(entries)) + b"".join(entries)
    return body + hashlib.sha1(body).digest()
