"""Property-based fuzzing (hypothesis) of what parses hostile bytes: pkt-lines of upload-pack
requests, pack ingest, fsck rules, manifests and search queries. Each must either work or fail
with one of its documented errors, never anything else. `make fuzz` runs many more examples
(FUZZ_EXAMPLES); every crash found becomes an explicit example here."""
from __future__ import annotations

import io
import json
import os
import tempfile
import zlib
from pathlib import Path

import pytest
from dulwich.errors import ApplyDeltaError, ChecksumMismatch, ObjectFormatException
from dulwich.objects import parse_tree
from dulwich.pack import UnresolvedDeltas
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from registry.errors import InvalidInput, RegistryError
from registry.git import RepoStore, fsck
from registry.git.clone import parse_clone_request
from registry.git.ingest import Budget
from registry.git.wants import parse_wants
from registry.manifest import check
from registry.search import SearchDoc, SearchQuery, WhooshIndex
from registry.storage import LocalBlobStore
from tests import packs
from tests.packs import BLOB, COMMIT, TREE

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                            HealthCheck.function_scoped_fixture])
INGEST_ERRORS = (RegistryError, OSError, ChecksumMismatch, ApplyDeltaError, AssertionError, ObjectFormatException,
                 ValueError, KeyError, zlib.error, UnresolvedDeltas, EOFError, IndexError)


def pkt(line: bytes) -> bytes:
    return b"%04x" % (len(line) + 4) + line


pkt_lines = st.lists(st.one_of(
    st.builds(lambda sha: pkt(b"want " + sha.encode() + b" ofs-delta side-band-64k\n"),
              st.text("0123456789abcdef", min_size=40, max_size=40)),
    st.just(b"0000"), st.just(pkt(b"done\n")), st.binary(max_size=40)), max_size=8).map(b"".join)


@FUZZ
@given(pkt_lines)
@example(b"0000")
@example(b"zzzz")
@example(b"0003")
def test_pkt_line_parsers_never_crash(body):
    request = parse_clone_request(body)
    assert request is None or request.wants
    assert all(len(sha) == 40 for sha in parse_wants(body))


def _valid_pack() -> bytes:
    blob = b"hello world\n" * 20
    raw_tree = packs.tree((b"100644", b"a.txt", packs.sha(BLOB, blob)))
    raw_commit = packs.commit(packs.sha(TREE, raw_tree))
    return packs.pack(packs.entry(BLOB, blob), packs.entry(TREE, raw_tree), packs.entry(COMMIT, raw_commit))


VALID = _valid_pack()


def _ingest(data: bytes, tmp: Path) -> None:
    repos = RepoStore(LocalBlobStore(tmp / "blobs"), tmp / "cache")
    if not (tmp / "blobs" / "repos" / "r").exists():
        repos.create("r")
    with repos.open("r") as repo:
        store = repo.object_store
        stream = io.BytesIO(data)
        try:
            store.add_thin_pack(stream.read, stream.read, max_input_size=1 << 20, budget=Budget(1 << 20, 4 << 20))
        finally:
            store.discard()


def test_the_valid_pack_ingests(tmp_path):
    _ingest(VALID, tmp_path)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=6))
def test_mutated_packs_fail_only_with_known_errors(mutations):
    data = bytearray(VALID)
    for pos, value in mutations:
        data[pos] = value
    with tempfile.TemporaryDirectory() as tmp:
        try:
            _ingest(bytes(data), Path(tmp))
        except INGEST_ERRORS:
            pass


@FUZZ
@given(st.binary(max_size=300))
@example(b"100644 a\0")
@example(b"40000 \0" + b"\x11" * 20)
def test_fsck_checks_never_crash(raw):
    for problem in (fsck.tree_problem(raw), fsck.commit_problem(raw), fsck.tag_problem(raw)):
        assert problem is None or isinstance(problem, str)


TREE_NAMES = st.sampled_from([b"a", b"b", b"a.md", b".", b"..", b"", b"x/y", b".git", b".GIT", b"git~1",
                               b".git. ", b".git::$INDEX_ALLOCATION", b"a\\.git", b".gitmodules", b"gitmod~1",
                               b"GI7EBA~1", b".g\xe2\x80\x8cit", b"\xc3\xa9", b"\xff", b"ok git", b"a b", b"a\0b"])
TREE_MODES = st.sampled_from([b"100644", b"100755", b"100664", b"120000", b"40000", b"160000", b"040000",
                              b"100600", b"", b"1 2"])


