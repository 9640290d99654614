"""The web pages over plain HTTP: sessions, CSRF and origin checks, security headers, escaping."""
from __future__ import annotations

import json
import re
import time

import httpx
import pytest
from markupsafe import escape

from tests.gitcli import commit_file, git
from tests.web_scenario import XSS_BRANCH, XSS_COMMIT, XSS_FILE, XSS_TITLE, build

pytestmark = pytest.mark.timeout(300)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _login(env, user: str) -> httpx.Client:
    client = httpx.Client(base_url=env.url, timeout=30, headers={"Origin": env.url})
    form = {"csrf": _csrf(client.get("/login").text), "user": user, "token": env.tokens[user], "next": "/"}
    response = client.post("/login", data=form)
    assert response.status_code == 303 and response.headers["location"] == "/"
    return client


def test_login_sets_a_strict_session_cookie(local_env):
    client = httpx.Client(base_url=local_env.url, timeout=30, headers={"Origin": local_env.url})
    page = client.get("/login")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self';" in csp and "unsafe" not in csp  # the passkey script, from this site only
    bad = client.post("/login", data={"csrf": _csrf(page.text), "user": "alice", "token": "rgt_wrong"})
    assert bad.status_code == 401 and "invalid token" in bad.text
    other = client.post("/login", data={"csrf": _csrf(page.text), "user": "bob", "token": local_env.tokens["alice"]})
    assert other.status_code == 401
    good = client.post("/login", data={"csrf": _csrf(page.text), "user": "alice", "token": local_env.tokens["alice"]})
    cookie = good.headers["set-cookie"].lower()
    assert good.status_code == 303 and "httponly" in cookie and "samesite=lax" in cookie
    assert local_env.tokens["alice"] not in good.headers["set-cookie"]  # the session is not a bearer token
    assert "Sign out" in client.get("/").text


def test_form_posts_need_the_csrf_token_and_our_origin(local_env, tmp_path):
    scenario = build(local_env, "csrf", tmp_path)
    bob = _login(local_env, "bob")
    alice = _login(local_env, "alice")
    opened = alice.post("/alice/csrf/pulls", data={"csrf": _csrf(alice.get("/alice/csrf/pulls").text),
                                                    "head": XSS_BRANCH, "base": "main", "title": "Shorter"})
    assert opened.status_code == 303 and opened.headers["location"] == "/alice/csrf/pulls/1"
    token = _csrf(bob.get("/alice/csrf/pulls/1").text)
    approve = bob.post("/alice/csrf/pulls/1/reviews", data={"csrf": token, "event": "APPROVE"})
    assert approve.status_code == 303

    no_token = bob.post("/alice/csrf/pulls/1/merge", data={"method": "merge"})
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    wrong = bob.post("/alice/csrf/pulls/1/merge", data={"csrf": "x" + token, "method": "merge"})
    assert wrong.status_code == 403
    foreign = bob.post("/alice/csrf/pulls/1/merge", data={"csrf": token, "method": "merge"},
                       headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403 and "cross-origin" in foreign.text
    nowhere = httpx.post(f"{local_env.url}/alice/csrf/pulls/1/merge", data={"csrf": token, "method": "merge"},
                         cookies=bob.cookies)  # neither Origin nor Referer
    assert nowhere.status_code == 403
    with local_env.api() as api:
        assert api.get("/templates/alice/csrf/pulls/1").json()["state"] == "open"  # nothing merged

    merged = bob.post("/alice/csrf/pulls/1/merge", data={"csrf": token, "method": "squash",
                                                         "expected_head_sha": scenario.head_sha})
    assert merged.status_code == 303
    assert 'id="pull-state">merged' in bob.get("/alice/csrf/pulls/1").text


def test_hostile_repository_content_is_escaped(local_env, tmp_path):
    build(local_env, "hostile-page", tmp_path)
    alice = _login(local_env, "alice")
    alice.post("/alice/hostile-page/pulls", data={"csrf": _csrf(alice.get("/alice/hostile-page/pulls").text),
                                             "head": XSS_BRANCH, "title": "<b>bold</b> title"})
    pages = [alice.get("/alice/hostile-page").text, alice.get("/alice/hostile-page/pulls").text,
             alice.get("/alice/hostile-page/pulls/1").text, alice.get("/alice/hostile-page/pulls/1?view=split").text]
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html and "<svg/onload" not in html
        # only the usage chart and the diagrams the server draws are SVG
        assert html.count("<svg") == html.count('<svg class="usage"') + html.count('class="diagram" role="img"')
        assert 'href="javascript:' not in html.lower() and "<b>bold" not in html
    home, _, pull, _ = pages
    assert escape(XSS_TITLE) in home and "<strong>credit risk</strong>" in home  # markdown still renders
    assert "&lt;script&gt;alert('readme')&lt;/script&gt;" in home  # as markdown-it escapes it
    for text in (XSS_BRANCH, XSS_COMMIT, XSS_FILE):
        assert escape(text) in pull


def test_pages_errors_are_html(local_env):
    missing = httpx.get(f"{local_env.url}/alice/nope", timeout=30)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "not found" in missing.text
    assert httpx.get(f"{local_env.url}/static/app.css", timeout=30).status_code == 200


def test_conflicts_are_listed_and_block_the_merge_button(local_env, tmp_path):
    build(local_env, "clash", tmp_path)
    with local_env.api() as c:  # main moves by a push here: a rule asking for approvals would refuse it
        assert c.delete("/templates/alice/clash/protection/main").status_code == 204
    work = tmp_path / "clash"
    git("checkout", "-q", "main", cwd=work)
    manifest = json.loads((work / "template.json").read_text())
    manifest["promptConfig"]["constraints"]["maxTokens"] = 600  # the branch says 400
    commit_file(work, "template.json", json.dumps(manifest, indent=2) + "\n", "longer answers")
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    alice = _login(local_env, "alice")
    alice.post("/alice/clash/pulls", data={"csrf": _csrf(alice.get("/alice/clash/pulls").text),
                                           "head": XSS_BRANCH, "title": "Shorter"})
    html = alice.get("/alice/clash/pulls/1").text
    conflicts = re.search(r'<ul class="conflicts" id="conflicts">(.*?)</ul>', html, re.S).group(1)
    assert "template.json:$.promptConfig.constraints.maxTokens" in conflicts
    assert re.search(r'<button type="submit" id="merge-button"\s+disabled>', html)


def test_private_pages_are_hidden_from_strangers_and_runs_have_a_page(local_env, tmp_path):
    with local_env.api() as api:
        assert api.post("/templates", json={"name": "private-page", "visibility": "private"}).status_code == 201
    assert httpx.get(f"{local_env.url}/alice/private-page", timeout=30).status_code == 404  # as if missing
    assert _login(local_env, "alice").get("/alice/private-page").status_code == 200
    build(local_env, "withruns", tmp_path)
    deadline = time.monotonic() + 30
    with local_env.api() as api:
        while not (runs := api.get("/templates/alice/withruns/runs").json()) or runs[0]["state"] == "queued":
            assert time.monotonic() < deadline
            time.sleep(0.1)
    alice = _login(local_env, "alice")
    assert f'/alice/withruns/runs/{runs[0]["id"]}' in alice.get("/alice/withruns").text
    page = alice.get(f"/alice/withruns/runs/{runs[0]['id']}")
    assert page.status_code == 200 and "estimated cost" in page.text and runs[0]["sha"] in page.text
    assert alice.get(f"/alice/csrf/runs/{runs[0]['id']}").status_code == 404  # another template's path
