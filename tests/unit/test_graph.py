"""The `.graph` file beside each pack (registry/git/graph.py): written at push, read by walks of
the whole history, and never trusted over the pack (issue 14)."""
from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest

from registry.git import graph
from registry.git.fetchpack import write_selection
from registry.git.fetchwalk import PackReader, newest_first, select
from tests.gitcli import git
from tests.unit.test_fetch_pack import _index, _rev, stored  # noqa: F401  (the fixture)


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    monkeypatch.setattr(graph, "CACHE", graph._Cache(graph.CACHE_BYTES))


def _graph_files(repo) -> list[Path]:
    return [Path(pack._basename + graph.SUFFIX) for pack in newest_first(repo.object_store)]


def test_each_pushed_pack_has_a_graph_of_its_commits_and_trees(stored):  # noqa: F811
    source, repo = stored
    packs = newest_first(repo.object_store)
    files = _graph_files(repo)
    assert all(f.exists() for f in files)
    plain = PackReader(packs)  # reads the packs only
    for pack, path in zip(packs, files, strict=True):
        parsed = graph.parse(path.read_bytes())
        assert parsed
        for sha, (type_num, raw) in parsed.items():
            assert plain.get_raw(sha) == (type_num, raw)
        in_pack = {sha for sha, _, _ in pack.index.iterentries()}
        types = {sha: plain.get_raw(sha)[0] for sha in (s.hex().encode() for s in in_pack)}
        # every commit and tree the push sent is there (a thin pack's appended bases may not be)
        assert {s for s, t in types.items() if t in (1, 2)} - set(parsed) <= _appended_bases(source)


def _appended_bases(source: Path) -> set[bytes]:
    """Objects of main~4 and before: the only ones the second (thin) push may have appended."""
    out = git("rev-list", "--objects", "main~4", cwd=source).stdout.split()
    return {s.encode() for s in out if len(s) == 40}


@pytest.mark.parametrize("damage", ["none", "missing", "garbage", "truncated"])
def test_a_clone_walk_is_the_same_with_or_without_a_sound_graph(stored, tmp_path, damage):  # noqa: F811
    source, repo = stored
    for path in _graph_files(repo):
        if damage == "missing":
            path.unlink()
        elif damage == "garbage":
            path.write_bytes(b"not a graph at all")
        elif damage == "truncated":
            path.write_bytes(path.read_bytes()[:-40])
    reader = PackReader(newest_first(repo.object_store))
    selection = select(reader, [_rev(source, "main")], [])
    assert bool(reader.graphs) == (damage == "none")
    expected = {line.split()[0] for line in git("rev-list", "--objects", "main", cwd=source).stdout.splitlines()}
    assert {sha.decode() for sha, _ in selection.objects} == expected
    out = io.BytesIO()
    write_selection(reader, selection, out.write, thin=False, ofs=True)
    client = tmp_path / "client"
    git("init", "-q", "--bare", str(client))
    assert _index(client, out.getvalue(), "--strict").returncode == 0
    git("update-ref", "refs/heads/main", _rev(source, "main").decode(), cwd=client)
    git("fsck", "--strict", "--no-progress", cwd=client)
    assert git("log", "-p", "main", cwd=client).stdout == git("log", "-p", "main", cwd=source).stdout


def test_parse_refuses_what_it_did_not_write():
    writer = graph.GraphWriter()
    writer.add(b"\x01" * 20, 2, b"100644 a\x00" + b"\x02" * 20)
    data = writer.getvalue()
    assert graph.parse(data) == {b"01" * 20: (2, b"100644 a\x00" + b"\x02" * 20)}
    assert graph.parse(data[:-3]) is None
    assert graph.parse(data[:-5] + b"\x03" + data[-4:]) is None  # one byte changed: the CRC says so
    assert graph.parse(b"RGGRAPH0" + data[8:]) is None

    def sealed(body: bytes) -> bytes:
        return body + zlib.crc32(body).to_bytes(4, "big")

    assert graph.parse(sealed(graph.MAGIC + b"\x02" + b"\x01" * 20 + b"\xff\xff\xff\xff")) is None
    assert graph.parse(sealed(graph.MAGIC + b"\x02")) is None
    assert graph.parse(b"") is None


def test_the_cache_is_bounded(tmp_path):
    cache = graph._Cache(limit=100)
    paths = []
    for i in range(3):
        writer = graph.GraphWriter()
        writer.add(bytes([i]) * 20, 2, b"x" * 60)
        paths.append(tmp_path / f"p{i}.graph")
        writer.write(paths[-1])
    for path in paths:
        assert cache.get(path)
    assert cache.used <= 100 and len(cache._items) == 1
    assert cache.get(tmp_path / "absent.graph") is None
