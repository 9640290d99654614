"""Protocol v2 requests straight to the core (registry.git.service.run), hostile ones included:
a request is answered, or refused with an ERR pkt-line or InvalidInput (HTTP 400), never
anything else. What git itself sends is covered in tests/integration/test_protocol_v2.py."""
from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from registry.errors import InvalidInput
from registry.git import RepoStore, pktline, service, v2, v2fetch
from registry.storage import LocalBlobStore
from tests.gitcli import git, pkt

V2 = "version=2"
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """main: c0..c5 (c3 tagged v1, annotated), stored as one pack; `source` is the git repo."""
    tmp = tmp_path_factory.mktemp("v2")
    source = tmp / "source"
    git("init", "-q", str(source))
    for c in range(6):
        (source / "prompt.md").write_text(f"version {c}\n" + "the same words again\n" * 40)
        git("add", "prompt.md", cwd=source)
        git("commit", "-q", "-m", f"c{c}", cwd=source, env={"GIT_COMMITTER_DATE": f"2024-03-0{c + 1}T12:00:00Z"})
        if c == 3:
            git("tag", "-a", "v1", "-m", "v1", cwd=source)
    repos = RepoStore(LocalBlobStore(tmp / "blobs"), tmp / "cache")
    repos.create("r")
    pack = subprocess.run(["git", "pack-objects", "--revs", "--stdout", "-q"], cwd=source, input=b"main\nv1\n",
                          capture_output=True, check=True).stdout
    with repos.open("r") as repo:
        repo.object_store.add_thin_pack(io.BytesIO(pack).read, None, budget=None)
        repo.commit_updates({"refs/heads/main": _rev(source, "main"), "refs/tags/v1": _rev(source, "v1")},
                            {"refs/heads/main": "0" * 40, "refs/tags/v1": "0" * 40})
    repos.create("empty")
    return repos, source


def _rev(source: Path, spec: str) -> str:
    return git("rev-parse", spec, cwd=source).stdout.strip()


def _run(repos: RepoStore, body: bytes, name: str = "r") -> tuple[str | None, bytes]:
    out = io.BytesIO()
    with repos.open(name) as repo:
        kind = service.run(repo, "git-upload-pack", io.BytesIO(body), out, git_protocol=V2)
    return kind, out.getvalue()


def _request(command: bytes, *args: bytes, caps: tuple[bytes, ...] = (b"agent=git/2.39.5",)) -> bytes:
    return pkt(b"command=" + command + b"\n") + b"".join(pkt(c + b"\n") for c in caps) + b"0001" \
        + b"".join(pkt(a + b"\n") for a in args) + b"0000"


def _lines(data: bytes) -> list[bytes | int]:
    """The response's pkt-lines; a side-band packet's band byte kept."""
    return list(pktline.packets(data))


def _pack_of(data: bytes) -> bytes:
    """The pack bytes of a fetch response's packfile section (band 1)."""
    lines = _lines(data)
    start = lines.index(b"packfile") + 1
    return b"".join(line[1:] for line in lines[start:] if isinstance(line, bytes) and line[:1] == b"\x01")


@pytest.mark.parametrize("body, message", [
    (b"", "empty request"),
    (b"0003", "bad pkt-line length"),
    (b"0x12command=ls-refs", "bad pkt-line length"),
    (b"fff1" + b"x" * 70000, "bad pkt-line length"),  # longer than any pkt-line
    (b"0010command=ls", "ends inside a pkt-line"),
    (pkt(b"command=ls-refs\n") + b"0001" + pkt(b"peel\n"), "without a flush"),  # missing flush
    (pkt(b"command=ls-refs\n") + b"0001" + b"0001" + b"0000", "second delimiter"),
    (_request(b"ls-refs") + b"0000", "data after"),
    (pkt(b"want " + b"a" * 40 + b"\n") + b"0000", "names no command"),
])
def test_malformed_requests_are_invalid_input(stored, body, message):
    repos, _ = stored
    with pytest.raises(InvalidInput, match=message):
        _run(repos, body)


