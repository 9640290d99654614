"""A draft's conflicts resolved over plain HTTP, as a browser without script does (issue 32):
the draft is edited by form, the real git CLI pushes changes that clash with it, and the draft
page links each conflicted file to its conflict view; template.json is resolved per JSON path
(the branch's other changes come in), a reader sees why she cannot, a choice left out comes back
with the choices kept, a draft typed into where it conflicts since shows its hunks afresh, and
the resolved draft commits through git on top of the push."""
from __future__ import annotations

import json
import re

import pytest

from tests.gitcli import commit_file, git
from tests.webclient import csrf, signed_in

pytestmark = pytest.mark.timeout(300)
PROMPT = "You are careful.\nBe brief.\nCite sources.\n"
EXAMPLE = {"title": "Drafted", "description": "d", "industry": "other", "useCase": "testing", "status": "published",
           "promptConfig": {"systemPrompt": {"file": "prompts/system.md"}, "userPromptTemplate": "About {{ t }}.",
                            "parameters": [{"name": "t", "type": "string", "default": "tides"}]}}


def _manifest(**changes) -> str:
    return json.dumps({**EXAMPLE, **changes}, indent=2) + "\n"


def _save(client, base: str, draft: int, path: str, shown: str, content: str):
    page = client.get(f"{base}/drafts/{draft}?path={path}").text
    return client.post(f"{base}/drafts/{draft}/save", data={"csrf": csrf(page), "path": path, "shown": shown,
                                                            "content": content})


def _form(page: str) -> dict[str, str]:
    """The conflict page's form as shown: its hidden fields."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def _conflicted(env, name: str, tmp_path):
    """alice's template `name` (bob writes, carol reads); bob's draft edits a prompt line and the
    manifest's title by form, then a git push changes both apart: (bob's client, carol's, the
    draft, the pushed sha, alice's clone, the base of the pages)."""
    info = env.create(name)
    work = tmp_path / "w"
    env.clone(info["clone_url"], "alice", work)
    commit_file(work, "prompts/system.md", PROMPT)
    commit_file(work, "template.json", _manifest())
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    with env.api() as api:
        for user, role in (("bob", "writer"), ("carol", "reader")):
            assert api.put(f"/templates/alice/{name}/collaborators/{user}",
                           json={"role": role}).status_code == 204
    base = f"/alice/{name}"
    bob, carol = signed_in(env, "bob"), signed_in(env, "carol")
    started = bob.post(f"{base}/drafts", data={"csrf": csrf(bob.get(f"{base}/edit/main/prompts/system.md").text),
                                               "branch": "main", "path": "prompts/system.md"})
    assert started.status_code == 303, started.text[-300:]
    draft = int(re.search(r"/drafts/(\d+)", started.headers["location"]).group(1))
    ours_prompt = PROMPT.replace("Be brief.", "Be brief, ours.")
    assert _save(bob, base, draft, "prompts/system.md", PROMPT, ours_prompt).status_code == 303
    assert _save(bob, base, draft, "template.json", _manifest(), _manifest(title="Draft title")).status_code == 303

    commit_file(work, "prompts/system.md", PROMPT.replace("Be brief.", "Be short."))
    commit_file(work, "template.json", _manifest(title="Pushed title", description="Pushed description"))
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    pushed = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    return bob, carol, draft, pushed, work, base


