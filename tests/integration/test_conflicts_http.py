"""A pull request made to conflict with the real git CLI, resolved over HTTP through the API and
through the page's form (no script), then merged; what git sees afterwards."""
from __future__ import annotations

import json
import re

import pytest

from tests.gitcli import git
from tests.web_scenario import build_conflict
from tests.webclient import csrf as _csrf
from tests.webclient import signed_in as _login

pytestmark = pytest.mark.timeout(300)




def _merged_files(env, work, branch: str = "main") -> dict[str, str]:
    git("fetch", "-q", "origin", cwd=work)
    git("checkout", "-q", "-B", branch, f"origin/{branch}", cwd=work)
    return {p: (work / p).read_text() for p in ("template.json", "prompts/system.md", "tests/basic.json")}


def test_resolved_through_the_api_then_merged(local_env, tmp_path):
    env = local_env
    s = build_conflict(env, "conflicts-api", tmp_path)
    url = f"/templates/alice/{s.name}/pulls/{s.number}"
    with env.api("bob") as bob, env.api("carol") as carol, env.api("alice") as alice:
        assert alice.get(f"{url}/mergeability").json()["conflicts"] == [
            "prompts/system.md", "template.json:$.title", "tests/basic.json"]
        shown = carol.get(f"{url}/conflicts").json()  # a reader sees them, and why she cannot resolve
        assert shown["can_resolve"] is False and "only those who may write" in shown["why_not"]
        shown = bob.get(f"{url}/conflicts").json()
        assert shown["can_resolve"] and (shown["head"]["sha"], shown["base"]["sha"]) == (s.head_sha, s.base_sha)
        assert shown["message"] == "Merge branch 'main' into feature"
        by_path = {f["path"]: f for f in shown["files"]}
        assert {p: (f["kind"], [h["where"] for h in f["hunks"]]) for p, f in by_path.items()} == {
            "prompts/system.md": ("lines", ["line 2"]), "template.json": ("json", ["$.title"]),
            "tests/basic.json": ("cases", ["test case 'mentions the quarter'"])}
        assert json.loads(by_path["template.json"]["hunks"][0]["theirs"]) == "Main title"
        body = {"expected_head_sha": s.head_sha, "expected_base_sha": s.base_sha, "resolutions": [
            {"path": "prompts/system.md", "hunk": 0, "choice": "edit", "text": "Be brief, and short."},
            {"path": "template.json", "hunk": 0, "choice": "theirs"}]}
        refused = carol.post(f"{url}/resolve", json=body)
        assert refused.status_code == 403, refused.text
        missing = bob.post(f"{url}/resolve", json=body)  # the test case is not decided
        assert missing.status_code == 400 and missing.json()["error"]["path"] == "tests/basic.json"
        twice = bob.post(f"{url}/resolve", json={**body, "resolutions": body["resolutions"] * 2})
        assert twice.status_code == 400 and "chosen twice" in twice.json()["error"]["message"]
        body["resolutions"].append({"path": "tests/basic.json", "hunk": 0, "choice": "base"})
        moved = bob.post(f"{url}/resolve", json={**body, "expected_base_sha": "0" * 40})
        assert moved.status_code == 412 and moved.json()["error"] == {
            "code": "base_moved", "base_sha": s.base_sha, "message": moved.json()["error"]["message"]}
        done = bob.post(f"{url}/conflicts", json=body)  # POST .../conflicts is POST .../resolve
        assert done.status_code == 201, done.text
        resolved = done.json()
        assert resolved["parents"] == [s.head_sha, s.base_sha] and resolved["branch"] == "feature"
        assert alice.get(url).json()["head"]["sha"] == resolved["sha"]
        assert alice.get(f"{url}/mergeability").json() == {"mergeable": True, "conflicts": [], "blocked_by": []}
        assert bob.get(f"{url}/conflicts").json()["files"] == []
        assert bob.post(f"{url}/resolve", json=body).status_code == 412  # the head it names is gone
        again = bob.post(f"{url}/resolve", json={"resolutions": body["resolutions"]})
        assert again.status_code == 409 and "nothing to resolve" in again.json()["error"]["message"]
        assert env.check(s.name, resolved["sha"])["state"] == "success"  # checks ran on the merge commit
        merged = alice.post(f"{url}/merge", json={"method": "merge", "expected_head_sha": resolved["sha"]})
        assert merged.status_code == 200, merged.text
    git("fetch", "-q", "origin", cwd=s.work)
    parents = git("log", "-1", "--format=%P", "origin/feature", cwd=s.work).stdout.split()
    assert parents == [s.head_sha, s.base_sha]  # GitHub's shape: head tip, then base tip
    files = _merged_files(env, s.work)
    manifest = json.loads(files["template.json"])
    assert (manifest["title"], manifest["tags"], manifest["description"]) == ("Main title", ["feature"], "From main")
    assert files["prompts/system.md"] == "You are careful.\nBe brief, and short.\nCite sources.\n"
    assert json.loads(files["tests/basic.json"])[0]["parameters"] == {"quarter": "Q3"}  # the common ancestor's