@pytest.mark.parametrize("request_body, message", [
    (_request(b"frobnicate"), b"invalid command 'frobnicate'"),
    (_request(b"ls-refs", caps=(b"object-format=sha256",)), b"unknown capability 'object-format=sha256'"),
    (_request(b"ls-refs", caps=(b"bundle-uri",)), b"unknown capability"),
    (_request(b"ls-refs", b"garbage"), b"unexpected line: 'garbage'"),
    (_request(b"fetch", b"want zz"), b"expected to get oid, not 'want zz'"),
    (_request(b"fetch", b"want " + b"A" * 40), b"expected to get oid"),
    (_request(b"fetch", b"want " + b"a" * 40), b"not our ref " + b"a" * 40),
    (_request(b"fetch", b"want " + b"a" * 40, b"filter blob:none"), b"unexpected line: 'filter blob:none'"),
    (_request(b"fetch", b"want-ref refs/heads/main"), b"unexpected line"),
    (_request(b"fetch", b"sideband-all"), b"unexpected line"),
    (_request(b"fetch", b"x" * 65000), b"unexpected line: '" + b"x" * 200 + b"...'"),
])
def test_requests_git_would_not_send_get_err(stored, request_body, message):
    repos, _ = stored
    kind, out = _run(repos, request_body)
    assert kind is None
    (line,) = _lines(out)
    assert isinstance(line, bytes) and line.startswith(b"ERR upload-pack: ") and message in line


@pytest.mark.parametrize("args, message", [
    ((b"deepen 0",), b"invalid deepen"),
    ((b"deepen 1", b"deepen-since 5"), b"cannot be used together"),
    ((b"deepen-not refs/heads/nope",), b"deepen-not is not a ref"),
    ((b"deepen-since 4102444800",), b"no commits selected"),
])
def test_refused_shallow_requests_get_err_before_anything_else(stored, args, message):
    repos, source = stored
    kind, out = _run(repos, _request(b"fetch", b"want " + _rev(source, "main").encode(), *args, b"done"))
    (line,) = _lines(out)
    assert kind is None and isinstance(line, bytes) and line.startswith(b"ERR upload-pack: ") and message in line


def test_an_empty_request_gets_an_empty_answer(stored):
    repos, _ = stored
    assert _run(repos, b"0000") == (None, b"")


def test_advertisement_and_header_parsing():
    assert v2.advertisement().startswith(b"000eversion 2\n") and v2.advertisement().endswith(b"\n0000")
    assert v2.requested("version=2") and v2.requested("object-format=sha1:version=2")
    assert not v2.requested(None) and not v2.requested("version=1") and not v2.requested("version=20")


def test_ls_refs_unborn_peel_and_prefixes(stored, tmp_path):
    repos, source = stored
    main, tag, peeled = _rev(source, "main"), _rev(source, "v1"), _rev(source, "v1^{}")
    _, out = _run(repos, _request(b"ls-refs", b"symrefs", b"peel", b"unborn"))
    assert _lines(out) == [f"{main} HEAD symref-target:refs/heads/main".encode(), f"{main} refs/heads/main".encode(),
                           f"{tag} refs/tags/v1 peeled:{peeled}".encode(), 0]
    _, out = _run(repos, _request(b"ls-refs", b"ref-prefix refs/tags/"))
    assert _lines(out) == [f"{tag} refs/tags/v1".encode(), 0]
    _, out = _run(repos, _request(b"ls-refs", b"symrefs", b"unborn"), "empty")
    assert _lines(out) == [b"unborn HEAD symref-target:refs/heads/main", 0]
    _, out = _run(repos, _request(b"ls-refs", b"symrefs"), "empty")  # no `unborn`: no HEAD at all
    assert _lines(out) == [0]


def test_negotiation_acks_common_haves_and_says_ready(stored):
    repos, source = stored
    want = b"want " + _rev(source, "main").encode()
    c1, c4 = _rev(source, "main~4").encode(), _rev(source, "main~1").encode()
    # Nothing in common: NAK, and the client goes on.
    kind, out = _run(repos, _request(b"fetch", want, b"have " + b"b" * 40))
    assert kind is None and _lines(out) == [b"acknowledgments", b"NAK", 0]
    # Common haves that the want reaches: ACKed, ready, and the pack in the same answer.
    kind, out = _run(repos, _request(b"fetch", want, b"have " + c1, b"have " + c4, b"ofs-delta", b"no-progress"))
    lines = _lines(out)
    assert lines[:5] == [b"acknowledgments", b"ACK " + c1, b"ACK " + c4, b"ready", 1] and lines[5] == b"packfile"
    assert kind == "fetches" and lines[-1] == 0
    # wait-for-done: never ready; the pack comes after `done`.
    kind, out = _run(repos, _request(b"fetch", want, b"have " + c4, b"wait-for-done"))
    assert kind is None and _lines(out) == [b"acknowledgments", b"ACK " + c4, 0]
    kind, out = _run(repos, _request(b"fetch", want, b"have " + c4, b"done"))
    assert kind == "fetches" and _lines(out)[0] == b"packfile"


