"""Editing together in Chromium (issue 32): "Edit together" on the editor opens a draft; two and
three browsers see each other (a list, joins announced, named cursors), typing converges and is
saved; a browser whose connection is cut keeps typing and, back, merges with nothing doubled; a
git push during the draft is merged in and shown; a conflicting push shows every side and is
settled on the page, or opens the conflict view where it is resolved hunk by hunk while another
editor types; the draft is committed; the same without script, by forms. No CSP
violation (open_page fails the test on one), axe AA."""
from __future__ import annotations

import base64
import json
import re
import signal

import httpx
import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser import assert_accessible, assert_fits_width, screenshot
from tests.gitcli import commit_file, git
from tests.keyboard import activate, fill_by_keyboard, tab_to, type_here

pytestmark = pytest.mark.timeout(300)
PROMPT = "You are careful.\nBe brief.\nCite sources.\n"
MANIFEST = {"title": "Together", "description": "d", "industry": "other", "useCase": "testing", "status": "published",
            "promptConfig": {"systemPrompt": {"file": "prompts/system.md"}, "userPromptTemplate": "About {{ topic }}.",
                             "parameters": [{"name": "topic", "type": "string", "default": "tides"}]}}


@pytest.fixture(scope="module")
def site(web_env, tmp_path_factory):
    return web_env


