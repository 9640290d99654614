"""A conflicted pull request resolved in Chromium with JavaScript off, by keyboard alone: from the
pull page to its conflicts, a choice per hunk (both sides of a prompt line, an edited manifest
title, the base's test case), Commit merge, then the merge itself; what git's main holds after."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser import screenshot
from tests.keyboard import activate, fill_by_keyboard, tab_to, type_here
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

