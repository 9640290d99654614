"""Change notifications in Chromium: a template page and a pull request's page show, without a
reload, that a push, a check, a review or a comment happened (server-sent events read from the
events record), in a polite live region; no CSP violation (open_page), axe AA."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser import assert_accessible
from tests.gitcli import commit_file, git

pytestmark = pytest.mark.timeout(300)
MANIFEST = {"title": "News", "description": "d", "industry": "other", "useCase": "testing", "status": "published",
            "promptConfig": {"systemPrompt": "Be brief.", "userPromptTemplate": "About {{ topic }}.",
                             "parameters": [{"name": "topic", "type": "string", "default": "tides"}]}}


def test_pages_show_what_happened_since_they_were_opened(web_env, open_page, tmp_path):
    info = web_env.create("news-pages")
    work = web_env.clone(info["clone_url"], "alice", tmp_path / "w")
    first = commit_file(work, "template.json", json.dumps(MANIFEST, indent=2) + "\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    for context in ("validate", "index", "sandbox"):  # else one ending after the page opened is news
        assert web_env.check("news-pages", first, context, timeout=60)["state"] == "success"
    page = open_page(web_env.url)
    page.goto("/alice/news-pages")
    news = page.locator("#news")
    expect(news).to_be_hidden()
    commit_file(work, "README.md", "# news\n")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    expect(news.locator("li").filter(has_text="alice pushed to main")).to_be_visible(timeout=10_000)
    expect(news.locator("li").filter(has_text="check validate")).to_be_visible(timeout=30_000)
    assert_accessible(page)
    git("checkout", "-q", "-b", "feature", cwd=work)
    commit_file(work, "notes.md", "notes\n")
    git("push", "-q", "origin", "feature", cwd=work)
    with web_env.api() as api:
        pull = api.post("/templates/alice/news-pages/pulls", json={"title": "Notes", "head": "feature", "base": "main"})
        assert pull.status_code == 201, pull.text
    number = pull.json()["number"]
    pull_page = open_page(web_env.url)
    pull_page.goto(f"/alice/news-pages/pulls/{number}")
    with web_env.api("bob") as api:
        assert api.post(f"/templates/alice/news-pages/pulls/{number}/comments",
                        json={"body": "Looks right"}).status_code == 201
    items = pull_page.locator("#news li")
    expect(items.filter(has_text=f"bob commented on #{number}")).to_be_visible(timeout=10_000)
    with web_env.api("bob") as api:
        assert api.post(f"/templates/alice/news-pages/pulls/{number}/reviews",
                        json={"event": "APPROVE", "body": "Ship it"}).status_code in (200, 201)
    expect(items.filter(has_text=f"bob reviewed #{number}: approved")).to_be_visible(timeout=10_000)
    commit_file(work, "notes.md", "more notes\n")
    git("push", "-q", "origin", "feature", cwd=work)
    expect(items.filter(has_text="alice pushed to feature")).to_be_visible(timeout=10_000)
    expect(page.locator("#news li").filter(has_text=f"bob commented on #{number}")).to_be_visible(timeout=10_000)
    assert_accessible(pull_page)
