"""git's shallow options against `registry serve`, each checked against C git on the same history.

The reference is the pushed working copy cloned over file:// with the same options: the
registry must select exactly the commits (and boundaries) that C git's upload-pack selects.
Every test runs with git speaking protocol v0 and v2 (the `git_protocol` fixture).
"""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.gitcli import authed, git, pkt

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("git_protocol")]

CAPS = b" multi_ack_detailed side-band-64k thin-pack ofs-delta no-progress shallow deepen-since deepen-not"


def _commit(work: Path, name: str, day: int, *, merge: str | None = None) -> str:
    stamp = {"GIT_AUTHOR_DATE": f"2024-01-{day:02d}T12:00:00+0000",
             "GIT_COMMITTER_DATE": f"2024-01-{day:02d}T12:00:00+0000"}
    if merge:
        git("merge", "-q", "--no-ff", "-m", f"merge {merge}", merge, cwd=work, env=stamp)
    else:
        (work / name).write_text(f"{name}\n")
        git("add", name, cwd=work)
        git("commit", "-q", "-m", name, cwd=work, env=stamp)
    return git("rev-parse", "HEAD", cwd=work).stdout.strip()


@pytest.fixture(scope="module")
def history(env, tmp_path_factory):
    """main: c1 c2 c3(v1) c4(old) c5 M c6 c7, one commit a day; M merges f1 f2, forked at c3.

    Returns the template and the working copy it was pushed from (the file:// reference).
    """
    info = env.create("shallow")
    work = tmp_path_factory.mktemp("shallow") / "work"
    env.clone(info["clone_url"], "alice", work)
    git("checkout", "-q", "-b", "main", cwd=work)
    shas = {f"c{i}": _commit(work, f"c{i}", i) for i in (1, 2, 3)}
    git("tag", "-a", "v1", "-m", "v1", cwd=work, env={"GIT_COMMITTER_DATE": "2024-01-03T13:00:00+0000"})
    shas["c4"] = _commit(work, "c4", 4)
    git("branch", "old", cwd=work)
    shas["c5"] = _commit(work, "c5", 5)
    git("checkout", "-q", "-b", "feature", shas["c3"], cwd=work)
    shas["f1"] = _commit(work, "f1", 6)
    shas["f2"] = _commit(work, "f2", 7)
    git("checkout", "-q", "main", cwd=work)
    shas["M"] = _commit(work, "M", 8, merge="feature")
    shas["c6"] = _commit(work, "c6", 9)
    shas["c7"] = _commit(work, "c7", 10)
    git("push", "-q", "origin", "main", "old", "feature", "v1", cwd=work)
    return info, work, shas


def _clone(source: str, dest: Path, *options: str) -> Path:
    git("clone", "-q", *options, source, str(dest))
    return dest


def _state(repo: Path) -> tuple[list[str], set[str]]:
    """The history HEAD has (newest first) and the client's shallow boundaries."""
    log = git("log", "--format=%H %s", "HEAD", cwd=repo).stdout.split("\n")
    shallow = repo / ".git" / "shallow"
    return [line for line in log if line], set(shallow.read_text().split()) if shallow.exists() else set()


def _count(repo: Path) -> int:
    return int(git("rev-list", "--count", "HEAD", cwd=repo).stdout)


def test_clone_shallow_since_matches_c_git(history, tmp_path):
    info, work, shas = history
    since = "--shallow-since=2024-01-06 18:00:00 +0000"  # after f1 (day 6), before f2 (day 7)
    ours = _clone(info["clone_url"], tmp_path / "ours", since)
    ref = _clone(f"file://{work}", tmp_path / "ref", since)
    assert _state(ours) == _state(ref)
    log, shallow = _state(ours)
    # c5 is too old, so M is a boundary: git then hides both its parents, f2 too (as C git).
    assert [line.split(" ", 1)[1] for line in log] == ["c7", "c6", "merge feature"]
    assert shallow == {shas["M"], shas["f2"]} and _count(ours) == 3
    git("fsck", "--no-dangling", cwd=ours)


