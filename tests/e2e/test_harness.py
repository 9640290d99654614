"""The browser helpers catch what they are for: each is shown failing on a page built to fail it
(pages served by Playwright's router on a made-up origin, so no server is needed), and passing
on one that is right."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests import browser as helpers
from tests.browser import assert_accessible, assert_fits_width, csp_problems, new_page, screenshot
from tests.keyboard import activate, fill_by_keyboard, tab_to

SITE = "http://harness.test"
APP_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; "
           "frame-ancestors 'none'; base-uri 'none'")  # api/web/render.py's today
CSS = "body { font: 16px system-ui; color: #1f2328; background: #fff } .low { color: #c8c8c8 } .wide { width: 600px }"


def _serve(page: Page, html: str, csp: str = APP_CSP, posted: list[str] | None = None) -> None:
    def answer(route):
        request = route.request
        if request.url.endswith(".css"):
            return route.fulfill(status=200, headers={"content-type": "text/css"}, body=CSS)
        if request.method == "POST":
            (posted if posted is not None else []).append(request.post_data or "")
            return route.fulfill(status=200, headers={"content-type": "text/html", "content-security-policy": csp},
                                 body=_doc("<h1>Sent</h1>"))
        return route.fulfill(status=200, headers={"content-type": "text/html; charset=utf-8",
                                                  "content-security-policy": csp}, body=html)

    page.route(f"{SITE}/**", answer)


def _doc(main: str, head: str = "") -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Harness</title>'
            f'<link rel="stylesheet" href="/app.css">{head}</head><body><main>{main}</main></body></html>')


FORM = _doc('<h1>Contact</h1><form method="post" action="/send"><a href="/help">Help</a> '
            '<label>Name <input name="name"></label> <button type="submit">Send</button></form>')


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_csp_violations_are_caught_with_script_on_or_off(browser, js):
    page, watch = new_page(browser, SITE, js=js)
    _serve(page, _doc('<p style="color: red">inline style</p><img src="http://elsewhere.test/x.png" alt="">'),
           csp="default-src 'none'; style-src 'self'; img-src 'self'")
    page.route("http://elsewhere.test/**", lambda route: route.fulfill(status=200, body=b""))
    page.goto("/")
    page.wait_for_load_state("load")
    page.context.close()
    text = "\n".join(watch.violations)
    assert "inline style" in text and "style-src" in text, text
    assert "http://elsewhere.test/x.png" in text and "img-src" in text, text
    with pytest.raises(AssertionError, match="CSP violations"):
        watch.assert_clean()


def test_a_page_without_a_strict_policy_fails():
    assert csp_problems(APP_CSP) == []  # no script at all: default-src 'none' covers it
    assert csp_problems("default-src 'self'; style-src 'self' 'nonce-abc123'") == []
    assert csp_problems(None) == ["no Content-Security-Policy header"]
    assert any("'unsafe-inline'" in p for p in csp_problems("default-src 'none'; script-src 'self' 'unsafe-inline'"))
    assert any("'unsafe-eval'" in p for p in csp_problems("default-src 'self' 'unsafe-eval'"))
    assert any("https:" in p for p in csp_problems("default-src 'none'; script-src https:"))
    assert any("from anywhere" in p for p in csp_problems("img-src 'self'"))
    assert any("style-src" in p for p in csp_problems("default-src 'none'; style-src 'self' 'unsafe-inline'"))


def test_a_nonce_served_twice_and_a_loose_policy_are_violations(browser):
    page, watch = new_page(browser, SITE)
    _serve(page, _doc("<h1>Hi</h1>"), csp="default-src 'none'; style-src 'self' 'nonce-samesame'; script-src 'unsafe-eval'")
    page.goto("/")
    page.goto("/again")
    page.context.close()
    assert watch.documents == 2
    assert any("nonce 'samesame' was served before" in v for v in watch.violations), watch.violations
    assert any("script-src allows 'unsafe-eval'" in v for v in watch.violations), watch.violations


def test_axe_lists_violations_and_runs_under_a_strict_csp(browser):
    page, watch = new_page(browser, SITE)
    _serve(page, _doc('<h1>Search</h1><input name="q"><p class="low">faint text</p>'))
    page.goto("/")
    with pytest.raises(AssertionError) as failed:
        assert_accessible(page)
    report = str(failed.value)
    assert "label (critical)" in report and "at input:" in report, report
    assert "color-contrast (serious)" in report and "contrast of 1.67" in report, report
    assert_accessible(page, exclude=("input", ".low"))  # the same page less those two elements passes
    _serve(page, FORM)
    page.goto("/clean")
    assert_accessible(page)
    page.context.close()
    watch.assert_clean()  # injecting axe caused no CSP violation: the page's policy stayed as it was


def test_axe_refuses_a_page_with_javascript_off_instead_of_hanging(browser):
    page, _ = new_page(browser, SITE, js=False)
    _serve(page, FORM)
    page.goto("/")
    with pytest.raises(AssertionError, match="JavaScript off"):
        assert_accessible(page)
    page.context.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_keyboard_only_fill_and_submit(browser, js):
    page, watch = new_page(browser, SITE, js=js)
    posted: list[str] = []
    _serve(page, FORM, posted=posted)
    page.goto("/")
    fill_by_keyboard(page, "Name", "Ada Lovelace")
    stops = tab_to(page, "Send", role="button")
    assert stops == ['button "Send"']
    activate(page, "Enter")
    page.get_by_role("heading", name="Sent").wait_for()
    assert posted == ["name=Ada+Lovelace"]
    page.context.close()
    watch.assert_clean()


def test_keyboard_helpers_fail_on_an_unreachable_control_and_an_invisible_focus(browser):
    page, _ = new_page(browser, SITE)
    _serve(page, _doc('<a href="/a">First</a> <button class="bare">Go</button>', head="<link rel=stylesheet href=/bare.css>"))
    page.route(f"{SITE}/bare.css", lambda route: route.fulfill(headers={"content-type": "text/css"},
                                                               body=".bare:focus { outline: none }"))
    page.goto("/")
    with pytest.raises(AssertionError, match=r'focused button "Go" .* shows no focus indicator'):
        tab_to(page, "Go")
    _serve(page, _doc('<a href="/a">First</a> <button disabled>Never</button> <a href="/b">Last</a>'))
    page.goto("/unreachable")
    with pytest.raises(AssertionError, match=r"never reached 'Never'.*First.*Last"):
        tab_to(page, "Never")
    page.context.close()


def test_phone_width_overflow_is_named(browser):
    page, _ = new_page(browser, SITE, width=375)
    _serve(page, _doc('<h1>Wide</h1><div class="wide" id="banner">too wide for a phone</div>'))
    page.goto("/")
    with pytest.raises(AssertionError, match=r"div#banner\.wide"):
        assert_fits_width(page)
    _serve(page, FORM)
    page.goto("/ok")
    assert_fits_width(page)
    page.context.close()


def test_screenshots_go_to_artifacts_or_to_the_docs(browser, tmp_path, monkeypatch):
    page, _ = new_page(browser, SITE)
    _serve(page, FORM)
    page.goto("/")
    monkeypatch.setenv("TEST_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.delenv("SCREENSHOTS", raising=False)
    assert screenshot(page, "harness-form") == tmp_path / "artifacts" / "harness-form.png"
    monkeypatch.setattr(helpers, "ROOT", tmp_path / "repo")
    monkeypatch.setenv("SCREENSHOTS", "1")
    shot = screenshot(page, "harness-form")
    assert shot == tmp_path / "repo" / "docs" / "screenshots" / "harness-form.png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError):
        screenshot(page, "../escape")
    page.context.close()
