"""The experiment pages in Chromium: an experiment started with the plain HTML form (script off),
its page showing the planted winner with the chart and table, promoted to a pull request; with
script on, the experiment and run pages follow their server-sent events to the end; every page
axe-clean (WCAG 2.1 AA) and fitting a 375 px phone."""
from __future__ import annotations

import time

import pytest

from tests.browser import assert_accessible, assert_fits_width, screenshot
from tests.experiment_world import make_via_api
from tests.integration.conftest import _start
from tests.keyboard import fill_by_keyboard

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from tests.modelserver import model_server

    with model_server() as models:
        env = {"REGISTRY_SANDBOX_PROVIDER_URL": models.url, "REGISTRY_SANDBOX_PROVIDER_MODEL": "test-model",
               "REGISTRY_SANDBOX_PROVIDER_BACKOFF_S": "0.01"}
        yield from _start(tmp_path_factory.mktemp("srv-experiments"), "local", None, env)


def sign_in(page, env, user: str = "alice") -> None:
    page.goto("/login")
    fill_by_keyboard(page, "User", user)
    fill_by_keyboard(page, "Token", env.tokens[user])
    page.keyboard.press("Enter")
    page.locator("header .who").filter(has_text=user).wait_for()


def check_page(page, seen=None) -> list[str]:
    """axe-core (which needs script: `seen`, a page with script on, is sent to the same URL) at
    1280 and 375 px, and no horizontal scroll at 375 px."""
    failures = []
    if seen is not None:
        seen.goto(page.url)
        page = seen
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        for check in (assert_accessible, assert_fits_width):
            if check is assert_fits_width and width != 375:
                continue
            try:
                check(page)
            except AssertionError as failed:
                failures.append(f"{page.url} at {width} px, {check.__name__}: {failed}")
    return failures


def test_start_read_and_promote_with_plain_forms(site, open_page):
    with site.api() as c:
        make_via_api(c, "alice", "exp-web", {"main": 0.5, "better": 0.95, "same": 0.5}, cases=6)
    page, seen = open_page(site.url, js=False), open_page(site.url)
    sign_in(page, site)
    sign_in(seen, site)
    page.goto("/alice/exp-web")
    page.locator("#experiments-link").click()
    failures = check_page(page, seen)  # the list with its form
    page.get_by_label("Variants").fill("main, better same")
    page.get_by_label("Repetitions").fill("4")
    page.get_by_role("button", name="Start experiment").click()
    page.wait_for_url("**/alice/exp-web/experiments/*")
    deadline = time.monotonic() + 120
    while page.locator("#experiment-state").inner_text() != "finished" and time.monotonic() < deadline:
        time.sleep(1)
        page.reload()  # without script, a reload shows the progress
    assert page.locator("#experiment-state").inner_text() == "finished"
    assert "better is the winner" in page.locator("#verdict").inner_text()
    assert page.locator("#experiment-variants tbody tr").count() == 3
    assert page.locator("#experiment-chart svg[role=img]").get_attribute("aria-label").startswith("pass rate per variant")
    failures += check_page(page, seen)
    screenshot(seen, "experiment-phone")  # check_page left it on this page at 375 px
    seen.set_viewport_size({"width": 1280, "height": 900})
    screenshot(seen, "experiment")
    page.get_by_role("button", name="Promote better: open a pull request into the default branch").click()
    page.wait_for_url("**/alice/exp-web/pulls/*", timeout=30_000)
    assert "Promote better" in page.locator("h1").inner_text() or "Promote better" in page.content()
    assert not failures, "\n\n".join(failures)
    with site.api() as c:
        pulls = c.get("/templates/alice/exp-web/pulls").json()
        assert [(p["head"]["ref"] if isinstance(p.get("head"), dict) else p.get("head_branch"), p["title"])
                for p in pulls][0][1].startswith("Promote better")


def test_a_bad_form_says_why(site, open_page):
    with site.api() as c:
        make_via_api(c, "alice", "exp-bad", {"main": 0.5, "b": 0.6}, cases=2)
    page = open_page(site.url)
    sign_in(page, site)
    page.goto("/alice/exp-bad/experiments")
    page.get_by_label("Variants").fill("main nope")
    page.get_by_role("button", name="Start experiment").click()
    assert "nope" in page.locator("#experiment-error").inner_text()
    assert page.get_by_label("Variants").input_value() == "main nope"  # kept to correct
    assert not check_page(page)


def test_pages_follow_their_events_with_script(site, open_page):
    with site.api() as c:
        make_via_api(c, "alice", "exp-live", {"main": 0.9, "b": 0.2}, cases=4)
        eid = c.post("/templates/alice/exp-live/experiments", json={"variants": ["main", "b"], "repetitions": 6}).json()["id"]
        run = c.post("/templates/alice/exp-live/runs", json={"ref": "main"}).json()
    page = open_page(site.url)
    sign_in(page, site)
    page.goto(f"/alice/exp-live/experiments/{eid}")
    # no reload by the test: the page follows the stream and reloads itself once it ends
    page.locator("#experiment-state", has_text="finished").wait_for(timeout=120_000)
    assert page.locator("#cancel-experiment").count() == 0
    page.goto(f"/alice/exp-live/runs/{run['id']}")
    page.locator("#run-state", has_text="success").wait_for(timeout=60_000)
    assert "case 'case-03' (tests/cases.json): passed" in page.locator("#run-logs").inner_text()
    assert not check_page(page)