def _template(env, name: str, tmp_path) -> object:
    info = env.create(name)
    work = env.clone(info["clone_url"], "alice", tmp_path / name)
    commit_file(work, "prompts/system.md", PROMPT)
    commit_file(work, "template.json", json.dumps(MANIFEST, indent=2) + "\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    with env.api() as api:
        for user, role in (("bob", "writer"), ("carol", "reader")):
            assert api.put(f"/templates/alice/{name}/collaborators/{user}", json={"role": role}).status_code == 204
    return work


def _sign_in(page: Page, env, user: str) -> None:
    page.goto("/login")
    fill_by_keyboard(page, "User", user)
    fill_by_keyboard(page, "Token", env.tokens[user])
    activate(page, "Enter")
    page.locator("header .who").filter(has_text=user).wait_for()


def _editor_text(page: Page) -> str:
    """The shared document's text in this page (the hidden form field follows it)."""
    return page.locator("#content").input_value()


def _wait_text(page: Page, want: str, timeout: float = 10_000) -> None:
    page.locator(".cm-content").wait_for(timeout=timeout)
    expect(page.locator("#content")).to_have_value(want, timeout=timeout)


def _open_draft(page: Page, name: str) -> str:
    page.goto(f"/alice/{name}/edit/main/prompts/system.md")
    page.get_by_role("button", name="Edit together").click()
    page.wait_for_url(re.compile(r"/drafts/\d+"))
    page.locator(".cm-content").wait_for()
    return page.url


def _draft_without_script(site, open_page, name: str, path: str) -> Page:
    """bob's browser without script, on a new draft of `path` ("Edit together" on its editor)."""
    page = open_page(site.url, js=False)
    _sign_in(page, site, "bob")
    page.goto(f"/alice/{name}/edit/main/{path}")
    page.get_by_role("button", name="Edit together").click()
    page.wait_for_url(re.compile(r"/drafts/\d+"))
    return page


def _save_by_form(page: Page, path: str, text: str) -> None:
    page.get_by_label(f"Contents of {path}").fill(text)
    page.get_by_role("button", name="Save to the draft").click()
    expect(page.get_by_label(f"Contents of {path}")).to_have_value(text)


def test_two_and_three_browsers_edit_together_see_each_other_and_commit(site, open_page, tmp_path):
    work = _template(site, "together-browsers", tmp_path)
    alice, bob, carol = open_page(site.url), open_page(site.url), open_page(site.url)
    for page, user in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
        _sign_in(page, site, user)
    url = _open_draft(alice, "together-browsers")
    bob.goto(url)
    carol.goto(url)
    for page in (alice, bob, carol):
        _wait_text(page, PROMPT)
    presence = alice.locator("#presence")
    expect(presence).to_contain_text("bob, editing")
    expect(presence).to_contain_text("carol, watching")
    expect(alice.locator("#presence-live")).to_contain_text("joined")
    bob.locator(".cm-content").click()
    bob.keyboard.press("Control+End")
    bob.keyboard.type("Say so when unsure.\n")
    alice.locator(".cm-content").click()
    alice.keyboard.press("Control+Home")
    alice.keyboard.type("# System\n")
    want = "# System\n" + PROMPT + "Say so when unsure.\n"
    for page in (alice, bob, carol):
        _wait_text(page, want)
    expect(alice.locator(".cm-ySelectionInfo").filter(has_text="bob")).to_be_visible()  # bob's named cursor
    expect(bob.locator("#draft-status")).to_have_text("All changes saved.")
    carol.locator(".cm-content").click()
    carol.keyboard.type("carol was here")
    expect(carol.locator("#draft-status")).to_contain_text("Watching")
    assert _editor_text(carol) == want  # a reader's editor takes no typing
    alice.get_by_role("button", name="Who is here?").click()
    expect(alice.locator("#presence-live")).to_contain_text("Here now: alice (you), editing; bob, editing; carol, watching")
    assert_accessible(alice)
    screenshot(alice, "draft")
    alice.get_by_label("Message").fill("Heading and a rule, together")
    alice.get_by_role("button", name="Commit", exact=True).click()
    expect(bob.locator("#draft-notices")).to_contain_text("Committed as")
    git("pull", "-q", "origin", "main", cwd=work)
    assert (work / "prompts/system.md").read_text() == want
    assert "Co-authored-by: bob <bob@registry>" in git("log", "-1", "--format=%B", cwd=work).stdout


def test_a_cut_connection_keeps_typing_and_merges_once_when_back(site, open_page, tmp_path):
    _template(site, "together-offline", tmp_path)
    alice, bob = open_page(site.url), open_page(site.url)
    for page, user in ((alice, "alice"), (bob, "bob")):
        _sign_in(page, site, user)
    cut = {"on": False}
    sockets: list[WebSocketRoute] = []

    def route(ws: WebSocketRoute) -> None:
        sockets.append(ws)
        if not cut["on"]:
            ws.connect_to_server()  # else: a socket to nowhere, as a dead network gives

    bob.route_web_socket(re.compile(r".*/drafts/\d+/ws.*"), route)
    url = _open_draft(alice, "together-offline")
    bob.goto(url)
    _wait_text(bob, PROMPT)
    cut["on"] = True
    for ws in sockets:
        ws.close(code=1001)
    expect(bob.locator("#draft-status")).to_contain_text("Offline")
    bob.locator(".cm-content").click()
    bob.keyboard.press("Control+Home")
    bob.keyboard.type("Offline line.\n")
    alice.locator(".cm-content").click()
    alice.keyboard.press("Control+End")
    alice.keyboard.type("Online line.\n")
    _wait_text(alice, PROMPT + "Online line.\n")
    cut["on"] = False
    for ws in sockets[1:]:
        ws.close(code=1001)  # the dead one goes; y-websocket reconnects, through to the server now
    want = "Offline line.\n" + PROMPT + "Online line.\n"
    _wait_text(bob, want, 20_000)
    _wait_text(alice, want)
    expect(bob.locator("#draft-status")).to_have_text("All changes saved.", timeout=10_000)
    fresh = open_page(site.url)
    _sign_in(fresh, site, "carol")
    fresh.goto(url)
    _wait_text(fresh, want)  # stored once: nothing doubled


def test_a_push_during_the_draft_is_merged_in_and_a_conflict_is_settled_on_the_page(site, open_page, tmp_path):
    work = _template(site, "together-push", tmp_path)
    alice = open_page(site.url)
    _sign_in(alice, site, "alice")
    url = _open_draft(alice, "together-push")
    alice.locator(".cm-content").click()
    alice.keyboard.press("Control+Home")
    alice.keyboard.type("# System\n")
    expect(alice.locator("#draft-status")).to_have_text("All changes saved.")
    commit_file(work, "prompts/system.md", PROMPT.replace("Cite sources.", "Cite primary sources."))
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    merged = "# System\nYou are careful.\nBe brief.\nCite primary sources.\n"
    _wait_text(alice, merged)
    expect(alice.locator("#draft-notices")).to_contain_text("prompts/system.md came in")
    # a push that clashes with the draft's line: the draft's text stays, every side is shown
    alice.locator(".cm-content").click()
    alice.keyboard.press("Control+End")
    alice.keyboard.press("ArrowUp")
    alice.keyboard.press("End")
    alice.keyboard.type(" Always.")
    expect(alice.locator("#draft-status")).to_have_text("All changes saved.")
    ours = merged.replace("primary sources.", "primary sources. Always.")
    git("pull", "-q", "origin", "main", cwd=work)
    commit_file(work, "prompts/system.md", merged.replace("# System\n", "").replace("primary", "two"))
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    expect(alice.locator("#draft-notices")).to_contain_text("Conflicts in prompts/system.md")
    assert _editor_text(alice) == ours  # nobody's typing overwritten
    alice.goto(url)
    conflict = alice.locator("#conflicts")
    expect(conflict).to_contain_text("prompts/system.md")
    conflict.get_by_text("Theirs, at").click()
    expect(conflict).to_contain_text("Cite two sources.")
    here = alice.locator("#resolve-here fieldset.hunk")  # the same choices, under the editor
    expect(here).to_have_count(1)
    expect(here.locator(".side.theirs pre")).to_have_text("Cite two sources.\n")
    assert_accessible(alice)
    alice.set_viewport_size({"width": 375, "height": 800})
    assert_fits_width(alice)  # a phone: every side of the conflict, the editor, the forms
    alice.set_viewport_size({"width": 1280, "height": 900})
    alice.get_by_label("Message").fill("too soon")
    alice.get_by_role("button", name="Commit", exact=True).click()
    expect(alice.locator("#draft-error")).to_contain_text("settle them first")
    alice.get_by_role("button", name="Keep the draft's text").click()
    expect(alice.locator("#conflicts")).to_have_count(0)
    alice.get_by_label("Message").fill("The draft, on top of theirs")
    alice.get_by_role("button", name="Commit", exact=True).click()
    expect(alice.locator("#draft-about")).to_contain_text("Last committed as")
    git("pull", "-q", "origin", "main", cwd=work)
    assert (work / "prompts/system.md").read_text() == ours


def test_a_conflicting_push_opens_the_conflict_view_resolved_in_the_browser_then_committed(site, open_page, tmp_path):
    """alice and bob edit; a git push clashes with alice's line; her live notice links to the
    file's conflict view (base, ours, theirs per hunk); she takes theirs and edits it while bob
    types elsewhere in the file; her resolution becomes the draft's text with bob's typing kept
    and what the push added elsewhere, and the draft commits on top of the push."""
    work = _template(site, "together-resolve", tmp_path)
    alice, bob = open_page(site.url), open_page(site.url)
    _sign_in(alice, site, "alice")
    _sign_in(bob, site, "bob")
    url = _open_draft(alice, "together-resolve")
    bob.goto(url)
    _wait_text(bob, PROMPT)
    alice.locator(".cm-content").click()
    alice.keyboard.press("Control+Home")
    alice.keyboard.press("ArrowDown")
    alice.keyboard.press("End")
    alice.keyboard.type(" Always.")
    ours = PROMPT.replace("Be brief.", "Be brief. Always.")
    _wait_text(bob, ours)
    expect(alice.locator("#draft-status")).to_have_text("All changes saved.")
    commit_file(work, "prompts/system.md", PROMPT.replace("Be brief.", "Be short.") + "Be kind.\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    link = alice.locator("#draft-notices").get_by_role("link", name="Resolve the conflicts in prompts/system.md")
    expect(link).to_be_visible()
    assert _editor_text(alice) == ours  # nobody's typing overwritten by the push
    link.click()
    alice.wait_for_url(re.compile(r"/drafts/\d+/conflicts\?path=prompts/system.md$"))
    hunk = alice.locator("fieldset.hunk")
    expect(hunk).to_have_count(1)
    expect(hunk.locator(".side.ours pre")).to_have_text("Be brief. Always.\n")
    expect(hunk.locator(".side.theirs pre")).to_have_text("Be short.\n")
    expect(hunk.locator(".side.base pre")).to_have_text("Be brief.\n")
    assert_accessible(alice)
    alice.set_viewport_size({"width": 375, "height": 800})
    assert_fits_width(alice)
    alice.set_viewport_size({"width": 1280, "height": 900})
    hunk.get_by_label("Take theirs").check()
    box = hunk.locator("textarea")  # the form's field, behind the editor
    editor = hunk.get_by_role("textbox", name="Edited text", exact=True)  # CodeMirror's
    expect(box).to_be_hidden()
    expect(box).to_have_value("Be short.\n")  # the edit box follows the side picked
    expect(editor).to_contain_text("Be short.")
    tab_to(alice, "Edited text", role="textbox")  # from the choice just made, by keyboard
    alice.keyboard.press("Control+Home")
    alice.keyboard.press("End")
    alice.keyboard.press("Backspace")
    type_here(alice, ", always.")
    expect(box).to_have_value("Be short, always.\n")
    expect(hunk.get_by_label("Edit the text below")).to_be_checked()  # typing picks the edit
    alice.keyboard.press("Escape")
    alice.keyboard.press("Tab")  # Escape, then Tab: out of the editor
    expect(alice.get_by_role("button", name="Use this in the draft")).to_be_focused()
    alice.set_viewport_size({"width": 375, "height": 800})
    assert_accessible(alice)  # with the editor, on a phone
    assert_fits_width(alice)
    alice.set_viewport_size({"width": 1280, "height": 900})
    bob.locator(".cm-content").click()  # meanwhile, outside the conflict
    bob.keyboard.press("Control+Home")
    bob.keyboard.type("# System\n")
    expect(bob.locator("#draft-status")).to_have_text("All changes saved.")
    alice.get_by_role("button", name="Use this in the draft").click()
    alice.wait_for_url(re.compile(r"/drafts/\d+\?path=prompts/system.md#resolved$"))
    want = "# System\nYou are careful.\nBe short, always.\nCite sources.\nBe kind.\n"
    _wait_text(alice, want)
    _wait_text(bob, want)
    expect(alice.locator("#conflicts")).to_have_count(0)
    expect(bob.locator("#draft-notices")).to_contain_text("The conflict in prompts/system.md was settled by alice")
    alice.get_by_label("Message").fill("Shorter, and always")
    alice.get_by_role("button", name="Commit", exact=True).click()
    expect(alice.locator("#draft-about")).to_contain_text("Last committed as")
    pushed = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    git("pull", "-q", "origin", "main", cwd=work)
    assert (work / "prompts/system.md").read_text() == want
    assert git("log", "-1", "--format=%P", cwd=work).stdout.strip() == pushed  # on top of the push
    assert "Co-authored-by: bob <bob@registry>" in git("log", "-1", "--format=%B", cwd=work).stdout


def test_without_script_the_draft_is_read_saved_and_committed_by_forms(site, open_page, tmp_path):
    work = _template(site, "together-forms", tmp_path)
    page = _draft_without_script(site, open_page, "together-forms", "prompts/system.md")
    expect(page.get_by_label("Contents of prompts/system.md")).to_have_value(PROMPT)
    _save_by_form(page, "prompts/system.md", PROMPT + "Plain forms work.\n")
    page.get_by_label("Message").fill("By form")
    page.get_by_role("button", name="Commit", exact=True).click()
    expect(page.locator("#draft-about")).to_contain_text("Last committed as")
    git("pull", "-q", "origin", "main", cwd=work)
    assert (work / "prompts/system.md").read_text() == PROMPT + "Plain forms work.\n"


def test_without_script_a_drafts_conflict_is_resolved_by_keyboard_in_the_form_then_committed(site, open_page,
                                                                                             tmp_path):
    """The conflict view as a plain form: from the draft page's link, a side per hunk chosen with
    the keyboard, the manifest's title per JSON path edited, then committed (axe runs on this page
    in the test with script: it cannot run without)."""
    work = _template(site, "together-resolve-forms", tmp_path)
    page = _draft_without_script(site, open_page, "together-resolve-forms", "template.json")
    _save_by_form(page, "template.json", json.dumps({**MANIFEST, "title": "Bob's title"}, indent=2) + "\n")
    theirs = {**MANIFEST, "title": "Pushed title", "description": "Pushed description"}
    commit_file(work, "template.json", json.dumps(theirs, indent=2) + "\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    pushed = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    page.reload()
    page.get_by_role("link", name="Resolve the conflicts in template.json").click()
    expect(page.locator("fieldset.hunk legend")).to_have_text("template.json, $.title")
    tab_to(page, re.compile(r"^Keep ours"), role="radio")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # ours, theirs, edit: the arrow selects as it moves
    expect(page.get_by_label("Edit the text below")).to_be_checked()
    tab_to(page, "Edited text (JSON)")
    page.keyboard.press("Control+A")
    type_here(page, '"Both titles"')
    tab_to(page, "Use this in the draft")
    activate(page, "Enter")
    page.wait_for_url(re.compile(r"/drafts/\d+\?path=template.json#resolved$"))
    expect(page.locator("#conflicts")).to_have_count(0)
    resolved = json.loads(page.get_by_label("Contents of template.json").input_value())
    assert (resolved["title"], resolved["description"]) == ("Both titles", "Pushed description")
    page.get_by_label("Message").fill("Both titles, by form")
    page.get_by_role("button", name="Commit", exact=True).click()
    expect(page.locator("#draft-about")).to_contain_text("Last committed as")
    git("pull", "-q", "origin", "main", cwd=work)
    assert json.loads((work / "template.json").read_text())["title"] == "Both titles"
    assert git("log", "-1", "--format=%P", cwd=work).stdout.strip() == pushed


def test_two_nodes_sharing_postgresql_and_redis_and_a_node_restarted_mid_session(open_page, tmp_path):
    """alice's browser on node a, bob's on node b; node a is killed and started again while both
    type: alice's page reconnects by itself, nothing she or bob typed is lost or doubled."""
    from types import SimpleNamespace

    from tests.pg import pg_database
    from tests.services import free_port, redis_server, registry_server

    with pg_database() as db, redis_server() as redis:
        shared = {"REGISTRY_DATABASE_URL": db, "REGISTRY_REDIS_URL": redis, "REGISTRY_BLOB_DIR": str(tmp_path / "blobs"),
                  "REGISTRY_SECRET_KEY": "shared-secret"}
        port = free_port()
        with registry_server(tmp_path / "b", shared) as b:
            with registry_server(tmp_path / "a", shared, port=port) as a:
                tokens = a.accounts(("alice", "bob"), {u: (u, "write") for u in ("alice", "bob")})
                env = SimpleNamespace(tokens=tokens)
                with httpx.Client(base_url=f"{a.url}/api/v1", headers={"Authorization": f"Bearer {tokens['alice']}"},
                                  timeout=30) as api:
                    assert api.post("/templates", json={"name": "nodes"}).status_code == 201
                    assert api.put("/templates/alice/nodes/contents/prompts/system.md", json={
                        "message": "p", "content": base64.b64encode(PROMPT.encode()).decode()}).status_code == 201
                    assert api.put("/templates/alice/nodes/collaborators/bob", json={"role": "writer"}).status_code == 204
                alice, bob = open_page(a.url), open_page(b.url)
                _sign_in(alice, env, "alice")
                _sign_in(bob, env, "bob")
                url = _open_draft(alice, "nodes")
                bob.goto(url.replace(a.url, b.url))
                _wait_text(bob, PROMPT)
                expect(bob.locator("#presence")).to_contain_text("alice, editing")
                bob.locator(".cm-content").click()
                bob.keyboard.press("Control+Home")
                bob.keyboard.type("# From node b\n")
                _wait_text(alice, "# From node b\n" + PROMPT)
                expect(alice.locator("#draft-status")).to_have_text("All changes saved.")
                a.proc.send_signal(signal.SIGKILL)
                a.proc.wait(10)
                expect(alice.locator("#draft-status")).to_contain_text("Offline", timeout=15_000)
                alice.locator(".cm-content").click()
                alice.keyboard.press("Control+End")
                alice.keyboard.type("Typed while node a was down.\n")
                bob.keyboard.press("End")
                bob.keyboard.type(" (b)")
            with registry_server(tmp_path / "a", shared, port=port):
                want = "# From node b\n" + PROMPT.replace("careful.", "careful. (b)") + "Typed while node a was down.\n"
                _wait_text(alice, want, 30_000)
                _wait_text(bob, want)
                expect(alice.locator("#draft-status")).to_have_text("All changes saved.", timeout=10_000)
