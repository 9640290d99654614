"""/graphiql in Chromium under the page's strict CSP (watched: any violation fails the test):
GraphiQL loads from 'self' only, runs a query as the signed-in user, and shows the answer."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_review_in_browser import _sign_in

pytestmark = pytest.mark.timeout(120)


def test_graphiql_runs_a_query_as_the_signed_in_user(web_env, open_page, artifacts):
    page = open_page(web_env.url)
    _sign_in(page, web_env, "alice")
    page.goto("/graphiql")
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    expect(editor).to_be_visible(timeout=15_000)
    page.evaluate("document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
                  ".setValue('{ viewer { login isAdmin } }')")
    page.click(".graphiql-execute-button")
    result = page.locator(".graphiql-response .CodeMirror")
    expect(result).to_contain_text('"login": "alice"', timeout=15_000)
    page.screenshot(path=artifacts / "graphiql.png", full_page=True)
    csp = page.evaluate("fetch('/graphiql').then(r => r.headers.get('content-security-policy'))")
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp and "unsafe-inline" not in csp
