"""Trees past fsck.LARGE_TREE are checked a run of entries at a time (issue 29: bounded memory);
the verdict is the one the whole-tree check gives, rule for rule, wherever in the tree, and
across the runs' boundaries, the offending entries stand."""
from __future__ import annotations

import pytest

from registry.git import fsck
from registry.git.ingest import Inspector, ObjectRejected
from tests import packs
from tests.packs import BLOB, TREE

ID = bytes.fromhex(packs.sha(BLOB, b"x"))
SUB = bytes.fromhex(packs.sha(TREE, b""))
N = 3 * fsck.CHUNK_ENTRIES + 17  # four runs, the last one short


def _entry(mode: bytes, name: bytes) -> bytes:
    return mode + b" " + name + b"\0" + (SUB if mode == b"40000" else ID)


def _files(prefix: bytes = b"f", n: int = N) -> list[bytes]:
    return [_entry(b"100644", prefix + b"%07d" % i) for i in range(n)]


def _big(entries: list[bytes]) -> bytes:
    raw = b"".join(entries)
    assert len(raw) > fsck.LARGE_TREE
    return raw


def _at_boundary(k: int = 1) -> int:
    return k * fsck.CHUNK_ENTRIES  # the first entry of run k+1


def _whole(raw: bytes) -> str | None:
    return fsck.check_tree(raw)[0]


def _large(raw: bytes) -> str | None:
    inspector = Inspector()
    try:
        inspector.see(bytes.fromhex(packs.sha(TREE, raw)), TREE, raw)
    except ObjectRejected as exc:
        return exc.message.split(": ", 1)[1]
    return None


def _swapped_at_boundary() -> bytes:
    entries = _files()
    b = _at_boundary()
    entries[b - 1], entries[b] = entries[b], entries[b - 1]
    return _big(entries)


def _file_and_directory_apart() -> bytes:
    # "d" (a file) sorts before "d-0..." and "d/" (the directory "d") after them: the same name
    # twice, more than a run apart
    between = [_entry(b"100644", b"d-%07d" % i) for i in range(fsck.CHUNK_ENTRIES + 5)]
    return _big([_entry(b"100644", b"d"), *between, _entry(b"40000", b"d"), *_files(b"e")])


def _with(index: int, entry: bytes, replace: bool = False) -> bytes:
    entries = _files()
    entries[index:index + (1 if replace else 0)] = [entry]
    return _big(entries)


CASES = {
    "clean": lambda: _big(_files()),
    "clean with directories": lambda: _big([_entry(b"40000" if i % 7 == 0 else b"100644", b"f%07d" % i)
                                            for i in range(N)]),
    "unsorted across runs": _swapped_at_boundary,
    "duplicate across runs (file and directory)": _file_and_directory_apart,
    "duplicate at a boundary": lambda: _with(_at_boundary(2), _files()[_at_boundary(2) - 1], replace=True),
    ".git in the third run": lambda: _with(_at_boundary(2) + 3, _entry(b"100644", b".GIT"), replace=False),
    "dot": lambda: _big([_entry(b"100644", b"."), *_files()]),
    "gitmodules symlink": lambda: _big([_entry(b"120000", b".gitmodules"), *_files()]),
    "zero-padded mode": lambda: _with(_at_boundary() + 1, _entry(b"0100644", b"f%07dz" % _at_boundary()), True),
    "truncated": lambda: _big(_files())[:-7],
}


@pytest.mark.parametrize("case", CASES)
def test_a_large_tree_gets_the_whole_tree_verdict(case):
    raw = CASES[case]()
    expected = _whole(raw)
    assert (expected is None) == case.startswith("clean"), expected
    assert _large(raw) == expected


def test_runs_tile_the_tree():
    raw = _big(_files())
    runs = fsck.tree_runs(raw)
    assert runs is not None and b"".join(runs) == raw and len(runs) == 4
    assert fsck.tree_runs(raw[:-1]) is None
