"""Commits made through the API (issue 31's server side) against a served registry, checked with
the real git CLI: they land as a push does (checks, events, webhooks, branch protection), refuse
a stale parent (412) or a stale blob (409) without storing anything, refuse hostile paths and
content, and a reader's proposal comes from their fork as a pull request."""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from api.client import ApiError, RegistryClient
from api.models.contents import ChangeContent, ChangeDelete, CheckIn, CommitIn, FileDelete, FileIn, PullIn
from tests.gitcli import commit_file, git
from tests.unit.usecases import MINIMAL

pytestmark = pytest.mark.timeout(300)
MANIFEST = {**MINIMAL, "promptConfig": {**MINIMAL["promptConfig"], "systemPrompt": {"file": "prompts/system.md"}}}


def b64(data: str | bytes) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def first_files(prompt: str = "You are careful.\nBe brief.\n") -> list[dict]:
    return [{"path": "template.json", "content_base64": b64(json.dumps(MANIFEST, indent=2) + "\n")},
            {"path": "prompts/system.md", "content_base64": b64(prompt)}]


def start(env, name: str, user: str = "alice") -> tuple[dict, str]:
    """A template of `user` with a first commit made through the API; its info and that commit."""
    info = env.create(name, user)
    with env.api(user) as c:
        made = c.post(f"/templates/{user}/{name}/commits", json={
            "branch": "main", "parent": None, "message": "First version", "changes": first_files()})
    assert made.status_code == 201, made.text
    return info, made.json()["sha"]


def tip(env, name: str, branch: str = "main", user: str = "alice") -> str | None:
    with env.api(user) as c:
        found = {b["name"]: b["sha"] for b in c.get(f"/templates/{user}/{name}/branches").json()}
    return found.get(branch)


def test_a_commit_lands_as_a_push_clones_and_gets_its_checks(env, tmp_path):
    info, first = start(env, f"wc-land-{env.backend}")
    name = info["name"]
    assert env.check(name, first)["state"] == "success"  # validate ran on it, as on a push
    with env.api() as c:
        second = c.post(f"/templates/alice/{name}/commits", json={
            "branch": "main", "parent": first, "message": "Rename the prompt, add notes",
            "changes": [{"path": "prompts/system.md", "delete": True},
                        {"path": "prompts/main.md", "content_base64": b64("You are careful.\n")},
                        {"path": "template.json", "content_base64": b64(json.dumps({**MANIFEST, "promptConfig": {
                            **MANIFEST["promptConfig"], "systemPrompt": {"file": "prompts/main.md"}}}, indent=2))},
                        {"path": "docs/notes.md", "content_base64": b64("notes\n")}]})
        assert second.status_code == 201, second.text
        body = second.json()
        assert body["parent"] == first and body["branch"] == "main" and body["pull"] is None
        assert body["template"]["full_name"] == f"alice/{name}" and body["files"]["prompts/system.md"] is None
        statuses = c.get(f"/templates/alice/{name}/commits/{body['sha']}/statuses").json()
        assert {s["context"] for s in statuses} == {"validate", "index", "sandbox"}
    assert env.check(name, body["sha"])["state"] == "success"
    work = env.clone(info["clone_url"], "alice", tmp_path / "clone")
    assert git("rev-parse", "HEAD", cwd=work).stdout.strip() == body["sha"]
    assert sorted(git("ls-files", cwd=work).stdout.split()) == ["docs/notes.md", "prompts/main.md", "template.json"]
    assert git("log", "-1", "--format=%an <%ae>|%s|%P", cwd=work).stdout.strip() == \
        f"alice <alice@registry>|Rename the prompt, add notes|{first}"
    assert git("fsck", "--strict", cwd=work).returncode == 0


