"""The push's object checks (registry.git.ingest.Inspector) and the two-pass indexer
(registry.git.indexpack), straight on raw objects and packs."""
from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from dulwich.pack import UnresolvedDeltas

from registry.errors import TooLarge
from registry.git import indexpack
from registry.git.indexpack import Indexer
from registry.git.ingest import UNBOUNDED, Budget, Inspector, ObjectRejected, PackCorrupt
from tests import packs
from tests.packs import BLOB, COMMIT, TREE

A, B, C = (packs.sha(BLOB, data) for data in (b"a\n", b"b\n", b"c\n"))


def see_tree(inspector: Inspector, raw: bytes) -> str:
    sha = packs.sha(TREE, raw)
    inspector.see(bytes.fromhex(sha), TREE, raw)
    return sha


def test_trees_of_one_shape_are_checked_once_yet_each_names_its_own_objects():
    inspector = Inspector()
    first = see_tree(inspector, packs.tree((b"100644", b"a.md", A), (b"100644", b"template.json", B)))
    second = see_tree(inspector, packs.tree((b"100644", b"a.md", C), (b"100644", b"template.json", A)))
    expected = inspector.seen.expected()
    assert set(expected[BLOB]) == {A.encode(), B.encode(), C.encode()}
    assert inspector.seen.manifests == {first.encode(): B.encode(), second.encode(): A.encode()}


def test_a_new_shape_is_checked_again():
    inspector = Inspector()
    see_tree(inspector, packs.tree((b"100644", b"a", A), (b"100644", b"b", B)))
    with pytest.raises(ObjectRejected, match="hasDotgit"):
        see_tree(inspector, packs.tree((b"100644", b".git", A), (b"100644", b"b", B)))
    with pytest.raises(ObjectRejected, match="treeNotSorted"):
        see_tree(inspector, packs.tree((b"100644", b"b", A), (b"100644", b"a", B)))


def test_directories_are_expected_as_trees_and_submodules_not_at_all():
    inspector = Inspector()
    sub = packs.sha(TREE, b"")
    see_tree(inspector, packs.tree((b"100644", b"a", A), (b"160000", b"mod", C), (b"40000", b"sub", sub)))
    expected = inspector.seen.expected()
    assert set(expected[BLOB]) == {A.encode()} and set(expected[TREE]) == {sub.encode()}


def test_a_file_named_as_a_directory_elsewhere_is_refused():
    inspector = Inspector()
    see_tree(inspector, packs.tree((b"100644", b"a", A),))
    with pytest.raises(ObjectRejected, match="disagree on the type of " + A[:12]):
        see_tree(inspector, packs.tree((b"40000", b"d", A),))


def _run(tmp_path, data: bytes, ext=None):
    path = tmp_path / "p.pack"
    path.write_bytes(data)
    inspector = Inspector()
    with open(path, "rb") as f:
        found = Indexer(f, hashlib.sha1, Budget(UNBOUNDED, UNBOUNDED), inspector.see,
                        lambda oid: (ext or {})[oid]).run()
    return inspector, found


def test_deltas_resolve_by_offset_and_by_id_and_from_stored_bases(tmp_path):
    base = b"hello world, " * 10
    delta = packs.varint(len(base)) + packs.varint(len(base) + 3) + packs.copy_op(0, len(base)) + b"\x03abc"
    stored = b"stored base " * 5
    delta2 = packs.varint(len(stored)) + packs.varint(4) + packs.copy_op(0, 4)
    data = packs.pack(packs.entry(BLOB, base), packs.ofs_delta(len(packs.entry(BLOB, base)), delta),
                      packs.ref_delta(packs.sha(BLOB, base), delta), packs.ref_delta(packs.sha(BLOB, stored), delta2))
    with pytest.raises(ObjectRejected, match="appears twice"):  # the two deltas give one object
        _run(tmp_path, data, {bytes.fromhex(packs.sha(BLOB, stored)): (BLOB, stored)})
    data = packs.pack(packs.entry(BLOB, base), packs.ofs_delta(len(packs.entry(BLOB, base)), delta),
                      packs.ref_delta(packs.sha(BLOB, stored), delta2))
    inspector, found = _run(tmp_path, data, {bytes.fromhex(packs.sha(BLOB, stored)): (BLOB, stored)})
    assert set(inspector.seen.types) == {packs.sha(BLOB, d).encode() for d in (base, base + b"abc", b"stor")}
    assert len(found.entries) == 3
    assert found.ext_refs == {bytes.fromhex(packs.sha(BLOB, stored))}


def _grow(base: bytes, extra: bytes) -> bytes:
    """A delta making `base` + `extra` (extra under 128 bytes)."""
    return (packs.varint(len(base)) + packs.varint(len(base) + len(extra)) + packs.copy_op(0, len(base))
            + bytes([len(extra)]) + extra)