def test_a_drafts_conflicts_resolved_by_form_per_json_path_and_line_then_committed(local_env, tmp_path):
    env = local_env
    bob, carol, draft, pushed, work, base = _conflicted(env, "draft-conflicts", tmp_path)
    ours_prompt = PROMPT.replace("Be brief.", "Be brief, ours.")

    page = bob.get(f"{base}/drafts/{draft}").text
    for path in ("prompts/system.md", "template.json"):
        assert f'href="{base}/drafts/{draft}/conflicts?path={path}"' in page
    under_editor = bob.get(f"{base}/drafts/{draft}?path=template.json").text  # the same form, under the editor
    assert 'id="resolve-here"' in under_editor and f'action="{base}/drafts/{draft}/conflicts"' in under_editor
    assert under_editor.count('<fieldset class="hunk') == 1 and '<script src="/static/drafts.js"' in under_editor
    assert 'data-language="json"' in under_editor and '<script src="/static/editor.js"' not in under_editor
    assert 'id="resolve-here"' not in carol.get(f"{base}/drafts/{draft}?path=template.json").text
    shown = bob.get(f"{base}/drafts/{draft}/conflicts?path=template.json")
    assert shown.status_code == 200 and shown.text.count('<fieldset class="hunk') == 1
    assert "$.title" in shown.text and "&#34;Pushed title&#34;" in shown.text and 'id="other-conflicts"' in shown.text
    watched = carol.get(f"{base}/drafts/{draft}/conflicts?path=template.json").text
    assert 'id="why-not"' in watched and 'id="resolve-form"' not in watched
    form = _form(shown.text)
    assert form["path:0"] == "template.json" and form["shown"]
    assert carol.post(f"{base}/drafts/{draft}/conflicts", data={**form, "csrf": csrf(watched),
                                                               "choice:0:0": "theirs"}).status_code == 403
    left_out = bob.post(f"{base}/drafts/{draft}/conflicts", data={**form, "text:0:0": '"kept as typed"'})
    assert left_out.status_code == 422 and "choose how to resolve $.title" in left_out.text
    assert "kept as typed" in left_out.text and 'class="hunk invalid"' in left_out.text
    done = bob.post(f"{base}/drafts/{draft}/conflicts", data={**form, "choice:0:0": "edit",
                                                             "text:0:0": '"Both titles"'})
    assert done.status_code == 303 and done.headers["location"] == f"{base}/drafts/{draft}?path=template.json#resolved"
    with env.api("bob") as api:
        text = api.get(f"/templates/alice/draft-conflicts/drafts/{draft}").json()
        assert [k["path"] for k in text["conflicts"]] == ["prompts/system.md"]

    shown = bob.get(f"{base}/drafts/{draft}/conflicts?path=prompts/system.md")
    assert "Be brief, ours." in shown.text and "Be short." in shown.text and "line 2" in shown.text
    form = _form(shown.text)
    typed = ours_prompt.replace("Be brief, ours.", "Be brief, ours, typed since.")
    assert _save(bob, base, draft, "prompts/system.md", ours_prompt, typed).status_code == 303
    stale = bob.post(f"{base}/drafts/{draft}/conflicts", data={**form, "choice:0:0": "theirs"})
    assert stale.status_code == 409 and 'id="moved"' in stale.text and "typed since" in stale.text
    done = bob.post(f"{base}/drafts/{draft}/conflicts", data={**_form(stale.text), "choice:0:0": "both"})
    assert done.status_code == 303

    page = bob.get(f"{base}/drafts/{draft}").text
    assert 'id="conflicts"' not in page and "<code>template.json</code> (resolved)" in page
    committed = bob.post(f"{base}/drafts/{draft}/commit", data={"csrf": csrf(page), "message": "Resolved by form",
                                                                "choice": "direct"})
    assert committed.status_code == 303, committed.text[-500:]
    git("pull", "-q", "origin", "main", cwd=work)
    assert git("log", "-1", "--format=%P", cwd=work).stdout.strip() == pushed
    assert (work / "prompts/system.md").read_text() == "You are careful.\nBe brief, ours, typed since.\nBe short.\n" \
        "Cite sources.\n"
    manifest = json.loads((work / "template.json").read_text())
    assert (manifest["title"], manifest["description"]) == ("Both titles", "Pushed description")


def test_a_drafts_conflicts_through_the_api(local_env, tmp_path):
    env = local_env
    _, _, draft, _, _, _ = _conflicted(env, "draft-conflicts-api", tmp_path)
    url = f"/templates/alice/draft-conflicts-api/drafts/{draft}"
    with env.api("bob") as bob, env.api("carol") as carol:
        assert carol.get(f"{url}/conflicts", params={"path": "template.json"}).json()["can_resolve"] is False
        shown = bob.get(f"{url}/conflicts", params={"path": "template.json"}).json()
        assert shown["can_resolve"] and shown["others"] == ["prompts/system.md"]
        assert (shown["file"]["kind"], [h["where"] for h in shown["file"]["hunks"]]) == ("json", ["$.title"])
        assert json.loads(shown["file"]["hunks"][0]["ours"]) == "Draft title"
        body = {"path": "template.json", "resolutions": [{"hunk": 0, "choice": "ours"}], "shown": shown["shown"]}
        assert carol.post(f"{url}/resolve", json=body).status_code == 403
        twice = bob.post(f"{url}/resolve", json={**body, "resolutions": body["resolutions"] * 2})
        assert twice.status_code == 400 and "chosen twice" in twice.json()["error"]["message"]
        moved = bob.post(f"{url}/resolve", json={**body, "shown": "0" * 32})
        assert moved.status_code == 412 and moved.json()["error"]["code"] == "draft_moved"
        done = bob.post(f"{url}/resolve", json=body)
        assert done.status_code == 200, done.text
        manifest = json.loads(done.json()["text"])
        assert (manifest["title"], manifest["description"]) == ("Draft title", "Pushed description")
        whole = bob.post(f"{url}/resolve", json={"path": "prompts/system.md", "content": "All mine.\n"})
        assert whole.status_code == 200 and whole.json()["text"] == "All mine.\n"
        assert bob.get(url).json()["conflicts"] == []
        assert bob.get(f"{url}/conflicts", params={"path": "template.json"}).status_code == 404
