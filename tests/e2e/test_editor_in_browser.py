"""The editor in Chromium as a person uses it: live problems appear without a reload and vanish
when fixed, the preview follows, the commit lands; the same edit with JavaScript off; keyboard
only; no CSP violation (open_page fails the test on one), axe AA, and a 375 px phone."""
from __future__ import annotations

import json

import pytest

from tests.browser import assert_accessible, assert_fits_width, screenshot
from tests.gitcli import commit_file, git
from tests.keyboard import activate, fill_by_keyboard, tab_to

pytestmark = pytest.mark.timeout(300)

MANIFEST = {"title": "Browser edit", "description": "d", "industry": "other", "useCase": "testing",
            "status": "published",
            "promptConfig": {"systemPrompt": {"file": "prompts/system.md"}, "userPromptTemplate": "About {{ topic }}.",
                             "parameters": [{"name": "topic", "type": "string", "default": "tides"}]}}


@pytest.fixture(scope="module")
def site(web_env, tmp_path_factory):
    info = web_env.create("browser-edit")
    work = web_env.clone(info["clone_url"], "alice", tmp_path_factory.mktemp("be") / "w")
    commit_file(work, "prompts/system.md", "You study {{ topic }}.\n")
    commit_file(work, "template.json", json.dumps(MANIFEST, indent=2) + "\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    return web_env


def _sign_in(page, env, user: str = "alice") -> None:
    page.goto("/login")
    fill_by_keyboard(page, "User", user)
    fill_by_keyboard(page, "Token", env.tokens[user])
    activate(page, "Enter")
    page.locator("header .who").filter(has_text=user).wait_for()


def test_live_problems_and_preview_then_commit(site, open_page):
    page = open_page(site.url)
    _sign_in(page, site)
    page.goto("/alice/browser-edit/edit/main/prompts/system.md")
    editor = page.locator(".cm-content")
    editor.wait_for()
    assert page.locator("textarea#content").is_hidden()  # the editor replaced it; the form still posts it
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Mind {{ mood }}.")
    problems = page.locator("#problems")
    problems.get_by_text("variable 'mood' is not a declared parameter").wait_for(timeout=5000)
    assert page.locator(".cm-lintRange-error, .cm-lint-marker-error").count() >= 1  # marked at its line
    for _ in range(len(" Mind {{ mood }}.")):
        page.keyboard.press("Backspace")
    problems.get_by_text("No problems.").wait_for(timeout=5000)
    page.locator("[data-param=topic]").fill("squid")
    page.locator("#preview-system").filter(has_text="You study squid.").wait_for(timeout=5000)
    assert_accessible(page)
    screenshot(page, "editor")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Be brief.")
    page.get_by_role("button", name="Commit changes").click()
    page.wait_for_url("**/alice/browser-edit/blob/main/prompts/system.md")
    assert "Be brief." in page.locator("#rendered").inner_text()


def test_the_same_edit_without_javascript_by_keyboard(site, open_page):
    page = open_page(site.url, js=False)
    _sign_in(page, site)
    page.goto("/alice/browser-edit/edit/main/prompts/system.md")
    textarea = page.locator("textarea#content")
    assert textarea.is_visible()
    tab_to(page, "Contents of prompts/system.md")
    page.keyboard.press("Control+End")
    page.keyboard.type("No script needed.\n")
    tab_to(page, "Check", role="button")
    activate(page, "Enter")
    page.locator("#problems").get_by_text("No problems.").wait_for()
    tab_to(page, "Commit changes", role="button")
    activate(page, "Enter")
    page.wait_for_url("**/blob/main/prompts/system.md")
    assert "No script needed." in page.locator("#rendered").inner_text()


def test_the_editor_fits_a_phone(site, open_page):
    page = open_page(site.url, width=375)
    _sign_in(page, site)
    page.goto("/alice/browser-edit/edit/main/prompts/system.md")
    page.locator(".cm-content").wait_for()
    assert_fits_width(page)
    screenshot(page, "editor-phone")


def test_create_from_the_form_then_propose_and_merge(site, open_page):
    page = open_page(site.url)
    _sign_in(page, site)
    page.get_by_role("link", name="New template").click()
    page.get_by_role("link", name="risk-report").click()
    page.get_by_label("Name").first.fill("made-in-chromium")
    page.get_by_role("button", name="Add a parameter").click()  # a round trip: the typed name is kept
    assert page.get_by_label("Name").first.input_value() == "made-in-chromium"
    page.locator("input[name=param-2-name]").fill("tone")
    page.get_by_label("User prompt").fill("Summarise {{ portfolio }} for {{ quarter }}, {{ tone }}.")
    page.get_by_role("button", name="Create template").click()
    page.wait_for_url("**/alice/made-in-chromium")
    page.locator("#prompt-user mark.param").filter(has_text="{{ tone }}").wait_for()
    screenshot(page, "template-page")

    page.goto("/alice/made-in-chromium/edit/main/prompts/system.md")
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("Cite the loan book.")
    page.get_by_label("Create a new branch and open a pull request").check()
    page.get_by_role("button", name="Commit changes").click()
    page.wait_for_url("**/alice/made-in-chromium/pulls/*")
    page.locator("#merge-button").click()
    page.locator("#merged-note").wait_for()
    page.goto("/alice/made-in-chromium/blob/main/prompts/system.md?plain=1")
    assert "Cite the loan book." in page.locator("#code").inner_text()


def test_a_reader_gets_a_fork_and_a_pull_request(site, open_page):
    page = open_page(site.url)
    _sign_in(page, site, "bob")
    page.goto("/alice/browser-edit/blob/main/prompts/system.md")
    page.get_by_role("link", name="Edit this file").click()
    page.locator("#no-direct").wait_for()  # bob may not write: his change will come from his fork
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("Suggested by bob.")
    page.get_by_role("button", name="Commit changes").click()
    page.wait_for_url("**/alice/browser-edit/pulls/*")
    assert "bob:" in page.locator("main").inner_text()


def test_a_concurrent_push_is_never_overwritten_and_the_merge_is_offered(site, open_page, tmp_path):
    page = open_page(site.url)
    _sign_in(page, site)
    page.goto("/alice/browser-edit/edit/main/template.json")
    page.locator(".cm-content").wait_for()
    work = site.clone(f"{site.url}/alice/browser-edit.git", "alice", tmp_path / "w")
    manifest = json.loads((work / "template.json").read_text())
    commit_file(work, "template.json", json.dumps({**manifest, "description": "pushed meanwhile"}, indent=2) + "\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    page.locator(".cm-content").click()
    page.keyboard.press("Control+Home")
    page.keyboard.press("End")  # after the opening brace
    page.keyboard.type(' "x-note": "from the editor",')
    page.get_by_role("button", name="Commit changes").click()
    page.locator("#stale").wait_for()
    page.locator("#stale-merged").wait_for()
    assert "pushed meanwhile" in page.locator(".cm-content").inner_text()  # theirs and mine, merged
    assert "from the editor" in page.locator(".cm-content").inner_text()
    page.get_by_role("button", name="Commit changes").click()
    page.wait_for_url("**/blob/main/template.json")


def test_copy_buttons_copy_the_rendered_prompt(site, open_page, browser):
    page = open_page(site.url)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    page.goto("/alice/browser-edit?p:topic=whales&render=1")
    button = page.locator("button[data-copy=rendered-user]")
    button.click()
    assert page.evaluate("navigator.clipboard.readText()") == "About whales."
    assert button.inner_text() == "Copied"
    nojs = open_page(site.url, js=False)
    nojs.goto("/alice/browser-edit?p:topic=whales&render=1")
    assert nojs.locator("button[data-copy]").first.is_hidden()  # no script: no dead buttons


def test_agent_steps_are_reordered_by_dragging(site, open_page, tmp_path):
    page = open_page(site.url)
    _sign_in(page, site)
    page.goto("/new?example=risk-report")
    page.get_by_label("Name").first.fill("dragged-steps")
    for step in ("first", "second"):
        page.get_by_role("button", name="Add a step").click()
        index = page.locator("#rows-step .row").count() - 1
        page.locator(f"input[name=step-{index}-id]").fill(step)
        page.locator(f"input[name=step-{index}-uses]").fill("llm")
    page.locator("#step-1").drag_to(page.locator("#step-0"))
    assert page.locator("input[name=step-0-id]").input_value() == "second"  # renumbered in the new order
    page.get_by_role("button", name="Create template").click()
    page.wait_for_url("**/alice/dragged-steps")
    clone = site.clone(f"{site.url}/alice/dragged-steps.git", "alice", tmp_path / "c")
    steps = json.loads((clone / "template.json").read_text())["agentConfig"]["steps"]
    assert [s["id"] for s in steps] == ["second", "first"]
