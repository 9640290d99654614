"""A clone or fetch racing a push is served (issue 17): over stateless HTTP the client wants
the tip it was shown a moment before, which a push has made an ancestor of the new tip."""
from __future__ import annotations

import subprocess

import httpx

from tests.gitcli import authed, commit_file, git, pkt

CAPS = b" multi_ack_detailed side-band-64k thin-pack ofs-delta no-progress"


def _upload_pack(env, name: str, want: str) -> httpx.Response:
    body = pkt(b"want " + want.encode() + CAPS + b"\n") + b"0000" + pkt(b"done\n")
    return httpx.post(f"{env.url}/alice/{name}.git/git-upload-pack", content=body, timeout=60,
                      auth=("alice", env.tokens["alice"]),
                      headers={"Content-Type": "application/x-git-upload-pack-request"})


def _pack_of(response: bytes) -> bytes:
    """The pack carried on side-band channel 1 of an upload-pack response."""
    data, pack = response, b""
    while data:
        size = int(data[:4], 16)
        if size == 0:
            data = data[4:]
            continue
        line, data = data[4:size], data[size:]
        if line[:1] == b"\x01":
            pack += line[1:]
    return pack


def test_a_want_made_stale_by_a_push_is_served(env, tmp_path):
    info = env.create("fetch-race")
    work = tmp_path / "w"
    git("clone", "-q", authed(info["clone_url"], "alice", env.tokens["alice"]), str(work))
    shown = commit_file(work, "template.json", '{"name": "fetch-race"}\n')
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    commit_file(work, "README.md", "moved on\n")  # the push that lands between refs and fetch
    git("push", "-q", "origin", "HEAD:main", cwd=work)

    resp = _upload_pack(env, "fetch-race", shown)
    assert resp.status_code == 200, resp.text
    pack = _pack_of(resp.content)
    assert pack.startswith(b"PACK")
    bare = tmp_path / "bare.git"
    git("init", "-q", "--bare", str(bare))
    subprocess.run(["git", "index-pack", "--stdin"], cwd=bare, input=pack, check=True, capture_output=True)
    assert git("cat-file", "-t", shown, cwd=bare).stdout.strip() == "commit"
    git("update-ref", "refs/heads/main", shown, cwd=bare)
    git("fsck", "--strict", cwd=bare)


def test_a_want_reachable_from_no_ref_is_still_refused(env, tmp_path):
    info = env.create("fetch-unreachable")
    work = tmp_path / "w"
    git("clone", "-q", authed(info["clone_url"], "alice", env.tokens["alice"]), str(work))
    commit_file(work, "template.json", '{"name": "fetch-unreachable"}\n')
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    dropped = commit_file(work, "secret.txt", "was on a branch\n")
    git("push", "-q", "origin", "HEAD:gone", cwd=work)
    git("push", "-q", "origin", ":gone", cwd=work)  # deleted: its commit is stored but unreachable
    for want in (dropped, "1" * 40):
        resp = _upload_pack(env, "fetch-unreachable", want)
        assert resp.status_code == 400, resp.text
        assert "PACK" not in resp.text
