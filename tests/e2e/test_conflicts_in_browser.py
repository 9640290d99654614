"""A conflicted pull request resolved in Chromium by keyboard alone: with JavaScript off, from the
pull page to its conflicts, a choice per hunk (both sides of a prompt line, an edited manifest
title, the base's test case), Commit merge, then the merge itself; what git's main holds after.
With JavaScript on, on a phone's width: the edit boxes are CodeMirror editors (styles by the CSP
nonce, JSON highlighted) that follow the side picked, one typed into picks "Edit", Escape then Tab
leaves it, and the merge commit holds what was typed."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser import PHONE_WIDTH, assert_accessible, assert_fits_width, screenshot
from tests.keyboard import activate, fill_by_keyboard, focused, tab_to, type_here
from tests.web_scenario import build_conflict

pytestmark = pytest.mark.timeout(300)


def _choose(page, steps: int) -> None:
    """Tab into the next hunk's choices (it opens on "Keep ours") and move `steps` choices on with
    the arrow key, which selects as it moves."""
    tab_to(page, re.compile(r"^Keep ours"), role="radio")
    for _ in range(steps):
        page.keyboard.press("ArrowRight")


def test_resolve_a_conflict_with_javascript_off_and_merge(web_env, open_page, tmp_path):
    s = build_conflict(web_env, "conflicts-browser", tmp_path)
    page = open_page(web_env.url, js=False)
    page.goto("/login")
    fill_by_keyboard(page, "User", "alice")
    fill_by_keyboard(page, "Token", web_env.tokens["alice"])
    activate(page, "Enter")
    page.locator("header .who").filter(has_text="alice").wait_for()

    page.goto(f"/alice/{s.name}/pulls/{s.number}")
    expect(page.locator("#conflicts")).to_contain_text("template.json:$.title")
    tab_to(page, "Resolve conflicts")
    activate(page, "Enter")
    expect(page).to_have_url(re.compile(rf"/pulls/{s.number}/conflicts$"))
    expect(page.locator("fieldset.hunk")).to_have_count(3)
    expect(page.locator("#file-0 .side.ours pre")).to_contain_text("<script>alert('ours')</script>")  # as text
    screenshot(page, "conflicts")

    _choose(page, 2)  # prompts/system.md line 2: ours, theirs, both
    expect(page.locator("#file-0 input[value=both]")).to_be_checked()
    _choose(page, 2)  # template.json $.title: ours, theirs, edit
    expect(page.locator("#file-1 input[value=edit]")).to_be_checked()
    tab_to(page, "Edited text (JSON)")
    page.keyboard.press("Control+A")
    type_here(page, '"Resolved in Chromium"')
    _choose(page, 1)  # tests/basic.json's case: main's
    expect(page.locator("#file-2 input[value=theirs]")).to_be_checked()
    tab_to(page, "Commit merge")
    activate(page, "Enter")

    expect(page).to_have_url(re.compile(rf"/pulls/{s.number}#merge$"))
    expect(page.locator("#conflicts")).to_have_count(0)
    tab_to(page, "Merge pull request")
    activate(page, "Enter")
    expect(page.locator("#pull-state")).to_have_text("merged")
    with web_env.api() as c:
        raw = c.get(f"/templates/alice/{s.name}/raw/main/template.json")
        prompt = c.get(f"/templates/alice/{s.name}/raw/main/prompts/system.md").text
        case = c.get(f"/templates/alice/{s.name}/raw/main/tests/basic.json").json()
    manifest = json.loads(raw.text)
    assert (manifest["title"], manifest["tags"], manifest["description"]) == (
        "Resolved in Chromium", ["feature"], "From main")
    assert "Be brief. <script>alert('ours')</script>\nBe short. <img" in prompt
    assert case[0]["parameters"] == {"quarter": "Q1"}



def test_resolve_a_conflict_by_typing_into_the_editor_on_a_phone(web_env, open_page, tmp_path):
    s = build_conflict(web_env, "conflicts-editor", tmp_path)
    page = open_page(web_env.url, width=PHONE_WIDTH)
    page.goto("/login")
    fill_by_keyboard(page, "User", "bob")
    fill_by_keyboard(page, "Token", web_env.tokens["bob"])
    activate(page, "Enter")
    page.locator("header .who").filter(has_text="bob").wait_for()

    page.goto(f"/alice/{s.name}/pulls/{s.number}/conflicts")
    editors = page.locator("fieldset.hunk .cm-editor")
    expect(editors).to_have_count(3)  # every hunk's edit box, over its textarea
    expect(page.locator("fieldset.hunk textarea")).to_have_count(3)
    for box in page.locator("fieldset.hunk textarea").all():
        expect(box).to_be_hidden()
    # CodeMirror's own styles applied: injected with the response's nonce (a refused style is a
    # CSP violation, which fails the test at its end)
    assert editors.first.evaluate("(el) => getComputedStyle(el).display") == "flex"
    title = page.locator("#file-1").get_by_role("textbox", name="Edited text (JSON)", exact=True)
    expect(title).to_have_attribute("aria-describedby", "editor-help")

    _choose(page, 1)  # prompts/system.md line 2: theirs; the editor follows the side picked
    theirs_line = "Be short. <img src=x onerror=alert('theirs')>"
    expect(page.locator("#text-0-0")).to_have_value(theirs_line + "\n")
    expect(page.locator("#file-0 .cm-content")).to_contain_text(theirs_line)  # as text
    expect(page.locator("#file-0 input[value=theirs]")).to_be_checked()

    tab_to(page, "Edited text (JSON)", role="textbox")  # template.json $.title: typed, no side picked
    expect(title).to_be_focused()
    page.keyboard.press("Control+A")
    type_here(page, '"Typed in CodeMirror"')
    expect(page.locator("#file-1 input[value=edit]")).to_be_checked()  # typing picks the edit
    expect(page.locator("#text-1-0")).to_have_value('"Typed in CodeMirror"')  # the form's field follows
    expect(page.locator("#file-1 .cm-line span").first).to_be_visible()  # highlighted as JSON
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")  # out of the editor, to the next hunk's choices
    now = focused(page)
    assert now is not None and now["what"].startswith("input") and 'Keep ours' in now["what"], now
    expect(page.locator("#file-2 input[value=ours]")).to_be_focused()
    page.keyboard.press("ArrowRight")  # tests/basic.json's case: main's
    expect(page.locator("#file-2 input[value=theirs]")).to_be_checked()
    expect(page.locator("#text-2-0")).to_have_value(re.compile(r'"Q1"'))

    assert_accessible(page)
    assert_fits_width(page)
    screenshot(page, "conflicts-editor")
    tab_to(page, "Commit merge")
    activate(page, "Enter")
    expect(page).to_have_url(re.compile(rf"/pulls/{s.number}#merge$"))
    expect(page.locator("#conflicts")).to_have_count(0)
    with web_env.api() as c:
        manifest = c.get(f"/templates/alice/{s.name}/raw/feature/template.json").json()
        prompt = c.get(f"/templates/alice/{s.name}/raw/feature/prompts/system.md").text
        case = c.get(f"/templates/alice/{s.name}/raw/feature/tests/basic.json").json()
    assert (manifest["title"], manifest["tags"], manifest["description"]) == (
        "Typed in CodeMirror", ["feature"], "From main")
    assert prompt == "You are careful.\n" + theirs_line + "\nCite sources.\n"
    assert case[0]["parameters"] == {"quarter": "Q1"}
