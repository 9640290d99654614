"""Git protocol v2 (upload-pack) against `registry serve`: the stock git CLI with
`protocol.version=2`, checked against the same operation over v0 and against C git.

Each test reads git's packet trace to prove which version was spoken. Shallow fetches over
both versions are in test_shallow.py (the `git_protocol` fixture).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest

from tests.gitcli import authed, commit_file, git, pkt, protocol_env

pytestmark = pytest.mark.timeout(600)


def _git(version: str, *args: str, cwd: Path | None = None, trace: Path | None = None, check: bool = True):
    env = protocol_env(version) | ({"GIT_TRACE_PACKET": str(trace)} if trace else {})
    return git(*args, cwd=cwd, env=env, check=check)


def _spoke_v2(trace: Path) -> bool:
    text = trace.read_text()
    assert "< version 2" in text or "# service=git-upload-pack" in text, text[:2000]
    return "< version 2" in text


def _refs(repo: Path) -> str:
    return git("for-each-ref", "--format=%(objectname) %(refname)", cwd=repo).stdout


def _log(repo: Path) -> str:
    return git("log", "-p", "--all", "--format=%H %P %s", cwd=repo).stdout


@pytest.fixture(scope="module")
def pushed(env, tmp_path_factory):
    """A template with branches, a merge, an annotated and a lightweight tag."""
    info = env.create("proto")
    url = authed(info["clone_url"], "alice", env.tokens["alice"])
    work = tmp_path_factory.mktemp("proto") / "work"
    git("clone", "-q", url, str(work))
    commit_file(work, "template.json", '{"title": "Proto"}\n', "manifest")
    commit_file(work, "prompts/a.md", "alpha\n" * 50)
    git("checkout", "-q", "-b", "side", cwd=work)
    commit_file(work, "prompts/b.md", "beta\n" * 50)
    git("checkout", "-q", "main", cwd=work)
    commit_file(work, "prompts/a.md", "alpha\n" * 50 + "more\n")
    git("merge", "-q", "--no-ff", "-m", "merge side", "side", cwd=work)
    git("tag", "-a", "v1", "-m", "release 1", cwd=work)
    git("tag", "light", "side", cwd=work)
    git("push", "-q", "origin", "main", "side", "v1", "light", cwd=work)
    return info, url, work


def test_clone_over_v2_matches_v0(env, pushed, tmp_path):
    _, url, work = pushed
    clones = {}
    for version in ("0", "2"):
        trace = tmp_path / f"trace{version}"
        clones[version] = tmp_path / f"v{version}"
        _git(version, "clone", "-q", url, str(clones[version]), trace=trace)
        assert _spoke_v2(trace) == (version == "2")
        git("fsck", "--strict", "--no-dangling", cwd=clones[version])
    assert _refs(clones["2"]) == _refs(clones["0"])
    assert _log(clones["2"]) == _log(clones["0"]) == _log(work)
    assert git("symbolic-ref", "HEAD", cwd=clones["2"]).stdout.strip() == "refs/heads/main"


def test_fetch_and_pull_over_v2(env, pushed, tmp_path):
    info, url, work = pushed
    behind = {v: tmp_path / f"v{v}" for v in ("0", "2")}
    for version, path in behind.items():
        _git(version, "clone", "-q", url, str(path))
    for i in range(3):
        commit_file(work, f"notes/{i}.md", f"note {i}\n" * 20)
    git("tag", "-a", "v2", "-m", "release 2", cwd=work)  # followed by the fetch (include-tag)
    git("push", "-q", "origin", "main", "v2", cwd=work)
    for version, path in behind.items():
        trace = tmp_path / f"fetch{version}"
        _git(version, "fetch", "-q", "origin", cwd=path, trace=trace)
        assert _spoke_v2(trace) == (version == "2")
        assert "fetch< packfile" in trace.read_text() or version == "0"
        git("fsck", "--strict", "--no-dangling", cwd=path)
    assert _refs(behind["2"]) == _refs(behind["0"])
    assert "refs/tags/v2" in _refs(behind["2"])
    assert _log(behind["2"]) == _log(behind["0"])
    _git("2", "pull", "-q", "--ff-only", "origin", "main", cwd=behind["2"])
    assert git("rev-parse", "HEAD", cwd=behind["2"]).stdout == git("rev-parse", "HEAD", cwd=work).stdout
    # A push from a client that asks for v2 goes over v0 (as with C git) and lands.
    head = commit_file(behind["2"], "notes/from-v2.md", "pushed\n")
    trace = tmp_path / "push"
    _git("2", "push", "-q", "origin", "main", cwd=behind["2"], trace=trace)
    assert "# service=git-receive-pack" in trace.read_text() and "version 2" not in trace.read_text()
    assert git("ls-remote", url, "refs/heads/main").stdout.split()[0] == head


def test_ls_remote_and_ls_refs_with_ref_prefixes(env, pushed, tmp_path):
    _, url, _ = pushed
    main = _git("0", "ls-remote", url, "refs/heads/main").stdout.split()[0]
    assert _git("2", "ls-remote", url, "refs/heads/main").stdout == f"{main}\trefs/heads/main\n"
    trace = tmp_path / "trace"
    heads = _git("2", "ls-remote", "--heads", url, trace=trace).stdout
    assert "ls-remote> ref-prefix refs/heads/" in trace.read_text() and _spoke_v2(trace)
    assert heads == _git("0", "ls-remote", "--heads", url).stdout and "refs/tags" not in heads
    everything = _git("2", "ls-remote", url).stdout
    assert everything == _git("0", "ls-remote", url).stdout
    assert "refs/tags/v1^{}" in everything and everything.startswith(f"{main}\tHEAD\n")
    assert _git("2", "ls-remote", "--symref", url, "HEAD").stdout.startswith("ref: refs/heads/main\tHEAD\n")
    # What the server sends for one exact prefix (git filters again on its side)
    resp = _v2_post(env, "proto", pkt(b"command=ls-refs\n") + b"0001" + pkt(b"symrefs\n")
                    + pkt(b"ref-prefix refs/heads/main\n") + pkt(b"ref-prefix HEAD\n") + b"0000")
    assert resp.content == (pkt(f"{main} HEAD symref-target:refs/heads/main\n".encode())
                            + pkt(f"{main} refs/heads/main\n".encode()) + b"0000")


def test_clone_of_an_empty_template_learns_its_default_branch(env, tmp_path):
    """v2's `unborn`: the clone's HEAD is the template's default branch, not git's own default."""
    info = env.create("empty-v2")
    url = authed(info["clone_url"], "alice", env.tokens["alice"])
    heads = {}
    for version in ("0", "2"):
        trace = tmp_path / f"trace{version}"
        dest = tmp_path / f"v{version}"
        _git(version, "-c", "init.defaultBranch=trunk", "clone", "-q", url, str(dest), trace=trace)
        assert _spoke_v2(trace) == (version == "2")
        heads[version] = git("symbolic-ref", "HEAD", cwd=dest).stdout.strip()
    assert heads == {"0": "refs/heads/trunk", "2": "refs/heads/main"}


def test_v2_clones_and_fetches_are_counted(env, tmp_path):
    info = env.create("counted-v2")
    url = authed(info["clone_url"], "alice", env.tokens["alice"])
    work = tmp_path / "work"
    git("clone", "-q", url, str(work))
    commit_file(work, "template.json", '{"title": "Counted"}\n')
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    _git("2", "clone", "-q", url, str(tmp_path / "a"))
    _git("2", "clone", "-q", "--depth", "1", url, str(tmp_path / "b"))
    commit_file(work, "README.md", "# more\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    _git("2", "pull", "-q", "origin", "main", cwd=tmp_path / "a")
    _git("2", "ls-remote", url)  # refs only: not counted
    today = dt.datetime.now(dt.UTC).date().isoformat()
    with env.api() as c:
        (day,) = c.get("/templates/alice/counted-v2/analytics", params={"from": today, "to": today}).json()["days"]
    assert day["clones"] == 2 and day["fetches"] == 1


def _v2_post(env, name: str, body: bytes, protocol: str = "version=2") -> httpx.Response:
    return httpx.post(f"{env.url}/alice/{name}.git/git-upload-pack", content=body, timeout=60,
                      auth=("alice", env.tokens["alice"]),
                      headers={"Content-Type": "application/x-git-upload-pack-request", "Git-Protocol": protocol})


def test_capability_advertisement_is_c_gits(env, pushed):
    resp = httpx.get(f"{env.url}/alice/proto.git/info/refs?service=git-upload-pack", timeout=30,
                     auth=("alice", env.tokens["alice"]), headers={"Git-Protocol": "object-format=sha1:version=2"})
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/x-git-upload-pack-advertisement"
    assert resp.content.startswith(b"000eversion 2\n") and resp.content.endswith(b"0000")
    assert b"ls-refs=unborn\n" in resp.content and b"fetch=shallow wait-for-done\n" in resp.content
    assert b"filter" not in resp.content  # partial clone is not offered
    # receive-pack stays v0, whatever the header
    push = httpx.get(f"{env.url}/alice/proto.git/info/refs?service=git-receive-pack", timeout=30,
                     auth=("alice", env.tokens["alice"]), headers={"Git-Protocol": "version=2"})
    assert push.content.startswith(b"001f# service=git-receive-pack\n0000")


@pytest.mark.parametrize("body, status, message", [
    (pkt(b"command=frobnicate\n") + b"0000", 200, b"ERR upload-pack: invalid command 'frobnicate'"),
    (pkt(b"command=fetch\n") + b"0001" + pkt(b"want nothex\n") + b"0000", 200, b"ERR upload-pack: protocol error"),
    (pkt(b"command=fetch\n") + b"0001" + pkt(b"filter blob:none\n") + b"0000", 200,
     b"ERR upload-pack: unexpected line: 'filter blob:none'"),
    (pkt(b"command=ls-refs\n") + b"0001" + pkt(b"ref-prefix refs/heads/\n"), 400, b"without a flush"),
    (pkt(b"command=ls-refs\n") + b"ffff" + b"x" * 100, 400, b"bad pkt-line length"),
    (b"GET / HTTP/1.1\r\n\r\n", 400, b"bad pkt-line length"),
    (pkt(b"want " + b"a" * 40 + b"\n") + b"0000", 400, b"names no command"),  # a v0 body
])
def test_hostile_v2_requests_are_refused_plainly(env, pushed, body, status, message):
    resp = _v2_post(env, "proto", body)
    assert resp.status_code == status, resp.text
    assert message in resp.content
    assert httpx.get(f"{env.url}/healthz", timeout=10).status_code == 200
