"""The verbatim pack writer's output must satisfy `git index-pack --strict`."""
from __future__ import annotations

import io
import re
import secrets
import subprocess
from pathlib import Path

from dulwich.object_format import DEFAULT_OBJECT_FORMAT
from dulwich.pack import Pack

from registry.git.packwriter import write_all_objects
from tests.gitcli import commit_file, git


def _packs(repo: Path) -> list[Pack]:
    return [Pack(str(p.with_suffix("")), object_format=DEFAULT_OBJECT_FORMAT) for p in sorted((repo / ".git/objects/pack").glob("*.pack"))]


def _get_raw_from(packs):
    def get_raw(sha: bytes):
        for pack in packs:
            try:
                return pack.get_raw(sha)
            except KeyError:
                continue
        raise KeyError(sha)
    return get_raw


def _index(tmp: Path, data: bytes) -> list[str]:
    out = tmp / "out.pack"
    out.write_bytes(data)
    subprocess.run(["git", "index-pack", "--strict", str(out)], check=True, capture_output=True)
    res = subprocess.run(["git", "verify-pack", "-v", str(out.with_suffix(".idx"))], capture_output=True,
                         text=True, check=True)
    return [line.split()[0] for line in res.stdout.splitlines() if re.match(r"[0-9a-f]{40} ", line)]


def test_several_deltified_packs_with_duplicates_stream_as_one_valid_pack(tmp_path: Path):
    repo = tmp_path / "r"
    git("init", "-q", str(repo))
    text = "".join(f"line {i} of a long prompt file\n" for i in range(300))
    for round_no in range(3):
        for i in range(5):
            text = text.replace(f"line {round_no * 50 + i} ", f"EDIT {round_no} {i} ")
            commit_file(repo, "prompt.md", text)
        git("repack", "-q", "-d", "--depth=50", "--window=50", cwd=repo)  # an incremental, deltified pack
    git("repack", "-q", "-a", "--depth=50", "--window=50", cwd=repo)  # plus a full pack: every object twice
    packs = _packs(repo)
    try:
        assert len(packs) >= 2
        unique = {sha for p in packs for sha in p}
        buf = io.BytesIO()
        count = write_all_objects(packs, _get_raw_from(packs), buf.write)
        assert count == len(unique)
        indexed = _index(tmp_path, buf.getvalue())
        assert sorted(s.encode() for s in indexed) == sorted(unique)
    finally:
        for p in packs:
            p.close()


def test_a_single_pack_is_sent_as_its_file(tmp_path: Path):
    repo = tmp_path / "r"
    git("init", "-q", str(repo))
    for _ in range(3):
        commit_file(repo, "prompt.md", secrets.token_hex(40_000))  # the pack: more than one 64 KiB chunk
    git("repack", "-q", "-a", "-d", cwd=repo)
    [pack] = _packs(repo)
    try:
        chunks: list[bytes] = []
        count = write_all_objects([pack], _get_raw_from([pack]), chunks.append)
        assert count == len(pack) == 9 and len(chunks) > 2
        assert b"".join(chunks) == Path(pack._data_path).read_bytes()
        assert sorted(s.encode() for s in _index(tmp_path, b"".join(chunks))) == sorted(pack)
    finally:
        pack.close()