@FUZZ
@given(st.lists(st.tuples(TREE_MODES, TREE_NAMES, st.binary(min_size=20, max_size=20)), max_size=6),
       st.binary(max_size=30))
@example([(b"40000", b"a", b"\0" * 20), (b"100644", b"a", b"\0" * 20)], b"")
@example([(b"100644", b"a.b", b"/" * 20), (b"40000", b"a", b" " * 20)], b"")
def test_the_fast_tree_check_agrees_with_the_rule_by_rule_one(entries, tail):
    # check_tree skips the per-entry loop for trees it can prove fine: it must never accept
    # what tree_problem refuses, nor refuse with another reason.
    for raw in (b"".join(m + b" " + n + b"\0" + sha for m, n, sha in entries),
                b"".join(m + b" " + n + b"\0" + sha for m, n, sha in sorted(entries, key=lambda e: e[1])),
                b"".join(m + b" " + n + b"\0" + sha for m, n, sha in entries) + tail):
        problem, parsed = fsck.check_tree(raw)
        assert problem == fsck.tree_problem(raw)
        if problem is None:
            assert parsed == parse_tree(raw, 20, strict=True)


IDENT_PARTS = st.tuples(st.sampled_from([b"A U Thor ", b"A", b"", b" ", b"a<b ", b"x\0 "]),
                        st.sampled_from([b"<a@b.c>", b"<>", b"<a", b"a@b>", b"<a\nb>"]),
                        st.sampled_from([b" 1700000000", b" 0", b" 01", b" 9223372036854775807",
                                         b" 9223372036854775808", b" 99999999999999999999", b" x", b""]),
                        st.sampled_from([b" +0000", b" -0130", b" +000", b" 0000", b" +00a0", b"", b" +0000 x"])
                        ).map(b"".join)
HEADER_LINES = st.lists(st.one_of(
    st.sampled_from([b"tree " + b"a" * 40, b"tree " + b"A" * 40, b"tree " + b"a" * 39, b"parent " + b"b" * 40,
                     b"parent " + b"b" * 41, b"encoding x", b"", b"\0"]),
    IDENT_PARTS.map(lambda i: b"author " + i), IDENT_PARTS.map(lambda i: b"committer " + i)), max_size=6)


@FUZZ
@given(HEADER_LINES, st.sampled_from([b"", b"\n", b"\n\nmessage\n", b"\n\n\0"]))
@example([b"tree " + b"a" * 40, b"author A <a> 1 +0000", b"committer A <a> 1 +0000"], b"\n\nm")
@example([b"tree " + b"a" * 40, b"author A <a> 1 +0000", b"committer A <a> 9223372036854775808 +0000"], b"")
def test_the_fast_commit_check_agrees_with_the_rule_by_rule_one(lines, tail):
    # commit_problem accepts a commit in one match when it can: never one the rules refuse.
    raw = b"\n".join(lines) + tail
    assert fsck.commit_problem(raw) == fsck._commit_rule_problem(raw)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda children: st.lists(children, max_size=4) |
                           st.dictionaries(st.text(max_size=12), children, max_size=4), max_leaves=20)


@FUZZ
@given(st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode()),
                 st.dictionaries(st.sampled_from(["title", "promptConfig", "extends", "mcpServers", "tags"]),
                                 json_values).map(lambda v: json.dumps(v).encode())))
@example(b"[" * 50_000)
@example(b'{"promptConfig": {"systemPrompt": {"file": "../x"}}}')
@example(b'{"extends": {"template": "a/b", "ref": "main"}}')
def test_manifest_checks_never_crash(raw):
    def no_parents(template: str, ref: str):
        raise RegistryError(f"template {template} not found")

    try:
        result = check(lambda path: raw if path == "template.json" else None, no_parents)
    except RegistryError:
        return
    assert result.ok or result.problems


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    ix = WhooshIndex(tmp_path_factory.mktemp("ix"))
    ix.upsert(SearchDoc("1", "o", "risk", "Risk report", "credit risk summary", tags=("risk",)))
    return ix


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("ab NOTANDOR()\"'*?~^:-+[]{}\\/!")), max_size=40) |
       st.text(max_size=40))
@example("NOT NOT NOT")
@example("((( AND")
def test_search_queries_never_crash(index, q):
    try:
        found = index.search(SearchQuery(q=q))
    except InvalidInput:
        return
    assert found.total >= 0
