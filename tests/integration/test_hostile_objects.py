"""A hostile writer's objects are refused with git's reasons and nothing is stored (issue 12):
fsck rules for trees, commits and tags, object types across references, ref names, and odd but
valid input answered with a reason (never a 5xx, never "internal")."""
from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from tests import packs
from tests.gitcli import authed, commit_file, git, raw_receive_pack
from tests.packs import BLOB, COMMIT, TAG, TREE

ZERO = "0" * 40
BLOB_DATA = b"hello\n"
BLOB_SHA = packs.sha(BLOB, BLOB_DATA)


@pytest.fixture(scope="module")
def target(env):
    """A template the hostile pushes aim at (its stored blobs are compared after each refusal)."""
    return env.create("hostile")


def _push(env, info, entries: list[bytes], tip: str, ref: bytes = b"refs/heads/evil",
          caps: str = "report-status") -> dict[bytes, bytes]:
    return raw_receive_pack(info["clone_url"], ("alice", env.tokens["alice"]), [(ZERO, tip, ref)],
                            packs.pack(*entries), caps=caps)


def _commit_of_tree(raw_tree: bytes) -> tuple[list[bytes], str]:
    tree_sha = packs.sha(TREE, raw_tree)
    raw_commit = packs.commit(tree_sha)
    return ([packs.entry(BLOB, BLOB_DATA), packs.entry(TREE, raw_tree), packs.entry(COMMIT, raw_commit)],
            packs.sha(COMMIT, raw_commit))


BAD_TREES = {
    "hasDotgit": [(b"40000", b".git", None)],
    "hasDotgit-case": [(b"40000", b".GiT", None)],
    "hasDotgit-ntfs-short": [(b"100644", b"GIT~1", BLOB_SHA)],
    "hasDotgit-ntfs-dots": [(b"100644", b".git. ", BLOB_SHA)],
    "hasDotgit-hfs": [(b"100644", ".g\u200cit".encode(), BLOB_SHA)],
    "hasDot": [(b"40000", b".", None)],
    "hasDotdot": [(b"40000", b"..", None)],
    "emptyName": [(b"100644", b"", BLOB_SHA)],
    "fullPathname": [(b"100644", b"a/../b", BLOB_SHA)],
    "duplicateEntries": [(b"100644", b"a", BLOB_SHA), (b"100644", b"a", BLOB_SHA)],
    "treeNotSorted": [(b"100644", b"b", BLOB_SHA), (b"100644", b"a", BLOB_SHA)],
    "badFilemode": [(b"100600", b"a", BLOB_SHA)],
    "zeroPaddedFilemode": [(b"0100644", b"a", BLOB_SHA)],
    "gitmodulesSymlink": [(b"120000", b".gitmodules", BLOB_SHA)],
}


@pytest.mark.parametrize("rule", sorted(BAD_TREES))
def test_trees_breaking_fsck_rules_are_refused_naming_object_and_rule(env, target, rule):
    before = env.blob_keys(target["id"])
    inner = packs.tree((b"100644", b"f", BLOB_SHA))
    entries = [(mode, name, sha or packs.sha(TREE, inner)) for mode, name, sha in BAD_TREES[rule]]
    raw_tree = packs.tree(*entries)
    objects, tip = _commit_of_tree(raw_tree)
    status = _push(env, target, [packs.entry(TREE, inner), *objects], tip)
    reason = status[b"refs/heads/evil"].decode()
    rule_id = rule.split("-")[0]
    assert reason.startswith(f"tree {packs.sha(TREE, raw_tree)[:12]}: ") and f"({rule_id})" in reason, reason
    assert env.blob_keys(target["id"]) == before


BAD_COMMITS = {
    "missingAuthor": dict(author=None),
    "missingCommitter": dict(committer=None),
    "badDate": dict(author=b"M <m@x> soon +0000"),
    "badTimezone": dict(committer=b"M <m@x> 1700000000 +00"),
    "badDateOverflow": dict(author=b"M <m@x> 99999999999999999999999 +0000"),
    "missingEmail": dict(author=b"M 1700000000 +0000"),
}