def test_the_commit_is_recorded_and_hooked_as_a_push(local_env):
    env = local_env
    env.create("wc-events")
    with env.api() as c:
        hook = c.post("/templates/alice/wc-events/hooks", json={
            "url": "http://127.0.0.1:9/hook", "events": ["push"], "secret": "s"})
        assert hook.status_code == 201, hook.text
        made = c.post("/templates/alice/wc-events/commits", json={
            "branch": "main", "message": "First", "changes": first_files()})
        assert made.status_code == 201, made.text
        sha = made.json()["sha"]
        pushes = [e for e in c.get("/templates/alice/wc-events/events", params={"action": "push"}).json()]
        assert [(e["actor"], e["payload"]["after"], e["payload"]["created"]) for e in pushes] == [("alice", sha, True)]
        deadline = time.monotonic() + 20
        while not (deliveries := c.get(f"/templates/alice/wc-events/hooks/{hook.json()['id']}/deliveries").json()):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert deliveries[0]["event"] == "push"  # refused (loopback), but sent for this commit as for a push


def test_a_stale_parent_is_refused_with_the_tip_and_nothing_is_stored(local_env, tmp_path):
    env = local_env
    info, first = start(env, "wc-stale")
    work = env.clone(info["clone_url"], "alice", tmp_path / "w")
    pushed = commit_file(work, "prompts/system.md", "Pushed meanwhile.\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    with env.api() as c:
        stale = c.post("/templates/alice/wc-stale/commits", json={
            "branch": "main", "parent": first, "message": "Mine",
            "changes": [{"path": "prompts/system.md", "content_base64": b64("Mine.\n")}]})
        assert stale.status_code == 412, stale.text
        assert stale.json()["error"]["code"] == "parent_moved" and stale.json()["error"]["tip"] == pushed
        empty = c.post("/templates/alice/wc-stale/commits", json={
            "branch": "main", "parent": None, "message": "Mine", "changes": first_files()})
        assert empty.status_code == 412 and empty.json()["error"]["tip"] == pushed
    assert tip(env, "wc-stale") == pushed


def test_contents_create_replace_delete_with_blob_checks(local_env, tmp_path):
    env = local_env
    info, _ = start(env, "wc-contents")
    with RegistryClient(env.url, env.tokens["alice"]) as client:
        made = client.put_contents("alice", "wc-contents", "docs/a b.md", FileIn(message="Add", content=b64("one\n")))
        assert made.content is not None and made.content.path == "docs/a b.md" and made.content.size == 4
        with pytest.raises(ApiError) as exists:  # creating a file that exists
            client.put_contents("alice", "wc-contents", "docs/a b.md", FileIn(message="Again", content=b64("x\n")))
        assert exists.value.status == 409
        with pytest.raises(ApiError) as stale:
            client.put_contents("alice", "wc-contents", "docs/a b.md",
                                FileIn(message="Stale", content=b64("x\n"), sha="0" * 40))
        assert stale.value.status == 409
        replaced = client.put_contents("alice", "wc-contents", "docs/a b.md",
                                       FileIn(message="Replace", content=b64("two\n"), sha=made.content.sha))
        assert replaced.content is not None and replaced.content.sha != made.content.sha
        got = client.get_contents("alice", "wc-contents", "docs/a b.md")
        assert got.type == "file" and got.content is not None and base64.b64decode(got.content) == b"two\n"
        assert client.get_contents("alice", "wc-contents", "docs/a b.md", ref=made.commit.sha).sha == made.content.sha
        assert [e.name for e in client.get_contents("alice", "wc-contents", "docs").entries or []] == ["a b.md"]
        with pytest.raises(ApiError) as wrong:
            client.delete_contents("alice", "wc-contents", "docs/a b.md", FileDelete(message="Rm", sha=made.content.sha))
        assert wrong.value.status == 409
        gone = client.delete_contents("alice", "wc-contents", "docs/a b.md",
                                      FileDelete(message="Remove", sha=replaced.content.sha))
        assert gone.content is None
        with pytest.raises(ApiError) as missing:
            client.delete_contents("alice", "wc-contents", "docs/a b.md", FileDelete(message="Rm", sha=made.content.sha))
        assert missing.value.status == 404
    with env.api() as c:  # the raw answer: 201 on create, 200 on replace, as GitHub's
        created = c.put("/templates/alice/wc-contents/contents/x.md", json={"message": "x", "content": b64("x")})
        assert created.status_code == 201 and created.json()["commit"]["branch"] == "main"
        replaced = c.put("/templates/alice/wc-contents/contents/x.md", json={
            "message": "y", "content": b64("y"), "sha": created.json()["content"]["sha"]})
        assert replaced.status_code == 200, replaced.text
    work = env.clone(info["clone_url"], "alice", tmp_path / "w")
    assert sorted(git("ls-files", cwd=work).stdout.split()) == ["prompts/system.md", "template.json", "x.md"]
    assert (work / "x.md").read_text() == "y"
    log = git("log", "--format=%s", cwd=work).stdout.split("\n")
    assert log[:5] == ["y", "x", "Remove", "Replace", "Add"]


def test_protection_refuses_a_direct_commit_but_a_new_branch_and_pull_request_land(local_env, tmp_path):
    env = local_env
    info, first = start(env, "wc-guarded")
    with env.api() as c:
        assert c.put("/templates/alice/wc-guarded/protection/main", json={"required_approvals": 1}).status_code == 200
        change = [{"path": "prompts/system.md", "content_base64": b64("Be kind.\n")}]
        direct = c.post("/templates/alice/wc-guarded/commits", json={
            "branch": "main", "parent": first, "message": "Direct", "changes": change})
        assert direct.status_code == 403 and direct.json()["error"]["code"] == "branch_protected", direct.text
        assert c.put("/templates/alice/wc-guarded/contents/x.md", json={
            "message": "x", "content": b64("x")}).status_code == 403
        proposed = c.post("/templates/alice/wc-guarded/commits", json={
            "branch": "main", "parent": first, "message": "Kinder", "changes": change, "new_branch": "kinder",
            "create_pull": {"title": "Be kind", "body": "please"}})
        assert proposed.status_code == 201, proposed.text
        body = proposed.json()
        assert body["branch"] == "kinder" and body["pull"]["base"]["branch"] == "main"
        assert body["pull"]["head"]["sha"] == body["sha"]
        pull = c.get(f"/templates/alice/wc-guarded/pulls/{body['pull']['number']}/files").json()
        assert [f["path"] for f in pull] == ["prompts/system.md"]
        again = c.post("/templates/alice/wc-guarded/commits", json={
            "branch": "main", "parent": first, "message": "Again", "changes": change, "new_branch": "kinder"})
        assert again.status_code == 409  # the branch exists
    assert tip(env, "wc-guarded") == first
    work = env.clone(info["clone_url"], "alice", tmp_path / "w")  # a git push meets the same rule
    commit_file(work, "x.md", "x\n")
    refused = git("push", "origin", "HEAD:main", cwd=work, check=False)
    assert refused.returncode != 0 and "protected branch: changes must go through a pull request" in refused.stderr


HOSTILE = ["../x.md", "prompts/../../x", ".git/config", "a/.GIT/hooks", "/etc/passwd", "a//b.md", "a/", "a\\b.md",
           ".", "x" * 300 + ".md", "a\nb", "git~1/x", ".git./x", "d/" * 40 + "f.md"]


def test_hostile_paths_are_refused_and_store_nothing(local_env):
    env = local_env
    _, first = start(env, "wc-hostile")
    with env.api() as c:
        for path in HOSTILE:  # each in a commit, and in a contents URL (where "." is the client's to resolve)
            resp = c.post("/templates/alice/wc-hostile/commits", json={
                "branch": "main", "parent": first, "message": "evil",
                "changes": [{"path": path, "content_base64": b64("x")}]})
            assert resp.status_code == 400 and "invalid path" in resp.json()["error"]["message"], (path, resp.text)
            if path != ".":
                put = c.put(f"/templates/alice/wc-hostile/contents/{quote(path, safe='')}",
                            json={"message": "evil", "content": b64("x")})
                assert put.status_code == (404 if "\n" in path else 400), (path, put.text)  # no route matches a newline
        empty = c.post("/templates/alice/wc-hostile/commits", json={
            "branch": "main", "parent": first, "message": "evil", "changes": [{"path": "", "content_base64": "eA=="}]})
        assert empty.status_code == 422
    assert tip(env, "wc-hostile") == first


def test_hostile_content_and_bodies_are_refused_and_store_nothing(local_env):
    env = local_env
    _, first = start(env, "wc-content")

    def commit(changes: list[dict], **extra) -> object:
        with env.api() as c:
            return c.post("/templates/alice/wc-content/commits", json={
                "branch": "main", "parent": first, "message": "m", "changes": changes, **extra})

    secret = commit([{"path": "notes.md", "content_base64": b64("key AKIAABCDEFGHIJKLMNOP\n")}])
    assert secret.status_code == 400 and secret.json()["error"]["code"] == "change_refused", secret.text
    assert "secret detected" in secret.json()["error"]["message"]
    leaked = commit([{"path": "template.json", "content_base64": b64(json.dumps({**MANIFEST, "saasIntegrations": [
        {"provider": "kling", "service": "t2v", "configuration": {"apiKey": "plain-literal-key"}}]}))}])
    assert leaked.status_code == 400 and leaked.json()["error"]["message"] == (
        "literal credential in template.json at $.saasIntegrations[0].configuration.apiKey: "
        "use a ${secrets.NAME} reference"), leaked.text
    assert commit([{"path": "a.md", "content_base64": "not base64!"}]).status_code == 422
    assert commit([{"path": "a.md"}]).status_code == 422
    assert commit([{"path": "a.md", "content_base64": b64("x")}], parent="nope").status_code == 422
    same = commit([{"path": "prompts/system.md", "content_base64": b64("You are careful.\nBe brief.\n")}])
    assert same.status_code == 400 and "no changes" in same.text
    twice = commit([{"path": "a.md", "content_base64": b64("x")}, {"path": "a.md", "delete": True}])
    assert twice.status_code == 400
    under_file = commit([{"path": "template.json/x", "content_base64": b64("x")}])
    assert under_file.status_code == 400 and "is a file" in under_file.text
    missing = commit([{"path": "nothing.md", "delete": True}])
    assert missing.status_code == 404
    big = commit([{"path": "big.bin", "content_base64": b64(b"\0" * (1024 * 1024))}])
    assert big.status_code == 413  # past REGISTRY_MAX_BODY_BYTES, refused while the body is read
    bad_branch = commit([{"path": "a.md", "content_base64": b64("x")}], new_branch="bad..name")
    assert bad_branch.status_code == 400
    assert tip(env, "wc-content") == first


def test_a_reader_gets_a_fork_and_a_pull_request_and_keeps_the_fork(local_env, tmp_path):
    env = local_env
    info, first = start(env, "wc-propose")
    change = [{"path": "prompts/system.md", "content_base64": b64("You are careful.\nBe brief, bob says.\n")}]
    with env.api("bob") as c:
        denied = c.post("/templates/alice/wc-propose/commits", json={
            "branch": "main", "parent": first, "message": "Bob's", "changes": change})
        assert denied.status_code == 403  # no write access, and no pull request asked for
        made = c.post("/templates/alice/wc-propose/commits", json={
            "branch": "main", "parent": first, "message": "Bob's", "changes": change,
            "create_pull": {"title": "Briefer"}})
        assert made.status_code == 201, made.text
        body = made.json()
    assert body["template"]["full_name"] == "bob/wc-propose" and body["branch"] == "bob-patch-1"
    assert body["pull"]["head"]["owner"] == "bob" and body["pull"]["base"]["branch"] == "main"
    with env.api("alice") as c:
        pull = c.get(f"/templates/alice/wc-propose/pulls/{body['pull']['number']}").json()
        assert pull["author"] == "bob" and pull["head"]["sha"] == body["sha"]
    assert tip(env, "wc-propose") == first  # the template itself is untouched
    # alice moves on; bob's next proposal reuses his fork, which is older than the new parent
    work = env.clone(info["clone_url"], "alice", tmp_path / "alice")
    newer = commit_file(work, "README.md", "# read me\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    with env.api("bob") as c:
        again = c.post("/templates/alice/wc-propose/commits", json={
            "branch": "main", "parent": newer, "message": "More", "changes": change,
            "create_pull": {"title": "Briefer again"}})
        assert again.status_code == 201, again.text
        assert again.json()["template"]["full_name"] == "bob/wc-propose" and again.json()["branch"] == "bob-patch-2"
        forks = [t for t in c.get("/templates", params={"owner": "bob"}).json() if t["name"].startswith("wc-propose")]
        assert len(forks) == 1
    mine = env.clone(f"{env.url}/bob/wc-propose.git", "bob", tmp_path / "bob")
    git("fetch", "-q", "origin", "bob-patch-2", cwd=mine)
    assert git("log", "-1", "--format=%P", "FETCH_HEAD", cwd=mine).stdout.strip() == newer
    assert "bob says" in git("show", "FETCH_HEAD:prompts/system.md", cwd=mine).stdout
    assert git("fsck", "--strict", cwd=mine).returncode == 0


def test_check_reports_what_a_push_would_meet_at_file_and_line(local_env):
    env = local_env
    start(env, "wc-check")
    broken = {**MANIFEST, "industry": "space"}
    with RegistryClient(env.url) as anonymous:  # reading suffices
        ok = anonymous.check_changes("alice", "wc-check", CheckIn(ref="main", changes=[
            ChangeContent(path="prompts/system.md", content_base64=b64("Fine.\n"))]))
        assert ok.valid and ok.problems == []
        found = anonymous.check_changes("alice", "wc-check", CheckIn(ref="main", changes=[
            ChangeContent(path="prompts/system.md", content_base64=b64("Line one.\nHello {{ who }\n")),
            ChangeContent(path="../evil", content_base64=b64("x")),
            ChangeContent(path="k.md", content_base64=b64("AKIAABCDEFGHIJKLMNOP"))]))
        schema = anonymous.check_changes("alice", "wc-check", CheckIn(ref="main", changes=[
            ChangeContent(path="template.json", content_base64=b64(json.dumps(broken, indent=2)))]))
    problems = {(p.path, p.line): p.message for p in found.problems}
    assert not found.valid and len(problems) == 3
    assert "entry '..' is not allowed" in problems[("../evil", None)]
    assert "secret detected" in problems[("k.md", None)]
    assert "Jinja2 syntax error" in problems[("prompts/system.md", 2)]  # in the prompt file, at its line
    industry_line = json.dumps(broken, indent=2).splitlines().index('  "industry": "space",') + 1
    assert [(p.path, p.line, p.json_path) for p in schema.problems] == [("template.json", industry_line, "$.industry")]
    with RegistryClient(env.url, env.tokens["alice"]) as client:
        fresh = client.check_changes("alice", "wc-check", CheckIn(ref=None, changes=[
            ChangeContent(path="template.json", content_base64=b64("{\n  \"title\": 1,\n"))]))
    assert [(p.path, p.line) for p in fresh.problems] == [("template.json", 3)]  # JSON syntax, at its line


def test_a_commit_in_an_empty_template_then_the_client_round_trip(local_env, tmp_path):
    env = local_env
    info = env.create("wc-client")
    with RegistryClient(env.url, env.tokens["alice"]) as client:
        made = client.create_commit("alice", "wc-client", CommitIn(branch="main", message="First", changes=[
            ChangeContent(**f) for f in first_files()]))
        branch = client.create_commit("alice", "wc-client", CommitIn(
            branch="main", parent=made.sha, message="Side", new_branch="side",
            changes=[ChangeDelete(path="template.json", delete=True)], create_pull=PullIn(title="Drop the manifest")))
        assert branch.pull is not None and branch.pull.number >= 1 and branch.parent == made.sha
        with pytest.raises(ApiError) as caught:
            client.create_commit("alice", "wc-client", CommitIn(branch="nope", parent=made.sha, message="x", changes=[
                ChangeContent(path="a", content_base64=b64("a"))]))
        assert caught.value.status == 404
    work = env.clone(info["clone_url"], "alice", tmp_path / "w")
    assert git("symbolic-ref", "HEAD", cwd=work).stdout.strip() == "refs/heads/main"
    git("fetch", "-q", "origin", "side", cwd=work)
    assert git("ls-tree", "--name-only", "-r", "FETCH_HEAD", cwd=work).stdout.split() == ["prompts/system.md"]
    assert Path(work / "template.json").exists()
