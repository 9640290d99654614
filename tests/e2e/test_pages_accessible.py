"""The registry's pages as people use them, in Chromium: no axe-core WCAG 2.1 AA violation, no CSP
violation and a strict policy on each (the open_page fixture), no horizontal scroll on a 375 px
phone, and signing in done by keyboard alone, with JavaScript on and off."""
from __future__ import annotations

import json

import pytest

from tests.browser import assert_accessible, assert_fits_width, screenshot
from tests.gitcli import commit_file, git
from tests.keyboard import activate, fill_by_keyboard
from tests.unit.usecases import MINIMAL
from tests.web_scenario import XSS_BRANCH, build, build_conflict

pytestmark = pytest.mark.timeout(300)

SIGNED_OUT = {"gallery": "/", "login": "/login", "template": "/alice/a11y", "pulls": "/alice/a11y/pulls",
              "pull": "/alice/a11y/pulls/1", "evaluation": "/alice/a11y/pulls/1/evaluation",
              "tree": "/alice/a11y/tree/main/",
              "blob": "/alice/a11y/blob/main/template.json", "readme": "/alice/a11y/blob/main/README.md",
              "history": "/alice/a11y/commits/main/template.json", "blame": "/alice/a11y/blame/main/template.json",
              "use": "/alice/a11y?render=1", "graph": "/alice/a11y/graph", "versions": "/alice/a11y/versions",
              "pull-conflicted": "/alice/a11y-conflict/pulls/1", "conflicts": "/alice/a11y-conflict/pulls/1/conflicts"}
SIGNED_IN = {**SIGNED_OUT, "tokens": "/settings/tokens", "new": "/new?example=risk-report",
             "edit": "/alice/a11y/edit/main/template.json", "add-file": "/alice/a11y/new/main/",
             "manifest-form": "/alice/a11y/manifest/main", "upload": "/alice/a11y/upload/main/",
             "pull-split": "/alice/a11y/pulls/1?view=split"}


@pytest.fixture(scope="module")
def site(web_env, tmp_path_factory):
    build(web_env, "a11y", tmp_path_factory.mktemp("a11y"))
    assert build_conflict(web_env, "a11y-conflict", tmp_path_factory.mktemp("a11y-conflict")).number == 1
    with web_env.api() as c:
        resp = c.post("/templates/alice/a11y/pulls", json={"title": "Shorter answers", "body": "Halves *maxTokens*.",
                                                           "head": XSS_BRANCH})
        assert resp.status_code == 201, resp.text
        assert c.post("/templates/alice/a11y/pulls/1/comments", json={"body": "Looks right"}).status_code == 201
    with web_env.api("bob") as c:  # a fork network for the graph page to draw
        assert c.post("/templates/alice/a11y/forks", json={}).status_code == 201
    return web_env


def _sign_in_by_keyboard(page, env, user: str = "alice") -> None:
    page.goto("/login")
    fill_by_keyboard(page, "User", user)
    fill_by_keyboard(page, "Token", env.tokens[user])
    activate(page, "Enter")  # Enter in a field submits its form
    page.locator("header .who").filter(has_text=user).wait_for()


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "signed-in"])
def test_every_page_passes_axe_and_fits_a_phone(site, open_page, signed_in):
    page = open_page(site.url)
    if signed_in:
        _sign_in_by_keyboard(page, site)
    failures = []
    for name, path in (SIGNED_IN if signed_in else SIGNED_OUT).items():
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(path)
        if signed_in and name in ("gallery", "template", "blob"):
            screenshot(page, f"page-{name}")  # at 1280 px, before the phone check narrows the page
        for check in (assert_accessible, assert_fits_width):
            try:
                check(page)
            except AssertionError as failed:
                failures.append(f"{name} ({path}), {check.__name__}: {failed}")
        if signed_in:
            screenshot(page, f"page-{name}-phone")
    assert not failures, "\n\n".join(failures)


def test_sign_in_by_keyboard_with_javascript_off(site, open_page):
    page = open_page(site.url, js=False)
    _sign_in_by_keyboard(page, site, "bob")
    page.goto("/settings/tokens")
    fill_by_keyboard(page, "Expires after (days, empty for never)", "7")
    activate(page, "Enter")
    page.locator("#new-token code").wait_for()
    assert page.locator("#new-token code").inner_text().strip()


def test_the_run_timeline_and_versions_chart_pass_axe_and_fit_a_phone(site, open_page, tmp_path):
    """A template with a test case and a version: its page (flow, runs by version), its run's
    page (the timeline) and its versions page (kinds of change), each with its SVG drawn."""
    info = site.create("a11y-runs")
    work = site.clone(info["clone_url"], "alice", tmp_path / "runs")
    commit_file(work, "tests/case.json", json.dumps({"name": "mentions the quarter", "parameters": {
        "portfolio": "SME", "quarter": "Q3"}, "assert": [{"type": "contains", "value": "Q3"}]}))
    sha = commit_file(work, "template.json", json.dumps(MINIMAL, indent=2), "first")
    git("tag", "v1.0.0", cwd=work)
    git("push", "-q", "origin", "HEAD:main", "v1.0.0", cwd=work)
    assert site.check("a11y-runs", sha, "sandbox", timeout=60)["state"] == "success"
    with site.api() as c:
        [run] = [r for r in c.get("/templates/alice/a11y-runs/runs").json() if r["sha"] == sha]
    page = open_page(site.url)
    failures = []
    for path, drawn in (("/alice/a11y-runs", "#versions-chart"), (f"/alice/a11y-runs/runs/{run['id']}", "#run-timeline"),
                        ("/alice/a11y-runs/versions", ".change-kind")):
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(path)
        assert page.locator(drawn).count() == 1, path
        for check in (assert_accessible, assert_fits_width):
            try:
                check(page)
            except AssertionError as failed:
                failures.append(f"{path}, {check.__name__}: {failed}")
    assert not failures, "\n\n".join(failures)
