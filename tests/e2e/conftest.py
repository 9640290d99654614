"""A served registry driven by the git CLI and a real Chromium (Debian's /usr/bin/chromium
through Playwright; never `playwright install`). Screenshots go to $TEST_ARTIFACTS
(default ./test-artifacts); tests.browser.screenshot puts named ones in docs/screenshots with
SCREENSHOTS=1."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser import CspWatch, new_page
from tests.integration.conftest import Env, _start

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def web_env(tmp_path_factory) -> Iterator[Env]:
    yield from _start(tmp_path_factory.mktemp("srv-web"), "local", None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """`open_page(base_url=None, *, js=True, width=None, height=900) -> Page`: a page in a context
    of its own (its own cookies; JavaScript off with js=False; `width`: 375 for a phone) whose
    Content-Security-Policy is watched. At the end of the test, every CSP violation Chromium
    reported on any of them, and every HTML page of base_url's origin without a strict policy,
    fails the test."""
    opened: list[tuple[Page, CspWatch]] = []

    def open_(base_url: str | None = None, *, js: bool = True, width: int | None = None, height: int = 900) -> Page:
        page, watch = new_page(browser, base_url, js=js, width=width, height=height)
        opened.append((page, watch))
        return page

    yield open_
    for page, _ in opened:
        page.context.close()  # first: a violation still on its way is reported before the check
    for _, watch in opened:
        watch.assert_clean()


@pytest.fixture
def artifacts(request) -> Path:
    folder = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts")) / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
