"""Browser checks that every page test can use: pages whose CSP is watched (`new_page`), axe-core
WCAG 2.1 AA (`assert_accessible`), the phone width (`assert_fits_width`) and screenshots.

CSP stays meaningful for the whole test: nothing here loosens the page's policy. axe-core is not
added as a <script> element (the pages allow script from nowhere: `add_script_tag` would be
refused, and that refusal would be a CSP violation of our own making), and no `bypass_csp`
context is used (it would turn the policy off for everything else the test does on that page).
Its source is evaluated through the DevTools protocol instead (Playwright's evaluate:
Runtime.evaluate, which a page's CSP does not govern), in the page as the person sees it.

Chromium 156 words a violation "Loading the image '...' violates the following Content Security
Policy directive ...", no longer "Refused to ...": a console error naming the Content Security
Policy is what is caught, from every page of the context, with JavaScript on or off."""
from __future__ import annotations

import os
import re
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response

from tests.nodetools import node_modules

ROOT = Path(__file__).resolve().parents[1]
WCAG_21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
PHONE_WIDTH = 375
_SCRIPT_OFF: weakref.WeakSet[Page] = weakref.WeakSet()
_AXE: list[str] = []
# Script may come from the page's own origin, a nonce or a hash, and nothing else.
_SCRIPT_OK = re.compile(r"'(self|none|strict-dynamic|report-sample|nonce-[A-Za-z0-9+/_=-]+|sha(256|384|512)-[A-Za-z0-9+/_=-]+)'")
_NONCE = re.compile(r"'nonce-([^']+)'")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def csp_problems(header: str | None) -> list[str]:
    """What is wrong with a Content-Security-Policy for this site: script from anywhere but 'self',
    a nonce or a hash ('unsafe-inline' and 'unsafe-eval' above all); inline style allowed."""
    if not header:
        return ["no Content-Security-Policy header"]
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives.setdefault(words[0].lower(), words[1:])  # the first of a repeated directive counts
    problems = []
    for name in ("script-src", "script-src-elem", "script-src-attr"):
        sources = directives.get(name, directives.get("script-src", directives.get("default-src")))
        if sources is None:
            problems.append(f"{name}: no script-src nor default-src, so script may come from anywhere")
        elif bad := [s for s in sources if not _SCRIPT_OK.fullmatch(s)]:
            problems.append(f"{name} allows {' '.join(bad)}")
    for name in ("style-src", "style-src-elem", "style-src-attr"):
        sources = directives.get(name, directives.get("style-src", directives.get("default-src"))) or []
        if "'unsafe-inline'" in sources:
            problems.append(f"{name} allows 'unsafe-inline' (a library's injected styles take a per-response nonce)")
    return problems


def csp_nonces(header: str | None) -> list[str]:
    return _NONCE.findall(header or "")


@dataclass
class CspWatch:
    """CSP violations Chromium reports on any page of one context, and the policy of every HTML
    document the watched origins serve (present, strict, a nonce never served twice)."""

    origins: set[str]
    violations: list[str] = field(default_factory=list)
    documents: int = 0
    _nonces: set[str] = field(default_factory=set)

    def attach(self, context: BrowserContext) -> CspWatch:
        context.on("console", self._console)
        context.on("response", self._response)
        return self

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.violations.append(f"{message.location.get('url')}: {message.text}")

    def _response(self, response: Response) -> None:
        if response.request.resource_type != "document" or origin(response.url) not in self.origins:
            return
        headers = response.headers
        if 300 <= response.status < 400 or not headers.get("content-type", "").startswith("text/html"):
            return  # redirects and downloads carry no page
        self.documents += 1
        header = headers.get("content-security-policy")
        self.violations += [f"{response.url}: {p}" for p in csp_problems(header)]
        for nonce in csp_nonces(header):
            if nonce in self._nonces:
                self.violations.append(f"{response.url}: CSP nonce {nonce!r} was served before (must be per response)")
            self._nonces.add(nonce)

    def assert_clean(self) -> None:
        assert not self.violations, "CSP violations:\n" + "\n".join(f"- {v}" for v in self.violations)


