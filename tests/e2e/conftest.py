"""A served registry driven by the git CLI and a real Chromium (Debian's /usr/bin/chromium
through Playwright; never `playwright install`). Screenshots go to $TEST_ARTIFACTS
(default ./test-artifacts)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

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
def artifacts(request) -> Path:
    folder = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts")) / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