def test_resolved_through_the_form_then_merged(local_env, tmp_path):
    env = local_env
    s = build_conflict(env, "conflicts-form", tmp_path)
    bob, carol = _login(env, "bob"), _login(env, "carol")
    pull_page = bob.get(f"/alice/{s.name}/pulls/{s.number}").text
    assert f'href="/alice/{s.name}/pulls/{s.number}/conflicts"' in pull_page
    page = bob.get(f"/alice/{s.name}/pulls/{s.number}/conflicts")
    assert page.status_code == 200 and page.text.count('<fieldset class="hunk') == 3
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(&#39;ours&#39;)" in page.text
    csp = page.headers["Content-Security-Policy"]  # the edit boxes' editor, from this site only
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert '<script src="/static/editor.js" defer></script>' in page.text  # the editor's bundle, cached
    assert 'name="text:1:0" id="text-1-0" data-language="json"' in page.text  # template.json: by JSON path
    assert 'name="text:0:0" id="text-0-0" data-language="markdown"' in page.text  # a prompt
    readers = carol.get(f"/alice/{s.name}/pulls/{s.number}/conflicts").text
    assert 'id="why-not"' in readers and 'id="resolve-form"' not in readers
    paths = dict(re.findall(r'name="(path:\d+)" value="([^"]+)"', page.text))
    index = {path: key.split(":")[1] for key, path in paths.items()}
    form = {"csrf": _csrf(page.text), "expected_head_sha": s.head_sha, "expected_base_sha": s.base_sha, **paths,
            f"choice:{index['prompts/system.md']}:0": "both",
            f"choice:{index['template.json']}:0": "edit", f"text:{index['template.json']}:0": '"Both titles"',
            f"text:{index['tests/basic.json']}:0": "kept as typed",
            "message": "Take both"}
    no_csrf = bob.post(f"/alice/{s.name}/pulls/{s.number}/conflicts", data={**form, "csrf": ""})
    assert no_csrf.status_code == 403
    undecided = bob.post(f"/alice/{s.name}/pulls/{s.number}/conflicts", data=form)
    assert undecided.status_code == 422  # the test case has no choice: the page again, choices kept
    assert "choose how to resolve test case" in undecided.text and 'class="hunk invalid"' in undecided.text
    assert "kept as typed" in undecided.text and 'value="both" checked' in undecided.text
    bad_json = {**form, f"choice:{index['tests/basic.json']}:0": "theirs",
                f"text:{index['template.json']}:0": "{not json"}
    refused = bob.post(f"/alice/{s.name}/pulls/{s.number}/conflicts", data=bad_json)
    assert refused.status_code == 422 and "the edited value is not JSON" in refused.text
    by_carol = carol.post(f"/alice/{s.name}/pulls/{s.number}/conflicts",
                          data={**bad_json, "csrf": _csrf(readers)})
    assert by_carol.status_code == 403
    done = bob.post(f"/alice/{s.name}/pulls/{s.number}/conflicts",
                    data={**form, f"choice:{index['tests/basic.json']}:0": "theirs"})
    assert done.status_code == 303 and done.headers["location"] == f"/alice/{s.name}/pulls/{s.number}#merge"
    after = bob.get(done.headers["location"]).text
    assert 'id="resolve-conflicts"' not in after and 'id="conflicts"' not in after
    with env.api("alice") as alice:
        head = alice.get(f"/templates/alice/{s.name}/pulls/{s.number}").json()["head"]["sha"]
        assert alice.post(f"/templates/alice/{s.name}/pulls/{s.number}/merge",
                          json={"expected_head_sha": head}).status_code == 200
    files = _merged_files(env, s.work)
    assert json.loads(files["template.json"])["title"] == "Both titles"
    assert files["prompts/system.md"] == ("You are careful.\nBe brief. <script>alert('ours')</script>\n"
                                          "Be short. <img src=x onerror=alert('theirs')>\nCite sources.\n")
    assert json.loads(files["tests/basic.json"])[0]["parameters"] == {"quarter": "Q1"}
    assert git("log", "-1", "--format=%s", "HEAD^2", cwd=s.work).stdout.strip() == "Take both"


def test_a_stale_form_shows_the_conflicts_afresh(local_env, tmp_path):
    env = local_env
    s = build_conflict(env, "conflicts-stale", tmp_path)
    bob = _login(env, "bob")
    page = bob.get(f"/alice/{s.name}/pulls/{s.number}/conflicts").text
    (s.work / "README.md").write_text("moved\n")
    git("add", "README.md", cwd=s.work)
    git("commit", "-q", "-m", "main moves on", cwd=s.work)
    git("push", "-q", "origin", "main", cwd=s.work)
    stale = bob.post(f"/alice/{s.name}/pulls/{s.number}/conflicts", data={
        "csrf": _csrf(page), "expected_head_sha": s.head_sha, "expected_base_sha": s.base_sha})
    assert stale.status_code == 409 and 'id="moved"' in stale.text and "main moved to" in stale.text
    new_base = git("rev-parse", "HEAD", cwd=s.work).stdout.strip()
    assert f'name="expected_base_sha" value="{new_base}"' in stale.text