@pytest.mark.parametrize("exclude", ["v1", "old", "refs/heads/old"])
def test_clone_shallow_exclude_matches_c_git(history, tmp_path, exclude):
    info, work, shas = history
    ours = _clone(info["clone_url"], tmp_path / "ours", f"--shallow-exclude={exclude}")
    ref = _clone(f"file://{work}", tmp_path / "ref", f"--shallow-exclude={exclude}")
    assert _state(ours) == _state(ref)
    kept = {"c5", "f1", "f2", "merge feature", "c6", "c7"} | ({"c4"} if exclude == "v1" else set())
    log, shallow = _state(ours)
    assert {line.split(" ", 1)[1] for line in log} == kept and _count(ours) == len(kept)
    assert shallow == {shas["c4" if exclude == "v1" else "c5"], shas["f1"]}
    git("fsck", "--no-dangling", cwd=ours)


def test_fetch_deepen_then_unshallow(history, tmp_path):
    info, work, shas = history
    ours = _clone(info["clone_url"], tmp_path / "ours", "--depth", "1")
    ref = _clone(f"file://{work}", tmp_path / "ref", "--depth", "1")
    assert _count(ours) == 1
    git("fetch", "-q", "--deepen=2", cwd=ours)
    git("fetch", "-q", "--deepen=2", cwd=ref)
    assert _count(ours) == 3 and _state(ours) == _state(ref)
    assert _state(ours)[1] == {shas["M"]}
    # Past the merge: both of its parents become boundaries.
    git("fetch", "-q", "--deepen=1", cwd=ours)
    git("fetch", "-q", "--deepen=1", cwd=ref)
    assert _state(ours) == _state(ref) and _state(ours)[1] == {shas["c5"], shas["f2"]}
    git("fetch", "-q", "--unshallow", cwd=ours)
    assert not (ours / ".git" / "shallow").exists()
    assert _count(ours) == 10
    assert git("rev-parse", "--is-shallow-repository", cwd=ours).stdout.strip() == "false"
    git("fsck", "--strict", "--no-dangling", cwd=ours)


