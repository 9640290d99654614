"""Pushes and requests that must be refused with a clear reason, storing nothing."""
from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.gitcli import authed, commit_file, git, raw_receive_pack
from tests.integration.conftest import MAX_FILE, MAX_PUSH, _start

pytestmark = pytest.mark.timeout(600)
ZERO = "0" * 40


@pytest.fixture(scope="module")
def seeded(env, tmp_path_factory):
    info = env.create("guarded")
    work = tmp_path_factory.mktemp("guarded") / "work"
    env.clone(info["clone_url"], "alice", work)
    head = commit_file(work, "template.json", "{}\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    return info, work, head


def _snapshot(env, info, work):
    """What a refused push must leave untouched: stored blobs, refs, and no staged leftovers."""
    staging = Path(env.server.env["REGISTRY_DATA_DIR"]) / "cache" / "packs" / ".staging"
    leftovers = [p for p in staging.rglob("*") if p.is_file()] if staging.exists() else []
    assert leftovers == []
    return env.blob_keys(info["id"]), git("ls-remote", "origin", cwd=work).stdout


def test_anonymous_and_read_only_pushes_refused(env, seeded):
    info, work, _ = seeded
    before = _snapshot(env, info, work)
    commit_file(work, "x.txt", "x\n")
    anon = git("push", info["clone_url"], "HEAD:main", cwd=work, check=False)
    assert anon.returncode != 0 and "could not read Username" in anon.stderr  # the server asked for auth
    resp = httpx.get(info["clone_url"] + "/info/refs?service=git-receive-pack")
    assert resp.status_code == 401 and resp.headers["www-authenticate"].startswith("Basic")
    for user in ("bob", "carol-ro"):
        name = user.split("-")[0]
        res = git("push", authed(info["clone_url"], name, env.tokens[user]), "HEAD:main", cwd=work, check=False)
        assert res.returncode != 0 and "403" in res.stderr, res.stderr
    git("reset", "-q", "--hard", "HEAD~1", cwd=work)
    assert _snapshot(env, info, work) == before


def test_private_template_is_404_to_strangers(env, tmp_path):
    info = env.create("secret", visibility="private")
    with env.api("alice") as c:
        assert c.put("/templates/alice/secret/collaborators/carol", json={"role": "reader"}).status_code == 204
    with env.api("bob") as c:
        resp = c.get("/templates/alice/secret")
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "template_not_found"
    with env.api(None) as c:
        assert c.get("/templates/alice/secret").status_code == 404
    res = git("clone", authed(info["clone_url"], "bob", env.tokens["bob"]), str(tmp_path / "b"), check=False)
    assert res.returncode != 0 and "not found" in res.stderr.lower()
    anon = git("clone", info["clone_url"], str(tmp_path / "a"), check=False)
    assert anon.returncode != 0 and "could not read Username" in anon.stderr
    # anonymous callers get the same 401 for a private template as for a missing one
    for name in ("secret", "no-such-template"):
        resp = httpx.get(f"{env.url}/alice/{name}.git/info/refs?service=git-upload-pack")
        assert resp.status_code == 401
    # a reader may clone but not push
    work = tmp_path / "c"
    env.clone(info["clone_url"], "carol", work)
    commit_file(work, "x.txt", "x\n")
    res = git("push", "origin", "HEAD:main", cwd=work, check=False)
    assert res.returncode != 0 and "403" in res.stderr


@pytest.mark.parametrize("ref, reason", [
    (b"refs/heads/../x", b"invalid ref name"),
    (b"HEAD", b"only refs/heads/* and refs/tags/* may be pushed"),
    (b"refs/heads/x.lock", b"invalid ref name"),
    (b"refs/heads/a\x01b", b"invalid ref name (control character)"),
    (b"refs/heads/a~b", b"invalid ref name"),
    (b"refs/heads/x/", b"invalid ref name"),
    (b"refs/tags/v1..2", b"invalid ref name"),
    (b"refs/pull/1/head", b"refs/pull/ is managed by the registry"),
    (b"refs/meta/config", b"only refs/heads/* and refs/tags/* may be pushed"),
])
def test_bad_ref_names_refused(env, seeded, ref, reason):
    info, work, head = seeded
    before = _snapshot(env, info, work)
    url = info["clone_url"]
    status = raw_receive_pack(url, ("alice", env.tokens["alice"]), [(ZERO, head, ref)])
    assert status[b"unpack"] == b"ok"
    assert status[ref] == reason
    assert _snapshot(env, info, work) == before


def test_missing_object_and_wrong_old_value_refused(env, seeded):
    info, work, head = seeded
    before = _snapshot(env, info, work)
    auth = ("alice", env.tokens["alice"])
    missing = "1234567890" * 4
    status = raw_receive_pack(info["clone_url"], auth, [(ZERO, missing, b"refs/heads/dangling")])
    assert status[b"refs/heads/dangling"] == f"missing object {missing}".encode()
    status = raw_receive_pack(info["clone_url"], auth, [(missing, head, b"refs/heads/main")])
    assert status[b"refs/heads/main"].startswith(b"stale info")
    status = raw_receive_pack(info["clone_url"], auth, [(head, ZERO, b"refs/heads/main")])
    assert status[b"refs/heads/main"] == b"refusing to delete the default branch"
    assert _snapshot(env, info, work) == before


def test_oversized_push_refused_and_nothing_stored(env, seeded, tmp_path):
    info, work, _ = seeded
    before = _snapshot(env, info, work)
    for i in range(9):  # each file is under the file limit; together they are over the push limit
        commit_file(work, f"part{i}.bin", os.urandom(MAX_PUSH // 8))
    res = git("push", "origin", "HEAD:main", cwd=work, check=False)
    assert res.returncode != 0
    assert f"push exceeds the maximum size of {MAX_PUSH} bytes" in res.stderr, res.stderr
    git("reset", "-q", "--hard", "HEAD~9", cwd=work)
    assert _snapshot(env, info, work) == before


@pytest.mark.parametrize("path", [
    "/alice/%2e%2e.git/info/refs?service=git-upload-pack",
    "/alice/...git/info/refs?service=git-upload-pack",
    "/%2e%2e/guarded.git/info/refs?service=git-upload-pack",
    "/alice/gu%00arded.git/info/refs?service=git-upload-pack",
    "/alice/a%2fb.git/info/refs?service=git-upload-pack",
    "/alice/guarded.git/info/refs?service=git-upload-archive",
])
def test_bad_repo_paths_refused_with_json_error(env, path):
    resp = httpx.get(env.url + path)
    assert resp.status_code in (400, 404), resp.text
    assert resp.json()["error"]["message"]


@pytest.mark.parametrize("name", ["..", "../x", "a/b", "x.git", "Upper", "a\x00b", "-x", "", "a" * 64])
def test_bad_template_names_refused(env, name):
    with env.api() as c:
        resp = c.post("/templates", json={"name": name})
    # The name rule is part of the request's schema (SPEC's pattern): a 422 naming the field.
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "validation_error", resp.text
    assert resp.json()["error"]["message"].startswith("body.name: "), resp.text


@pytest.mark.parametrize("path, content, reason", [
    ("notes/keys.txt", "aws = AKIAIOSFODNN7EXAMPLE\n", "secret detected (AWS access key) in notes/keys.txt"),
    ("prompts/system.md", "Use key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789\n",
     "secret detected (API key (sk-...)) in prompts/system.md"),
    ("id_rsa", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n",
     "secret detected (private key) in id_rsa"),
    ("template.json", '{"saasIntegrations": [{"provider": "kling", "service": "t2v", '
                      '"configuration": {"apiKey": "plain-literal-key"}}]}\n',
     "literal credential in template.json at $.saasIntegrations[0].configuration.apiKey"),
])
def test_secrets_refused_with_reason_and_nothing_stored(env, seeded, path, content, reason):
    info, work, _ = seeded
    before = _snapshot(env, info, work)
    commit_file(work, path, content)
    res = git("push", "origin", "HEAD:main", cwd=work, check=False)
    assert res.returncode != 0 and "[remote rejected]" in res.stderr and reason in res.stderr, res.stderr
    git("reset", "-q", "--hard", "HEAD~1", cwd=work)
    assert _snapshot(env, info, work) == before


def test_file_over_size_limit_refused(env, seeded):
    info, work, _ = seeded
    before = _snapshot(env, info, work)
    commit_file(work, "big/model.bin", os.urandom(MAX_FILE + 1))
    res = git("push", "origin", "HEAD:main", cwd=work, check=False)
    assert res.returncode != 0
    # refused from the object's header, before it is inflated (so before its path is known)
    assert f"file of {MAX_FILE + 1} bytes exceeds the limit of {MAX_FILE} bytes" in res.stderr, res.stderr
    git("reset", "-q", "--hard", "HEAD~1", cwd=work)
    assert _snapshot(env, info, work) == before


def test_a_push_of_more_objects_than_allowed_is_refused_from_its_header(tmp_path):
    for env in _start(tmp_path, "local", None, {"REGISTRY_MAX_PUSH_OBJECTS": "6"}):
        info = env.create("many-objects")
        work = tmp_path / "work"
        env.clone(info["clone_url"], "alice", work)
        before = env.blob_keys(info["id"])
        for i in range(3):  # a commit, a tree and a file each: 9 objects
            commit_file(work, f"f{i}.md", f"{i}\n")
        res = git("push", "origin", "HEAD:main", cwd=work, check=False)
        assert res.returncode != 0
        assert "the push holds 9 objects; at most 6" in res.stderr, res.stderr
        assert env.blob_keys(info["id"]) == before