def test_fetched_pack_resolves_and_holds_what_rev_list_sends(stored, tmp_path):
    repos, source = stored
    base = _rev(source, "main~2")
    kind, out = _run(repos, _request(b"fetch", b"want " + _rev(source, "main").encode(), b"have " + base.encode(),
                                     b"include-tag", b"ofs-delta", b"done"))
    client = tmp_path / "client"
    git("init", "-q", "--bare", str(client))
    res = subprocess.run(["git", "index-pack", "--stdin"], cwd=client, input=_pack_of(out), capture_output=True)
    assert res.returncode == 0, res.stderr
    listed = subprocess.run(["git", "show-index"], input=(client / "objects" / "pack").glob("*.idx").__next__()
                            .read_bytes(), capture_output=True, check=True).stdout.split()[1::3]
    expected = git("rev-list", "--objects", f"{base}..main", cwd=source).stdout.split("\n")
    assert {sha.decode() for sha in listed} == {line.split()[0] for line in expected if line}
    assert kind == "fetches"


def test_plain_clone_takes_the_verbatim_fast_path(stored, monkeypatch):
    repos, source = stored
    used = []
    real = v2fetch.write_sideband_pack
    monkeypatch.setattr(v2fetch, "write_sideband_pack", lambda *a, **k: used.append(1) or real(*a, **k))
    wants = [b"want " + _rev(source, ref).encode() for ref in ("main", "main", "v1")]
    kind, out = _run(repos, _request(b"fetch", *wants, b"ofs-delta", b"thin-pack", b"done"))
    assert used == [1] and kind == "clones" and _lines(out)[0] == b"packfile"
    # With a depth it is no plain clone: the walk, and a shallow-info section first.
    kind, out = _run(repos, _request(b"fetch", wants[0], b"deepen 2", b"ofs-delta", b"done"))
    lines = _lines(out)
    assert used == [1] and kind == "clones"
    assert lines[:3] == [b"shallow-info", b"shallow " + _rev(source, "main~1").encode(), 1]
    assert lines[3] == b"packfile"


def test_a_stale_want_reachable_from_a_tip_is_served(stored):
    """A push moved main between ls-refs and fetch: the old tip is still served (as v0)."""
    repos, source = stored
    old = _rev(source, "main~2").encode()
    kind, out = _run(repos, _request(b"fetch", b"want " + old, b"ofs-delta", b"done"))
    assert kind == "clones" and _lines(out)[0] == b"packfile"
    blob = git("rev-parse", "main:prompt.md", cwd=source).stdout.strip().encode()  # stored, but no commit
    _, out = _run(repos, _request(b"fetch", b"want " + blob, b"done"))
    assert _lines(out) == [b"ERR upload-pack: not our ref " + blob]


requests = st.lists(st.one_of(
    st.sampled_from([b"command=fetch\n", b"command=ls-refs\n", b"agent=x\n", b"done\n", b"peel\n", b"symrefs\n",
                     b"unborn\n", b"deepen 1\n", b"deepen-relative\n", b"have " + b"1" * 40 + b"\n",
                     b"shallow " + b"2" * 40 + b"\n", b"ref-prefix refs/\n"]).map(pkt),
    st.just(b"0000"), st.just(b"0001"), st.just(b"0002"), st.binary(max_size=30)), max_size=10).map(b"".join)


@FUZZ
@given(requests)
@example(pkt(b"command=fetch\n") + b"0001" + pkt(b"deepen-relative\n") + pkt(b"done\n") + b"0000")
def test_hostile_bodies_only_ever_get_answers_or_invalid_input(stored, body):
    repos, _ = stored
    try:
        _run(repos, body)
    except InvalidInput:
        pass


def test_a_v0_fetch_answered_ready_counts_though_it_never_says_done(stored):
    # multi_ack_detailed + no-done: the server says "ready" and sends the pack in the same answer
    repos, source = stored
    caps = b" multi_ack_detailed no-done side-band-64k thin-pack ofs-delta agent=git/2.39.5\n"
    want = pkt(b"want " + _rev(source, "main").encode() + caps) + b"0000"
    common, unknown = pkt(b"have " + _rev(source, "main~2").encode() + b"\n"), pkt(b"have " + b"b" * 40 + b"\n")
    for haves, kind, ready in ((unknown, None, False), (common, "fetches", True)):
        out = io.BytesIO()
        with repos.open("r") as repo:
            counted = service.run(repo, "git-upload-pack", io.BytesIO(want + haves + b"0000"), out)
        assert counted == kind and (b"ready" in out.getvalue()) == ready and (b"PACK" in out.getvalue()) == ready
