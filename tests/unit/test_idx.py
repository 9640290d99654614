"""registry.git.idx writes the same .idx bytes as dulwich's writer, and reads its tables back."""
from __future__ import annotations

import io
import os
import random

import pytest
from dulwich.object_format import DEFAULT_OBJECT_FORMAT
from dulwich.pack import load_pack_index_file, write_pack_index

from registry.git.idx import read_table, write_index


@pytest.mark.parametrize("count", [0, 1, 300])
@pytest.mark.parametrize("huge", [False, True])
def test_the_index_is_the_one_dulwich_writes(count, huge):
    rng = random.Random(count)
    entries = [(os.urandom(20), rng.randrange(12, 1 << 30), rng.randrange(1 << 32)) for _ in range(count)]
    if huge and entries:  # offsets past 2 GiB go to the large-offset table
        entries[0] = (entries[0][0], (1 << 33) + 5, 7)
    pack_sha = os.urandom(20)
    ours, theirs = io.BytesIO(), io.BytesIO()
    digest = write_index(ours, entries, pack_sha)
    write_pack_index(theirs, sorted(entries), pack_sha)  # dulwich takes them sorted
    assert ours.getvalue() == theirs.getvalue()
    assert digest == ours.getvalue()[-20:]
    index = load_pack_index_file("x.idx", io.BytesIO(ours.getvalue()), DEFAULT_OBJECT_FORMAT)
    names, offsets = read_table(index)
    assert sorted(zip(names, offsets, strict=True)) == sorted((sha, offset) for sha, offset, _ in entries)