def new_page(browser: Browser, base_url: str | None = None, *, js: bool = True, width: int | None = None,
             height: int = 900, watch: CspWatch | None = None) -> tuple[Page, CspWatch]:
    """A page in a context of its own (its own cookies) whose CSP is watched: `watch.assert_clean()`
    at the end. `js=False` turns JavaScript off for the context; `width` sets the viewport."""
    context = browser.new_context(base_url=base_url, java_script_enabled=js,
                                  viewport={"width": width or 1280, "height": height})
    watch = (watch or CspWatch({origin(base_url)} if base_url else set())).attach(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    if not js:
        _SCRIPT_OFF.add(page)
    return page, watch


def _axe_source() -> str:
    if not _AXE:
        _AXE.append((node_modules() / "axe-core" / "axe.min.js").read_text())
    return _AXE[0]


def axe_violations(page: Page, *, tags: tuple[str, ...] = WCAG_21_AA, exclude: tuple[str, ...] = (),
                   timeout: float = 60_000) -> list[dict[str, Any]]:
    """axe-core's violations of `tags` on the page as it is now (`exclude`: CSS selectors to skip)."""
    if page in _SCRIPT_OFF:
        raise AssertionError("axe-core cannot run with JavaScript off (Chromium then runs no timer, and axe waits on "
                             "them): check the same page in a context with JavaScript on")
    if not page.evaluate("typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
        page.evaluate(_axe_source())
    options = {"runOnly": {"type": "tag", "values": list(tags)}, "resultTypes": ["violations"]}
    context: dict[str, Any] = {"include": [["html"]], "exclude": [[s] for s in exclude]}
    # wait_for_function, not evaluate: it has a timeout, so a page where axe cannot finish fails the test
    handle = page.wait_for_function("async ([context, options]) => ({found: await axe.run(context, options)})",
                                    arg=[context, options], timeout=timeout)
    return handle.json_value()["found"]["violations"]


def describe_violations(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"axe-core: {len(violations)} WCAG 2.1 AA rule(s) violated on {url}"]
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"][:10]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    at {' '.join(map(str, node['target']))}: {summary}")
        if len(v["nodes"]) > 10:
            lines.append(f"    ... and {len(v['nodes']) - 10} more")
    return "\n".join(lines)


def assert_accessible(page: Page, *, tags: tuple[str, ...] = WCAG_21_AA, exclude: tuple[str, ...] = ()) -> None:
    """No axe-core violation of WCAG 2.1 A and AA on the page as it is now."""
    violations = axe_violations(page, tags=tags, exclude=exclude)
    assert not violations, describe_violations(page.url, violations)


_OVERFLOW = """(width) => {
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 0.5 && r.width > 0) {
      let clipped = false;  // inside a box that scrolls (or clips) by itself: that box is what counts
      for (let a = el.parentElement; a && a !== document.body && !clipped; a = a.parentElement)
        clipped = getComputedStyle(a).overflowX !== 'visible';
      if (clipped) continue;
      wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                (el.classList.length ? '.' + [...el.classList].join('.') : '') + ` (right edge ${Math.round(r.right)}px)`);
    }
  }
  return {scrollWidth: document.scrollingElement.scrollWidth, wide: wide.slice(0, 15)};
}"""


def assert_fits_width(page: Page, width: int = PHONE_WIDTH) -> None:
    """At `width` CSS pixels (a phone: 375) the page scrolls vertically only."""
    size = page.viewport_size or {"width": 0, "height": 800}
    if size["width"] != width:
        page.set_viewport_size({"width": width, "height": size["height"]})
    found = page.evaluate(_OVERFLOW, width)
    assert found["scrollWidth"] <= width, (
        f"{page.url} is {found['scrollWidth']}px wide at a {width}px viewport (horizontal scroll); "
        f"past the edge: {', '.join(found['wide']) or 'nothing measurable'}")


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """docs/screenshots/NAME.png with SCREENSHOTS=1 (pictures for the docs), else
    $TEST_ARTIFACTS/NAME.png (default test-artifacts/)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise ValueError(f"screenshot name {name!r}: lowercase letters, digits, '-' and '_'")
    if os.environ.get("SCREENSHOTS", "") not in ("", "0"):
        folder = ROOT / "docs" / "screenshots"
    else:
        folder = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=path, full_page=full_page)
    return path
