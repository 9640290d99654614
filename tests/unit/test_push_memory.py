"""A push's memory is bounded whatever it holds (issue 29, SPEC: a few tens of MB for any input):
a chain of ten 4 MiB trees, each a delta on the one before, took 158 MiB at its peak while the
commit-graph file of the pack (graph.py) was held in memory with every tree inflated."""
from __future__ import annotations

import io
import tracemalloc

from registry.git import RepoStore
from registry.git.policy import RefUpdate
from registry.git.refsdoc import ZERO_SHA
from registry.git.service import PushContext, receive
from registry.storage.local import LocalBlobStore
from tests import packs
from tests.packs import BLOB, COMMIT, TREE

LIMIT = 32 << 20  # bytes of Python allocations at the push's peak (14 MiB measured)
TREES, TREE_BYTES = 10, 4 << 20


def tree_chain() -> tuple[bytes, str]:
    """A pack of one blob, TREES trees of ~TREE_BYTES (every entry names that blob) each a delta
    on the one before that renames one entry, and a commit on each: (pack, tip commit)."""
    blob = b"same content\n"
    blob_sha = bytes.fromhex(packs.sha(BLOB, blob))
    names = [b"f%07d" % i for i in range(TREE_BYTES // (len(b"100644 f0000000\0") + 20))]
    entries = [packs.entry(BLOB, blob)]
    offsets = [12]
    raw = b"".join(b"100644 " + name + b"\0" + blob_sha for name in names)
    trees = [raw]
    for i in range(1, TREES):  # the i-th tree renames entry i: f... -> g... would unsort; keep order with a suffix
        at = raw.index(names[i]) + len(names[i])
        raw = raw[:at] + b"x" + raw[at:]
        trees.append(raw)
    for i, raw in enumerate(trees):
        offsets.append(offsets[-1] + len(entries[-1]))
        if i == 0:
            entries.append(packs.entry(TREE, raw))
            continue
        base = trees[i - 1]
        at = raw.index(names[i]) + len(names[i])
        delta = (packs.varint(len(base)) + packs.varint(len(raw)) + packs.copy_op(0, at) + b"\x01x"
                 + _copy_all(base, at))
        entries.append(packs.ofs_delta(offsets[-1] - offsets[-2], delta))
    parent: tuple[str, ...] = ()
    for raw in trees:
        body = packs.commit(packs.sha(TREE, raw), parent)
        entries.append(packs.entry(COMMIT, body))
        parent = (packs.sha(COMMIT, body),)
    return packs.pack(*entries), parent[0]


def _copy_all(base: bytes, start: int) -> bytes:
    out, at = b"", start
    while at < len(base):
        size = min(len(base) - at, 0xFFFF)
        out += packs.copy_op(at, size)
        at += size
    return out


def test_a_chain_of_large_trees_lands_within_a_few_tens_of_mb(tmp_path):
    data, tip = tree_chain()
    repos = RepoStore(LocalBlobStore(tmp_path / "blobs"), tmp_path / "cache")
    repos.create("r")
    repo = repos.open("r")
    ctx = PushContext(max_push_bytes=200 << 20, max_file_bytes=20 << 20, max_inflated_bytes=1600 << 20)
    tracemalloc.start()
    try:
        got = receive(repo, ctx, [RefUpdate("refs/heads/main", ZERO_SHA, tip)], io.BytesIO(data).read)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got.accepted and not got.reasons, got
    assert repo.ref_value("refs/heads/main") == tip
    print(f"pack of {len(data)} bytes, {TREES} trees of {TREE_BYTES >> 20} MiB: peak {peak / 2**20:.1f} MiB")
    assert peak < LIMIT, f"peak {peak / 2**20:.0f} MiB"
    repo.close()
