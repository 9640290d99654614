"""Editing on the web without script, over plain HTTP against a served registry: check, preview,
commit directly, propose from a fork, add and delete files, and a branch that moved meanwhile is
never overwritten (a clean merge is offered, a conflict is shown)."""
from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.gitcli import commit_file, git
from tests.webclient import csrf as _csrf
from tests.webclient import signed_in as _login

pytestmark = pytest.mark.timeout(300)

SYSTEM = "You study {{ topic }}.\nLine two.\nLine three.\nLine four.\nLine five.\n"
MANIFEST = {"title": "Web edit", "description": "d", "industry": "other", "useCase": "testing", "status": "published",
            "promptConfig": {"systemPrompt": {"file": "prompts/system.md"}, "userPromptTemplate": "About {{ topic }}.",
                             "parameters": [{"name": "topic", "type": "string", "default": "tides"}]}}




def _form(html: str) -> dict[str, str]:
    """The editor form's fields as the page carries them."""
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))
    fields["path"] = re.search(r'<input name="path" value="([^"]*)"', html).group(1)
    fields["content"] = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1).replace("&#34;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    fields["message"] = "web change"
    return fields


@pytest.fixture(scope="module")
def repo(_shared_local, tmp_path_factory):
    env = _shared_local
    info = env.create("web-edit")
    work = env.clone(info["clone_url"], "alice", tmp_path_factory.mktemp("web-edit") / "w")
    commit_file(work, "prompts/system.md", SYSTEM)
    commit_file(work, "template.json", json.dumps(MANIFEST, indent=2) + "\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    return env, work


def test_check_preview_and_commit_directly(repo, tmp_path):
    env, _ = repo
    alice = _login(env, "alice")
    page = alice.get("/alice/web-edit/edit/main/prompts/system.md")
    assert page.status_code == 200 and "You study {{ topic }}." in page.text
    csp = page.headers["content-security-policy"]
    nonce = re.search(r'<meta name="csp-nonce" content="([^"]+)"', page.text).group(1)
    assert "script-src 'self';" in csp and f"'nonce-{nonce}'" in csp and "unsafe" not in csp
    assert '<script src="/static/editor.js" defer></script>' in page.text
    assert 'id="preview-user">About tides.' in page.text  # the prompts rendered with the defaults

    form = _form(page.text)
    broken = {**form, "content": SYSTEM.replace("{{ topic }}", "{{ subject }}"), "action": "check"}
    checked = alice.post("/alice/web-edit/edit/main/prompts/system.md", data=broken)
    assert checked.status_code == 200
    assert re.search(r"line 1: variable &#39;subject&#39; is not a declared parameter", checked.text), checked.text[-3000:]
    assert "{{ subject }}" in checked.text  # what was typed is kept

    edited = {**form, "content": SYSTEM.replace("Line two.", "Line two, sharper."), "action": "preview"}
    preview = alice.post("/alice/web-edit/edit/main/prompts/system.md", data={**edited, "p:topic": "eels"})
    assert "Line two, sharper." in preview.text and 'class="add">Line two, sharper.' in preview.text
    assert 'id="preview-system">You study eels.' in preview.text

    done = alice.post("/alice/web-edit/edit/main/prompts/system.md", data={**edited, "action": "commit", "choice": "direct"})
    assert done.status_code == 303 and done.headers["location"] == "/alice/web-edit/blob/main/prompts/system.md"
    clone = env.clone(f"{env.url}/alice/web-edit.git", "alice", tmp_path / "c")
    assert "Line two, sharper." in (clone / "prompts" / "system.md").read_text()
    author = git("log", "-1", "--format=%an|%s", cwd=clone).stdout.strip()
    assert author == "alice|web change"
    sha = git("rev-parse", "HEAD", cwd=clone).stdout.strip()
    assert env.check("web-edit", sha)["state"] == "success"  # checks ran as on a push


def test_a_branch_that_moved_is_merged_or_shown_never_overwritten(repo):
    env, work = repo
    alice = _login(env, "alice")
    form = _form(alice.get("/alice/web-edit/edit/main/prompts/system.md").text)
    git("pull", "-q", "origin", "main", cwd=work)
    text = (work / "prompts" / "system.md").read_text()
    commit_file(work, "prompts/system.md", text.replace("Line five.", "Line five, pushed."), "concurrent push")
    git("push", "-q", "origin", "HEAD:main", cwd=work)

    mine = {**form, "content": form["content"].replace("Line three.", "Line three, edited."), "action": "commit",
            "choice": "direct"}
    stale = alice.post("/alice/web-edit/edit/main/prompts/system.md", data=mine)
    assert stale.status_code == 409 and 'id="stale-merged"' in stale.text
    merged = _form(stale.text)
    assert "Line three, edited." in merged["content"] and "Line five, pushed." in merged["content"]
    assert merged["parent"] != form["parent"]
    again = alice.post("/alice/web-edit/edit/main/prompts/system.md", data={**merged, "action": "commit", "choice": "direct"})
    assert again.status_code == 303

    clash = {**form, "content": form["content"].replace("Line five.", "Line five, mine."), "action": "commit",
             "choice": "direct"}
    conflict = alice.post("/alice/web-edit/edit/main/prompts/system.md", data=clash)
    assert conflict.status_code == 409 and 'id="stale-conflicts"' in conflict.text
    assert "Line five, mine." in conflict.text  # the person's text stays


def test_a_reader_proposes_from_a_fork_and_files_are_added_and_deleted(repo):
    env, _ = repo
    bob = _login(env, "bob")
    page = bob.get("/alice/web-edit/edit/main/template.json")
    assert page.status_code == 200 and 'id="no-direct"' in page.text
    form = _form(page.text)
    proposed = bob.post("/alice/web-edit/edit/main/template.json",
                        data={**form, "content": form["content"].replace('"Web edit"', '"Web edit, by bob"'),
                              "action": "commit", "choice": "pull"})
    assert proposed.status_code == 303 and re.fullmatch(r"/alice/web-edit/pulls/\d+", proposed.headers["location"])
    pull = bob.get(proposed.headers["location"])
    assert "<code>bob:" in pull.text and "Web edit, by bob" in pull.text

    alice = _login(env, "alice")
    new = alice.get("/alice/web-edit/new/main/prompts")
    fields = {**_form(new.text), "path": "prompts/extra.md", "content": "Extra {{ topic }}\n", "action": "commit",
              "choice": "direct"}
    assert alice.post("/alice/web-edit/new/main/prompts", data=fields).status_code == 303
    blob = alice.get("/alice/web-edit/blob/main/prompts/extra.md")
    assert blob.status_code == 200 and 'id="delete-form"' in blob.text
    gone = alice.post("/alice/web-edit/delete/main/prompts/extra.md",
                      data={"csrf": _csrf(blob.text), "parent": re.search(r'name="parent" value="([0-9a-f]+)"', blob.text).group(1),
                            "choice": "direct", "message": "drop it"})
    assert gone.status_code == 303 and alice.get("/alice/web-edit/blob/main/prompts/extra.md").status_code == 404


def test_bad_input_keeps_the_text_and_the_live_check_needs_the_csrf_token(repo):
    env, _ = repo
    alice = _login(env, "alice")
    page = alice.get("/alice/web-edit/edit/main/prompts/system.md")
    form = _form(page.text)
    bad = alice.post("/alice/web-edit/edit/main/prompts/system.md",
                     data={**form, "path": "../escape.md", "content": "kept text", "action": "commit", "choice": "direct"})
    assert bad.status_code == 422 and 'id="edit-error"' in bad.text and "kept text" in bad.text
    assert alice.post("/alice/web-edit/edit/main/prompts/system.md", data={**form, "csrf": "nope"}).status_code == 403
    body = {"path": "prompts/system.md", "content": "{{ nope }}", "parent": form["parent"], "params": {"topic": "x"}}
    live = alice.post("/alice/web-edit/-/check", json=body, headers={"X-CSRF-Token": _csrf(page.text)})
    assert live.status_code == 200, live.text
    answer = live.json()
    assert answer["problems"] == [{"path": "prompts/system.md", "line": 1,
                                   "message": "variable 'nope' is not a declared parameter"}]
    assert "nope" in answer["preview"]["error"]  # the preview says why it cannot render
    fine = alice.post("/alice/web-edit/-/check", json={**body, "content": "Hello {{ topic }}"},
                      headers={"X-CSRF-Token": _csrf(page.text)}).json()
    assert fine["problems"] == [] and fine["preview"]["system"] == "Hello x" and fine["preview"]["user"] == "About x."
    assert alice.post("/alice/web-edit/-/check", json=body).status_code == 403
    assert alice.post("/alice/web-edit/-/check", content=b"[1, 2", headers={"X-CSRF-Token": _csrf(page.text)}).status_code == 400
    anonymous = httpx.get(f"{env.url}/alice/web-edit/edit/main/prompts/system.md")
    assert anonymous.status_code == 401


def test_files_are_uploaded_into_a_folder_bounded_by_the_file_limit(repo):
    env, _ = repo
    alice = _login(env, "alice")
    page = alice.get("/alice/web-edit/upload/main/prompts")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    csrf = _csrf(page.text)
    parent = re.search(r'name="parent" value="([0-9a-f]+)"', page.text).group(1)
    case = json.dumps({"name": "uploaded", "parameters": {"topic": "x"}, "assert": [{"type": "contains", "value": "x"}]})
    done = alice.post("/alice/web-edit/upload/main/prompts",
                      data={"csrf": csrf, "parent": parent, "choice": "direct", "message": "two cases"},
                      files=[("files", ("../../evil/a.json", case.encode(), "application/json")),
                             ("files", ("b.json", case.encode(), "application/json"))])
    assert done.status_code == 303 and done.headers["location"] == "/alice/web-edit/tree/main/prompts"
    listing = alice.get("/alice/web-edit/tree/main/prompts").text
    assert "a.json" in listing and "b.json" in listing  # the client's folders are not the server's
    assert alice.get("/alice/web-edit/tree/main/evil").status_code == 404
    big = alice.post("/alice/web-edit/upload/main/prompts", data={"csrf": csrf, "parent": parent, "choice": "direct"},
                     files=[("files", ("huge.bin", b"\0" * (20 * 1024 * 1024 + 1), "application/octet-stream"))])
    assert big.status_code == 413
    none = alice.post("/alice/web-edit/upload/main/prompts", data={"csrf": csrf, "parent": parent, "choice": "direct"})
    assert none.status_code == 400