@pytest.mark.parametrize("rule", sorted(BAD_COMMITS))
def test_commits_with_bad_headers_are_refused(env, target, rule):
    before = env.blob_keys(target["id"])
    raw_tree = packs.tree((b"100644", b"f", BLOB_SHA))
    raw_commit = packs.commit(packs.sha(TREE, raw_tree), **BAD_COMMITS[rule])
    tip = packs.sha(COMMIT, raw_commit)
    status = _push(env, target, [packs.entry(BLOB, BLOB_DATA), packs.entry(TREE, raw_tree),
                                 packs.entry(COMMIT, raw_commit)], tip)
    reason = status[b"refs/heads/evil"].decode()
    assert reason.startswith(f"commit {tip[:12]}: ") and f"({rule})" in reason, reason
    assert env.blob_keys(target["id"]) == before


def test_a_tag_without_tagger_is_refused(env, target):
    raw_tree = packs.tree((b"100644", b"f", BLOB_SHA))
    raw_commit = packs.commit(packs.sha(TREE, raw_tree))
    commit_sha = packs.sha(COMMIT, raw_commit)
    raw_tag = b"object " + commit_sha.encode() + b"\ntype commit\ntag v1\n\nno tagger\n"
    tag_sha = packs.sha(TAG, raw_tag)
    status = _push(env, target, [packs.entry(BLOB, BLOB_DATA), packs.entry(TREE, raw_tree),
                                 packs.entry(COMMIT, raw_commit), packs.entry(TAG, raw_tag)], tag_sha,
                   ref=b"refs/tags/v1")
    assert status[b"refs/tags/v1"].decode() == f"tag {tag_sha[:12]}: no tagger line (missingTaggerEntry)"


def test_a_commit_whose_tree_is_a_blob_is_refused(env, target):
    before = env.blob_keys(target["id"])
    raw_commit = packs.commit(BLOB_SHA)
    tip = packs.sha(COMMIT, raw_commit)
    status = _push(env, target, [packs.entry(BLOB, BLOB_DATA), packs.entry(COMMIT, raw_commit)], tip)
    assert status[b"refs/heads/evil"].decode() == \
        f"commit {tip[:12]}: {BLOB_SHA[:12]} is a blob, not a tree (badTree)"
    raw_tree = packs.tree((b"40000", b"dir", BLOB_SHA))  # a directory entry naming a blob
    objects, tip = _commit_of_tree(raw_tree)
    status = _push(env, target, objects, tip)
    assert "is a blob, not a tree" in status[b"refs/heads/evil"].decode()
    assert env.blob_keys(target["id"]) == before


def test_one_object_named_as_a_file_and_as_a_directory_is_refused(env, target):
    """Two trees disagree on what one object is: whichever is wrong would break a checkout."""
    before = env.blob_keys(target["id"])
    as_dir = packs.tree((b"40000", b"dir", BLOB_SHA))
    root = packs.tree((b"100644", b"file", BLOB_SHA), (b"40000", b"sub", packs.sha(TREE, as_dir)))
    objects, tip = _commit_of_tree(root)
    # the root tree (rightly calling it a file) comes first: only the first referrer used to count
    status = _push(env, target, [*objects[:2], packs.entry(TREE, as_dir), objects[2]], tip)
    reason = status[b"refs/heads/evil"].decode()
    assert "disagree on the type of" in reason and BLOB_SHA[:12] in reason, reason
    assert env.blob_keys(target["id"]) == before


def test_a_thin_pack_whose_delta_base_is_missing_is_refused_with_a_reason(env, target):
    delta = packs.varint(10) + packs.varint(5) + packs.copy_op(0, 5)
    status = _push(env, target, [packs.ref_delta("ab" * 20, delta)], "cd" * 20)
    reasons = b" ".join(status.values()).decode()
    assert status[b"unpack"] != b"ok" and "internal" not in reasons and "server" not in reasons, status


def test_ref_names_must_be_utf8_and_short(env, target):
    raw_tree = packs.tree((b"100644", b"f", BLOB_SHA))
    objects, tip = _commit_of_tree(raw_tree)
    status = _push(env, target, objects, tip, ref=b"refs/heads/\xff\xfe")
    assert status[b"refs/heads/\xff\xfe"] == b"invalid ref name (not UTF-8)"
    long_ref = b"refs/heads/" + b"x" * 300
    status = _push(env, target, objects, tip, ref=long_ref)
    assert status[long_ref] == b"ref name longer than 255 bytes"