def test_fetch_deepen_over_several_rounds_of_haves(env, tmp_path, git_protocol):
    """A client with more commits than one round of haves (16): every answer, the one with
    the pack too, starts with the shallow list (the lifted boundary's parent is sent but
    kept out of the wants that decide "ready")."""
    info = env.create(f"shallow-long-v{git_protocol}")
    work = tmp_path / "work"
    env.clone(info["clone_url"], "alice", work)
    git("checkout", "-q", "-b", "main", cwd=work)
    for i in range(60):
        git("commit", "-q", "--allow-empty", "-m", f"n{i}", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    ours = _clone(info["clone_url"], tmp_path / "ours", "--depth", "40")
    ref = _clone(f"file://{work}", tmp_path / "ref", "--depth", "40")
    git("fetch", "-q", "--deepen=5", cwd=ours)
    git("fetch", "-q", "--deepen=5", cwd=ref)
    assert _count(ours) == 45 and _state(ours) == _state(ref)
    git("fetch", "-q", "--unshallow", cwd=ours)
    assert _count(ours) == 60 and not (ours / ".git" / "shallow").exists()
    git("fsck", "--strict", "--no-dangling", cwd=ours)


def test_fetch_shallow_since_deepens_an_existing_shallow_clone(history, tmp_path):
    info, work, _ = history
    since = "--shallow-since=2024-01-04 18:00:00 +0000"  # c5 and everything newer
    ours = _clone(info["clone_url"], tmp_path / "ours", "--depth", "2")
    ref = _clone(f"file://{work}", tmp_path / "ref", "--depth", "2")
    git("fetch", "-q", since, cwd=ours)
    git("fetch", "-q", since, cwd=ref)
    assert _state(ours) == _state(ref) and _count(ours) == 6
    git("fsck", "--no-dangling", cwd=ours)


def test_shallow_clone_fetches_new_commits_plainly(env, tmp_path, git_protocol):
    """A shallow client's fetch sends its boundaries without any deepen line."""
    info = env.create(f"shallow-pull-v{git_protocol}")
    work = tmp_path / "work"
    env.clone(info["clone_url"], "alice", work)
    git("checkout", "-q", "-b", "main", cwd=work)
    for day in (1, 2, 3):
        _commit(work, f"c{day}", day)
    git("push", "-q", "origin", "main", cwd=work)
    ours = _clone(info["clone_url"], tmp_path / "ours", "--depth", "1")
    tip = _commit(work, "c4", 4)
    git("push", "-q", "origin", "main", cwd=work)
    git("pull", "-q", "--ff-only", cwd=ours)
    assert git("rev-parse", "HEAD", cwd=ours).stdout.strip() == tip and _count(ours) == 2
    git("fsck", "--no-dangling", cwd=ours)


def test_unknown_shallow_exclude_is_one_line_error(env, history, tmp_path):
    info, _, _ = history
    res = git("clone", "-q", "--shallow-exclude=no-such-ref", info["clone_url"], str(tmp_path / "x"), check=False)
    assert res.returncode != 0
    # git's own message for the ERR; over HTTP (v0) git adds its generic hang-up line after it.
    first, *rest = res.stderr.strip().split("\n")
    assert first == "fatal: remote error: upload-pack: deepen-not is not a ref: no-such-ref"
    assert rest in ([], ["fatal: the remote end hung up unexpectedly"]), res.stderr
    assert httpx.get(f"{env.url}/healthz", timeout=10).status_code == 200
    _clone(info["clone_url"], tmp_path / "after", "--shallow-exclude=v1")


def _upload_pack(env, name: str, lines: list[bytes]) -> bytes:
    tip = git("ls-remote", authed(f"{env.url}/alice/{name}.git", "alice", env.tokens["alice"]),
              "refs/heads/main").stdout.split()[0]
    body = pkt(b"want " + tip.encode() + CAPS + b"\n") + b"".join(pkt(line) for line in lines) + b"0000"
    resp = httpx.post(f"{env.url}/alice/{name}.git/git-upload-pack", content=body, timeout=60,
                      auth=("alice", env.tokens["alice"]),
                      headers={"Content-Type": "application/x-git-upload-pack-request"})
    assert resp.status_code == 200, resp.text
    return resp.content


@pytest.mark.parametrize("lines, message", [
    ([b"deepen-since 12x"], b"invalid deepen-since"),
    ([b"deepen-since -5"], b"invalid deepen-since"),
    ([b"deepen 0"], b"invalid deepen"),
    ([b"deepen 99999999999999999999"], b"invalid deepen"),
    ([b"deepen-not refs/heads/nope\n"], b"deepen-not is not a ref: refs/heads/nope"),
    ([b"deepen 1", b"deepen-since 5"], b"cannot be used together"),
    ([b"shallow zz", b"deepen 1"], b"invalid shallow line"),
    ([b"deepen-since 4102444800"], b"no commits selected"),  # 2100: nothing that new
])
def test_malformed_shallow_requests_get_err(env, history, lines, message):
    info, _, _ = history
    out = _upload_pack(env, "shallow", lines)
    line = out[4:int(out[:4], 16)]  # the only pkt-line of the answer
    assert len(out) == len(line) + 4 and line.startswith(b"ERR upload-pack: "), out
    assert message in line and b"\n" not in line


def test_deepen_not_answer_lists_the_boundaries(env, history):
    """The first round of a stateless shallow fetch: the boundaries, then a flush, no pack."""
    _, _, shas = history
    out = _upload_pack(env, "shallow", [b"deepen-not v1"])  # an annotated tag: peeled to c3
    assert out == b"".join(pkt(b"shallow " + sha.encode()) for sha in sorted([shas["c4"], shas["f1"]])) + b"0000"


def test_a_round_of_haves_ending_in_nak_sends_no_pack(env, history):
    """no-done lets the server send the pack once it says "ready"; a stateless round that
    found common commits but can't satisfy the wants ends with NAK, and nothing after it."""
    _, _, shas = history
    body = (pkt(b"want " + shas["f2"].encode() + CAPS + b" no-done\n") + b"0000"
            + pkt(b"have " + shas["c5"].encode() + b"\n") + b"0000")  # c5: common, not under f2
    resp = httpx.post(f"{env.url}/alice/shallow.git/git-upload-pack", content=body, timeout=60,
                      auth=("alice", env.tokens["alice"]),
                      headers={"Content-Type": "application/x-git-upload-pack-request"})
    assert resp.status_code == 200
    assert resp.content == pkt(b"ACK " + shas["c5"].encode() + b" common\n") + pkt(b"NAK\n")
