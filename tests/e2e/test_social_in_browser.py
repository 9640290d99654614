"""Star, rate (with a short review) and fork from the template page, in Chromium (issue 15)."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_review_in_browser import _page, _sign_in
from tests.gitcli import commit_file, git
from tests.unit.usecases import MINIMAL

pytestmark = pytest.mark.timeout(300)


def test_star_rate_and_fork_from_the_template_page(web_env, browser, artifacts, tmp_path):
    info = web_env.create("social")
    work = web_env.clone(info["clone_url"], "alice", tmp_path / "w")
    commit_file(work, "template.json", json.dumps(MINIMAL))
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    dialogs: list[str] = []
    bob = _page(browser, web_env, dialogs)
    _sign_in(bob, web_env, "bob")
    bob.goto("/alice/social")
    expect(bob.locator("#stars")).to_have_text("0")
    bob.click("#star-button")
    expect(bob.locator("#stars")).to_have_text("1")
    expect(bob.locator("#star-button")).to_have_text("Unstar")
    bob.select_option("#rate-form select[name=score]", "4")
    bob.fill("#rate-form textarea[name=review]", "Clear, <b>short</b> and to the point")
    bob.click("#rate-button")
    expect(bob.locator("#rating")).to_have_text("4.0")
    expect(bob.locator("#reviews")).to_contain_text("Clear, <b>short</b> and to the point")  # shown as text
    bob.screenshot(path=artifacts / "starred-and-rated.png", full_page=True)
    bob.click("#fork-button")
    expect(bob).to_have_url(re.compile(r"/bob/social$"))
    expect(bob.locator("#fork-parent")).to_contain_text("alice/social")
    bob.click("#star-button")  # stars belong to the fork now; the parent's count stays
    bob.goto("/alice/social")
    bob.click("#star-button")  # unstar the parent
    expect(bob.locator("#stars")).to_have_text("0")
    assert dialogs == []
