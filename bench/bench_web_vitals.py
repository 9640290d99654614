"""Core Web Vitals of the gallery, a template page and the editor (issue 31: Largest Contentful
Paint < 1 s and total blocking time < 100 ms in Chromium on this machine), p50 and p95 over
several loads of each, cold (a new browser context: nothing cached) and warm (the same page again
in that context).

How it measures, with the pages' Content-Security-Policy left as served (script from 'self'
only): a PerformanceObserver for `largest-contentful-paint`, `longtask` and `paint` is installed
by Playwright's `add_init_script`, which Chromium runs through the DevTools protocol
(Page.addScriptToEvaluateOnNewDocument) before any script of the page, and which the page's CSP
does not govern. That is verified on every load, not assumed: the document's policy is strict
(tests.browser.csp_problems finds nothing; no 'unsafe-inline'), the observer's record exists,
and Chromium reported no CSP violation (tests.browser.CspWatch).
- LCP: the start time of the last `largest-contentful-paint` entry, read once the page is quiet.
- TBT: as Lighthouse counts it, each long task's time past 50 ms, for the tasks after First
  Contentful Paint, up to the moment the page is read (the load event, the network idle for
  500 ms, then 500 ms more), which stands in for Lighthouse's "time to interactive".

    make bench   (or: python -m bench.bench_web_vitals [--loads 10])

Exits 1 when a page's p95 misses either target.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

from bench.bench_check import template_files
from bench.stats import pct
from tests.browser import CspWatch, csp_problems
from tests.services import registry_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LCP_TARGET_MS, TBT_TARGET_MS = 1000.0, 100.0
GALLERY_TEMPLATES = 24  # more than a gallery page's 20 cards
OBSERVER = """(() => {
  const v = window.__vitals = {lcp: null, element: null, fcp: null, longtasks: [], error: null};
  try {
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) {
        v.lcp = e.startTime;
        v.element = e.element ? e.element.tagName.toLowerCase() + (e.element.id ? '#' + e.element.id : '')
          : e.url || '(an element since removed)';
      }
    }).observe({type: 'largest-contentful-paint', buffered: true});
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) v.longtasks.push([e.startTime, e.duration]);
    }).observe({type: 'longtask', buffered: true});
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) if (e.name === 'first-contentful-paint') v.fcp = e.startTime;
    }).observe({type: 'paint', buffered: true});
  } catch (err) { v.error = String(err); }
})();"""


@dataclass
class Figures:
    lcp: list[float] = field(default_factory=list)
    tbt: list[float] = field(default_factory=list)
    elements: set[str] = field(default_factory=set)


def seed(server) -> str:
    """A user with a token, the 20-file template the editor opens, and more for the gallery."""
    token = server.accounts(("alice",), {"alice": ("alice", "write")})["alice"]
    api = httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    manifest = json.loads(template_files()["template.json"])
    heads: dict[str, str] = {}
    for i in range(GALLERY_TEMPLATES):
        name = "risk" if i == 0 else f"template-{i:02}"
        files = template_files()
        if i:
            files["template.json"] = json.dumps({**manifest, "title": f"{['Risk', 'Claims', 'Copy'][i % 3]} helper {i}",
                                                 "description": f"Helps with task {i}: " + "a useful sentence. " * 6,
                                                 "tags": ["bench", f"t{i % 5}"]}, indent=2).encode()
        assert api.post("/templates", json={"name": name}).status_code == 201
        made = api.post(f"/templates/alice/{name}/commits", json={
            "branch": "main", "message": "Seed", "changes": [
                {"path": p, "content_base64": base64.b64encode(d).decode()} for p, d in files.items()]})
        assert made.status_code == 201, made.text
        heads[name] = made.json()["sha"]
    deadline = time.monotonic() + 300
    while heads:  # every check done (the sandbox runs each one's tests): nothing runs while pages load
        name, sha = next(iter(heads.items()))
        states = [s["state"] for s in api.get(f"/templates/alice/{name}/commits/{sha}/statuses").json()]
        if len(states) == 3 and "pending" not in states:
            assert states == ["success"] * 3, f"{name}: {states}"
            del heads[name]
        elif time.monotonic() > deadline:
            raise RuntimeError(f"{name}: checks not done after 300 s")
        else:
            time.sleep(0.1)
    assert api.get("/search", params={"per_page": 1, "owner": "alice"}).json()["total"] == GALLERY_TEMPLATES
    return token


def sign_in(browser: Browser, base: str, token: str) -> dict:
    context = browser.new_context(base_url=base)
    page = context.new_page()
    page.goto("/login")
    form = page.locator("#token-form")  # the token form, beside the password form
    form.locator("input[name=user]").fill("alice")
    form.locator("input[name=token]").fill(token)
    form.locator("button[type=submit]").click()
    page.wait_for_url(base + "/")
    state = context.storage_state()
    context.close()
    return state


def read(page: Page, url: str, watch: CspWatch) -> tuple[float, float, str]:
    """Load `url`, wait until it is quiet, and return (LCP ms, TBT ms, the LCP element)."""
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    problems = csp_problems(response.headers.get("content-security-policy"))
    assert not problems, f"{url}: the page's CSP is not the strict one measured under: {problems}"
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    vitals = page.evaluate("window.__vitals")
    assert vitals is not None, f"{url}: the init script did not run"
    assert vitals["error"] is None and vitals["lcp"] is not None and vitals["fcp"] is not None, f"{url}: {vitals}"
    watch.assert_clean()
    fcp = vitals["fcp"]
    tbt = sum(max(0.0, start + duration - max(start, fcp) - 50) for start, duration in vitals["longtasks"]
              if start + duration > fcp)
    return vitals["lcp"], tbt, vitals["element"]


def measure(browser: Browser, base: str, url: str, loads: int, state: dict | None) -> tuple[Figures, Figures]:
    cold, warm = Figures(), Figures()
    for i in range(loads + 1):  # the first: a warm-up of the server's and the browser's caches
        context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900}, storage_state=state)
        watch = CspWatch({base}).attach(context)
        context.add_init_script(OBSERVER)
        page = context.new_page()
        for figures in (cold, warm):
            lcp, tbt, element = read(page, url, watch)
            if i:
                figures.lcp.append(lcp)
                figures.tbt.append(tbt)
                figures.elements.add(element)
        context.close()
    return cold, warm


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loads", type=int, default=10, help="loads of each page, each in a new context")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 2
    pages = {"gallery": ("/", False), "template": ("/alice/risk", False),
             "editor": ("/alice/risk/edit/main/prompts/system.md", True)}
    missed = []
    with tempfile.TemporaryDirectory() as tmp, registry_server(Path(tmp) / "data") as server, sync_playwright() as p:
        token = seed(server)
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        state = sign_in(browser, server.url, token)
        print(f"web vitals: {args.loads} loads a page, 1280x900, Chromium {browser.version}, load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; targets LCP < {LCP_TARGET_MS:.0f} ms, TBT < "
              f"{TBT_TARGET_MS:.0f} ms (judged at p95)")
        for label, (url, signed) in pages.items():
            cold, warm = measure(browser, server.url, url, args.loads, state if signed else None)
            for kind, f in (("cold", cold), ("warm", warm)):
                lcp95, tbt95 = pct(f.lcp, 0.95), pct(f.tbt, 0.95)
                ok = lcp95 < LCP_TARGET_MS and tbt95 < TBT_TARGET_MS
                if not ok:
                    missed.append(f"{label} ({kind})")
                print(f"  {label:8} {kind}: LCP p50 {statistics.median(f.lcp):4.0f} ms  p95 {lcp95:4.0f} ms   "
                      f"TBT p50 {statistics.median(f.tbt):3.0f} ms  p95 {tbt95:3.0f} ms   "
                      f"{'ok' if ok else 'MISSED'}  (LCP element: {', '.join(sorted(f.elements))})")
        browser.close()
    print("  the observer ran on every load under the page's own strict CSP, with no violation reported")
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