def test_odd_manifests_fail_their_check_and_the_page_still_shows(env, tmp_path):
    info = env.create("odd-manifest")
    work = env.clone(info["clone_url"], "alice", tmp_path / "w")
    commit_file(work, "template.json", "[" * 50_000)
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    head = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    _assert_check_fails_and_page_renders(env, "odd-manifest", head, "nested deeper")
    manifest = {
        "title": "x", "description": "d", "industry": "other", "useCase": "general", "tags": [],
        "status": "draft", "promptConfig": {"systemPrompt": {"file": "../x"}, "userPromptTemplate": "hi",
                                            "parameters": []},
        "mcpServers": [], "saasIntegrations": [], "agentConfig": {}, "metadata": {}}
    commit_file(work, "template.json", json.dumps(manifest))
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    head = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    _assert_check_fails_and_page_renders(env, "odd-manifest", head, "relative path")


def _assert_check_fails_and_page_renders(env, name: str, sha: str, words: str) -> None:
    validate = env.check(name, sha)
    assert validate["state"] == "failure" and words in validate["description"], validate
    page = httpx.get(f"{env.url}/alice/{name}", timeout=30)
    assert page.status_code == 200 and words in page.text


def test_search_operators_alone_are_no_error(env):
    for q in ("NOT NOT NOT", "AND OR NOT", "((("):
        assert httpx.get(f"{env.url}/api/v1/search", params={"q": q}, timeout=30).status_code == 200
        assert httpx.get(f"{env.url}/", params={"q": q}, timeout=30).status_code == 200


def test_a_dotgit_directory_pushed_with_git_is_refused(env, tmp_path):
    info = env.create("dotgit-cli")
    work = env.clone(info["clone_url"], "alice", tmp_path / "w")
    (work / "f").write_text("hi")
    blob = git("hash-object", "-w", "f", cwd=work).stdout.strip()
    inner = _mktree(work, f"100644 blob {blob}\tconfig\n")
    outer = _mktree(work, f"040000 tree {inner}\t.git\n100644 blob {blob}\tf\n")
    commit = git("commit-tree", outer, "-m", "sneaky", cwd=work).stdout.strip()
    res = git("push", "origin", f"{commit}:refs/heads/main", cwd=work, check=False)
    assert res.returncode != 0
    assert f"! [remote rejected] {commit[:7]}" in res.stderr or "[remote rejected]" in res.stderr, res.stderr
    assert f"tree {outer[:12]}: entry '.git' is not allowed (hasDotgit)" in res.stderr, res.stderr
    assert git("ls-remote", authed(info["clone_url"], "alice", env.tokens["alice"]), cwd=tmp_path).stdout == ""


def _mktree(work, listing: str) -> str:
    import subprocess

    return subprocess.run(["git", "mktree"], cwd=work, input=listing, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.parametrize("mangle, says", [
    (lambda data: data[:-1] + bytes([data[-1] ^ 1]), "checksum mismatch"),
    (lambda data: data[:40], "checksum mismatch"),  # cut short
    (lambda data: data[:-20] + b"junk" + hashlib.sha1(data[:-20] + b"junk").digest(), "junk at the end"),
    (lambda data: b"PACK", "not a pack"),
])
def test_a_broken_pack_is_refused_as_unpack_failed_not_a_server_error(env, target, mangle, says):
    before = env.blob_keys(target["id"])
    tip = packs.sha(COMMIT, packs.commit(packs.sha(TREE, b"")))
    data = mangle(packs.pack(packs.entry(TREE, b""), packs.entry(COMMIT, packs.commit(packs.sha(TREE, b"")))))
    status = raw_receive_pack(target["clone_url"], ("alice", env.tokens["alice"]), [(ZERO, tip, b"refs/heads/evil")],
                              data)
    assert status[b"unpack"].startswith(b"unpack failed: ") and says.encode() in status[b"unpack"], status
    assert status[b"refs/heads/evil"] == b"unpacker error"
    assert env.blob_keys(target["id"]) == before
