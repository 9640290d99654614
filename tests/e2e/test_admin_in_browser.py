"""The admin dashboard in Chromium, signed in by keyboard as an admin (an admin-scoped token): no
axe-core WCAG 2.1 AA violation, no CSP violation (no script at all), no horizontal scroll on a
375 px phone, charts drawn with their text; and a reader is turned away."""
from __future__ import annotations

import json

import pytest

from tests.browser import assert_accessible, assert_fits_width, screenshot
from tests.gitcli import commit_file, git
from tests.keyboard import activate, fill_by_keyboard
from tests.unit.usecases import MINIMAL

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def site(web_env, tmp_path_factory):
    web_env.tokens["root"] = web_env.server.accounts(("root",), {"root": ("root", "admin")}, admin=True)["root"]
    info = web_env.create("dash")
    work = web_env.clone(info["clone_url"], "alice", tmp_path_factory.mktemp("dash") / "w")
    sha = commit_file(work, "template.json", json.dumps(MINIMAL, indent=2))
    bad = commit_file(work, "template.json", '{"title": 1}\n', "break it")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    git("push", "-q", "origin", f"{sha}:refs/heads/good", cwd=work)
    assert web_env.check("dash", bad)["state"] == "failure"
    assert web_env.check("dash", sha, "sandbox", timeout=60)["state"] == "success"
    return web_env


def _sign_in(page, env, user: str) -> None:
    page.goto("/login")
    fill_by_keyboard(page, "User", user)
    fill_by_keyboard(page, "Token", env.tokens[user])
    activate(page, "Enter")
    page.locator("header .who").filter(has_text=user).wait_for()


@pytest.mark.parametrize("js", [True, False], ids=["script-on", "script-off"])
def test_the_dashboard_passes_axe_and_fits_a_phone(site, open_page, js):
    page = open_page(site.url, js=js)
    _sign_in(page, site, "root")
    failures = []
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/admin")
        assert page.locator("#dashboard svg").count() >= 3
        assert page.locator("#failing-checks").inner_text().count("alice/dash") >= 1
        assert int(page.locator("#stat-templates").inner_text()) >= 1
        page.locator("details summary").first.click()  # the per-day table opens (a <details>: no script needed)
        assert page.locator("#per-day tbody tr").count() == 30
        if js:  # before the checks, which narrow the page to a phone's
            screenshot(page, "admin-dashboard" if width == 1280 else "admin-dashboard-phone")
        for check in (assert_accessible, assert_fits_width) if js else (assert_fits_width,):  # axe needs script
            try:
                check(page)
            except AssertionError as failed:
                failures.append(f"/admin at {width} px, {check.__name__}: {failed}")
    assert not failures, "\n\n".join(failures)


def test_a_reader_is_turned_away(site, open_page):
    page = open_page(site.url)
    _sign_in(page, site, "bob")
    response = page.goto("/admin")
    assert response.status == 403
    assert_accessible(page)
