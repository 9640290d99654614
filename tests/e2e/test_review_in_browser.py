"""The review flow in Chromium: sign in, open a pull request, comment on a line, approve, merge,
search the gallery by a facet; hostile repository content renders as text and runs nothing."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.web_scenario import XSS_BRANCH, XSS_COMMIT, XSS_FILE, XSS_TITLE, build

pytestmark = pytest.mark.timeout(300)


def _page(browser, env, dialogs: list[str]) -> Page:
    page = browser.new_context(base_url=env.url).new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return page


def _sign_in(page: Page, env, user: str) -> None:
    page.goto("/login")
    page.fill("#token-form input[name=user]", user)
    page.fill("#token-form input[name=token]", env.tokens[user])
    page.click("#token-form button[type=submit]")
    expect(page.locator("header .who")).to_have_text(user)


def _open_pull(page: Page, repo: str, title: str, body: str = "") -> None:
    page.goto(f"/{repo}/pulls")
    page.select_option("#new-pull select[name=head]", XSS_BRANCH)
    page.fill("#new-pull input[name=title]", title)
    page.fill("#new-pull textarea[name=body]", body)
    page.click("#new-pull button")
    expect(page).to_have_url(re.compile(rf"/{repo}/pulls/1$"))


def test_open_comment_approve_merge_and_search(web_env, browser, artifacts, tmp_path):
    scenario = build(web_env, "flow", tmp_path)
    dialogs: list[str] = []
    alice = _page(browser, web_env, dialogs)
    _sign_in(alice, web_env, "alice")

    _open_pull(alice, "alice/flow", "Shorter answers", "Halves *maxTokens*.")
    expect(alice.locator("#pull-state")).to_have_text("open")
    expect(alice.locator("#manifest-diff")).to_contain_text("$.promptConfig.constraints.maxTokens")

    manifest_file = alice.locator(".file").filter(has=alice.locator("code.path", has_text="template.json"))
    form = manifest_file.locator("form.line-form")
    form.locator("input[name=line]").fill(str(scenario.comment_line))
    form.locator("input[name=body]").fill("Is 400 tokens enough for a full quarter?")
    form.locator("button").click()
    row = manifest_file.locator(f"tr[id$='-R{scenario.comment_line}']")
    expect(row).to_contain_text('"maxTokens": 400')
    expect(row.locator("xpath=following-sibling::tr[1]")).to_contain_text("Is 400 tokens enough")
    expect(alice.locator("#merge-button")).to_be_disabled()
    expect(alice.locator("#blocked-by")).to_contain_text("needs 1 approval(s) of the current head, has 0")
    alice.screenshot(path=artifacts / "1-line-comment-merge-blocked.png", full_page=True)

    bob = _page(browser, web_env, dialogs)
    _sign_in(bob, web_env, "bob")
    bob.goto("/alice/flow/pulls/1")
    bob.check("#review-form input[value=APPROVE]")
    bob.fill("#review-form textarea[name=body]", "Fine by me.")
    bob.click("#review-form button")
    expect(bob.locator(".review.approve")).to_contain_text("bob approved")
    expect(bob.locator("#merge-button")).to_be_enabled()
    bob.select_option("#merge-form select[name=method]", "squash")
    bob.click("#merge-button")
    expect(bob.locator("#pull-state")).to_have_text("merged")
    expect(bob.locator("#merged-note")).to_contain_text("Merged as")
    bob.screenshot(path=artifacts / "2-merged.png", full_page=True)

    alice.goto("/alice/flow/pulls?state=merged")
    expect(alice.locator("#pulls")).to_contain_text("Shorter answers")

    bob.goto("/")
    bob.check("#filters input[name=industry][value=financial-services]")
    bob.click("#filters button")
    expect(bob).to_have_url(re.compile(r"industry=financial-services"))
    expect(bob.locator(".results a.title", has_text="alice/flow")).to_be_visible()
    bob.screenshot(path=artifacts / "3-gallery-facet.png", full_page=True)
    bob.goto("/?industry=retail")
    expect(bob.locator("#total")).to_have_text("0 templates")
    expect(bob.locator("#filters input[name=industry][value=retail]")).to_be_checked()  # the filter stays visible
    assert dialogs == []


def test_hostile_names_render_as_text(web_env, browser, artifacts, tmp_path):
    build(web_env, "hostile", tmp_path)
    dialogs: list[str] = []
    page = _page(browser, web_env, dialogs)
    _sign_in(page, web_env, "alice")
    _open_pull(page, "alice/hostile", "<img src=x onerror=alert('pr')>")
    expect(page.locator("#pull-title")).to_contain_text("<img src=x onerror=alert('pr')>")
    expect(page.get_by_text(XSS_BRANCH, exact=False).first).to_be_visible()
    expect(page.locator("#commits .message", has_text=XSS_COMMIT)).to_be_visible()
    expect(page.locator("code.path", has_text=XSS_FILE)).to_be_visible()
    page.screenshot(path=artifacts / "pull.png", full_page=True)
    page.goto("/alice/hostile/pulls/1?view=split")
    expect(page.locator("table.diff.split").first).to_be_visible()

    page.goto("/alice/hostile")
    expect(page.locator("#manifest-title")).to_have_text(XSS_TITLE)
    readme = page.locator("#readme")
    expect(readme).to_contain_text("<script>alert('readme')</script>")
    expect(readme.locator("strong")).to_have_text("credit risk")
    assert readme.locator("a[href^=javascript]").count() == 0
    page.screenshot(path=artifacts / "template.png", full_page=True)
    for url in ("/alice/hostile", "/alice/hostile/pulls", "/alice/hostile/pulls/1"):
        page.goto(url)
        assert page.locator("img[src=x], svg:not(.usage):not(.diagram), script:not([src^='/static/'])").count() == 0  # chart, scripts: ours
    assert dialogs == []