def test_a_thin_pack_may_order_its_ref_deltas_any_way(tmp_path):
    x = b"stored base content\n" * 4
    y = x + b"y\n"
    xid, yid = (packs.sha(BLOB, c) for c in (x, y))
    inspector, found = _run(tmp_path, packs.pack(packs.ref_delta(yid, _grow(y, b"z\n")), packs.ref_delta(xid, _grow(x, b"y\n"))),
                            {bytes.fromhex(xid): (BLOB, x)})
    assert len(found.entries) == 2 and found.ext_refs == {bytes.fromhex(xid)}


def test_a_thin_pack_that_makes_its_stored_base_again_is_refused(tmp_path):
    x = b"stored base content\n" * 4
    y = x + b"y\n"
    back = packs.varint(len(y)) + packs.varint(len(x)) + packs.copy_op(0, len(x))  # y -> x again
    data = packs.pack(packs.ref_delta(packs.sha(BLOB, x), _grow(x, b"y\n")), packs.ref_delta(packs.sha(BLOB, y), back))
    with pytest.raises(ObjectRejected, match="appears twice"):
        _run(tmp_path, data, {bytes.fromhex(packs.sha(BLOB, x)): (BLOB, x)})


def test_a_delta_chain_holds_about_two_objects_not_the_chain(tmp_path, monkeypatch):
    monkeypatch.setattr(indexpack, "HOLD", 3 << 20)
    big = bytes(range(256)) * 4096  # 1 MiB
    objects, entries = [big], [packs.entry(BLOB, big)]
    for i in range(8):  # each level: its parent and 100 bytes more, as an OFS delta on it
        objects.append(objects[-1] + bytes([i]) * 100)
        entries.append(packs.ofs_delta(len(entries[-1]), _grow(objects[-2], bytes([i]) * 100)))
    _, found = _run(tmp_path, packs.pack(*entries))
    assert len(found.entries) == 9  # 9 MiB of objects through a 3 MiB hold


def test_bases_waiting_past_the_hold_are_refused(tmp_path, monkeypatch):
    # a base with two deltas that are bases too: it waits while the first one's chain is followed
    big = bytes(range(256)) * 4096  # 1 MiB
    entries: list[bytes] = []
    offsets: list[int] = []

    def add(entry_at: Callable[[int], bytes]) -> None:
        offsets.append(12 + sum(map(len, entries)))
        entries.append(entry_at(offsets[-1]))

    add(lambda at: packs.entry(BLOB, big))
    add(lambda at: packs.ofs_delta(at - offsets[0], _grow(big, b"a")))
    add(lambda at: packs.ofs_delta(at - offsets[0], _grow(big, b"b")))
    add(lambda at: packs.ofs_delta(at - offsets[1], _grow(big + b"a", b"c")))
    add(lambda at: packs.ofs_delta(at - offsets[2], _grow(big + b"b", b"d")))
    monkeypatch.setattr(indexpack, "HOLD", 3 << 20)
    assert len(_run(tmp_path, packs.pack(*entries))[1].entries) == 5
    monkeypatch.setattr(indexpack, "HOLD", 3 << 19)
    with pytest.raises(TooLarge, match="MiB of bases at once"):
        _run(tmp_path, packs.pack(*entries))


def test_more_objects_than_a_push_may_hold_are_refused_from_the_header(tmp_path):
    data = packs.pack(*(packs.entry(BLOB, b"%d" % i) for i in range(5)))
    path = tmp_path / "p.pack"
    path.write_bytes(data)
    with open(path, "rb") as f, pytest.raises(TooLarge, match="holds 5 objects; at most 4"):
        Indexer(f, hashlib.sha1, Budget(UNBOUNDED, UNBOUNDED, objects=4), Inspector().see, lambda oid: (0, b"")).run()


def test_a_missing_base_is_named(tmp_path):
    delta = packs.varint(10) + packs.varint(5) + packs.copy_op(0, 5)
    with pytest.raises(UnresolvedDeltas) as caught:
        _run(tmp_path, packs.pack(packs.ref_delta("ab" * 20, delta)))
    assert caught.value.shas == [b"ab" * 20]


@pytest.mark.parametrize("mangle, reason", [
    (lambda d: d[:-21] + d[-20:], "checksum"),
    (lambda d: d[:8] + b"\0\0\0\x09" + d[12:], "checksum"),
    (lambda d: b"PACX" + d[4:], "bad header"),
])
def test_broken_packs_are_refused_with_a_reason(tmp_path, mangle, reason):
    data = packs.pack(packs.entry(BLOB, b"x" * 50), packs.entry(COMMIT, packs.commit(packs.sha(TREE, b""))))
    with pytest.raises(PackCorrupt, match=reason):
        _run(tmp_path, mangle(data))


def test_junk_after_the_objects_is_refused(tmp_path):
    body = packs.pack(packs.entry(BLOB, b"x" * 50))[:-20] + b"junk"
    data = body + hashlib.sha1(body).digest()
    with pytest.raises(PackCorrupt, match="junk"):
        _run(tmp_path, data)


def test_an_object_longer_than_it_declares_stops_at_the_declared_size(tmp_path):
    import zlib
    data = packs.pack(packs.entry_declared(BLOB, 10, zlib.compress(b"y" * 10_000)))
    with pytest.raises(PackCorrupt, match="more than the 10 bytes"):
        _run(tmp_path, data)
