"""Decompression bombs are refused before they inflate (issue 12): a 2 MB pack holding one 2 GiB
blob of zeros, and a 1.3 KB pack of 18 doubling deltas that would resolve to 3.2 GiB. Each is
refused in under 2 s, and the server's peak memory (VmHWM) stays under 300 MB."""
from __future__ import annotations

import os
import time
import zlib

import pytest

from tests import packs
from tests.gitcli import raw_receive_pack
from tests.packs import BLOB
from tests.services import registry_server

PEAK_LIMIT_KB = 300 * 1024
ZERO = "0" * 40


def zero_blob_bomb(size: int = 2 << 30) -> bytes:
    compressor = zlib.compressobj(1)
    chunk = bytes(1 << 24)
    data = b"".join(compressor.compress(chunk) for _ in range(size // len(chunk))) + compressor.flush()
    return packs.pack(packs.entry_declared(BLOB, size, data))


def doubling_delta_bomb(base_size: int = 12_800, doublings: int = 18) -> bytes:
    entries = [packs.entry(BLOB, os.urandom(base_size))]
    offsets = [12]  # after the pack header
    size = base_size
    for _ in range(doublings):
        offsets.append(offsets[-1] + len(entries[-1]))
        entries.append(packs.ofs_delta(offsets[-1] - offsets[-2], packs.doubling_delta(size)))
        size *= 2
    return packs.pack(*entries)


def vm_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with registry_server(tmp_path_factory.mktemp("bombs") / "data") as srv:
        token = srv.user("alice")
        import httpx

        httpx.post(f"{srv.url}/api/v1/templates", json={"name": "target"}, timeout=30,
                   headers={"Authorization": f"Bearer {token}"}).raise_for_status()
        yield srv, token


@pytest.mark.parametrize("bomb, reason", [
    (zero_blob_bomb, b"file of 2147483648 bytes exceeds the limit of 20971520 bytes"),
    (doubling_delta_bomb, b"exceeds the limit of 20971520 bytes"),
])
def test_bombs_are_refused_before_inflating(server, bomb, reason):
    srv, token = server
    pack = bomb()
    start = time.monotonic()
    status = raw_receive_pack(f"{srv.url}/alice/target.git", ("alice", token),
                              [(ZERO, "ab" * 20, b"refs/heads/bomb")], pack)
    elapsed = time.monotonic() - start
    peak = vm_kb(srv.proc.pid, "VmHWM")
    print(f"{bomb.__name__}: pack of {len(pack)} bytes refused in {elapsed:.2f} s; server peak RSS {peak // 1024} MB")
    assert reason in status[b"refs/heads/bomb"], status
    assert elapsed < 2.0
    assert peak < PEAK_LIMIT_KB
