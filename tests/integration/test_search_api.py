"""GET /api/v1/search against a served registry fed by pushes (embedded queue)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.gitcli import commit_file, git

pytestmark = pytest.mark.timeout(300)
BASE = json.loads((Path(__file__).resolve().parents[3] / "shared/examples/minimal.template.json").read_text())


def _push(env, tmp: Path, name: str, visibility: str = "public", branch: str = "main", **fields) -> str:
    info = env.create(name, visibility=visibility)
    work = tmp / name
    env.clone(info["clone_url"], "alice", work)
    sha = commit_file(work, "template.json", json.dumps({**BASE, **fields}))
    commit_file(work, "README.md", f"# {fields.get('title', name)}\n\nReadme of {name}.\n")
    git("push", "-q", "origin", f"HEAD:{branch}", cwd=work)
    return git("rev-parse", "HEAD", cwd=work).stdout.strip() or sha


def _wait_indexed(env, name: str, sha: str) -> float:
    deadline = time.monotonic() + 20
    with env.api() as c:
        while time.monotonic() < deadline:
            states = {s["context"]: s for s in c.get(f"/templates/alice/{name}/commits/{sha}/statuses").json()}
            if states.get("index", {}).get("state") == "success":
                return time.monotonic()
            time.sleep(0.05)
    raise AssertionError(f"{name} never indexed")


@pytest.fixture(scope="module")
def corpus(local_env, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("corpus")
    env = local_env
    pushed = {
        "loan-risk": _push(env, tmp, "loan-risk", title="Loan risk scorer", description="Scores loan applications.",
                           industry="financial-services", tags=["risk", "loans"]),
        "story-teller": _push(env, tmp, "story-teller", title="Bedtime story teller",
                              description="Writes stories; never risky.", industry="media-entertainment",
                              tags=["stories"]),
        "secret-risk": _push(env, tmp, "secret-risk", visibility="private", title="Secret risk model",
                             industry="financial-services", tags=["risk"]),
    }
    for name, sha in pushed.items():
        _wait_indexed(env, name, sha)
    return env


def _search(env, user="alice", **params):
    with env.api(user) as c:
        return c.get("/search", params=params)


def test_search_finds_ranks_filters_and_facets(corpus):
    body = _search(corpus, None, q="risk").json()
    names = [r["name"] for r in body["results"]]
    assert names[0] == "loan-risk" and "secret-risk" not in names
    assert body["total"] == len(names) and sum(body["facets"]["industry"].values()) == body["total"]
    assert body["total_is_estimate"] is False  # counted exactly below the cap (2,000 on PostgreSQL)
    hit = body["results"][0]
    assert hit["owner"] == "alice" and hit["title"] == "Loan risk scorer" and "<mark" in hit["highlights"]["title"]
    assert [r["name"] for r in _search(corpus, None, tags="risk,loans").json()["results"]] == ["loan-risk"]
    assert _search(corpus, None, industry="media-entertainment").json()["total"] == 1
    owner_view = {r["name"] for r in _search(corpus, "alice", q="risk").json()["results"]}
    assert "secret-risk" in owner_view
    assert "secret-risk" not in {r["name"] for r in _search(corpus, "bob", q="risk").json()["results"]}
    resp = _search(corpus, None, q="risk", per_page=1)
    assert 'rel="next"' in resp.headers["link"]


def test_plain_language_british_spelling_typos_and_did_you_mean(corpus):
    found = [r["name"] for r in _search(corpus, None, q="please help me score a loan application").json()["results"]]
    assert found[0] == "loan-risk"  # the words are optional: filler and unmatched words don't hide it
    assert [r["name"] for r in _search(corpus, None, q="scorre loans").json()["results"]][0] == "loan-risk"
    assert "story-teller" in [r["name"] for r in _search(corpus, None, q="bedtime storeis").json()["results"]]
    none = _search(corpus, None, q="bedtymme").json()
    assert none["total"] == 0 and none["suggestion"] == "bedtime"
    page = httpx.get(corpus.url + "/", params={"q": "bedtymme"})
    assert 'Did you mean <a href="/?q=bedtime">bedtime</a>?' in page.text


@pytest.mark.parametrize("params, status", [
    ({"q": '"unbalanced'}, 400), ({"q": "x" * 10_000}, 422), ({"sort": "price"}, 422),
    ({"page": 10 ** 9}, 422), ({"per_page": 1000}, 422), ({"page": "abc"}, 422),
    ({"industry": "\x00"}, 400), ({"q": "risk\x00"}, 400),
])
def test_bad_queries_are_4xx_with_message(corpus, params, status):
    resp = _search(corpus, None, **params)
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["message"]


def test_update_visible_within_a_second_other_branches_ignored_delete_removes(corpus, tmp_path):
    env = corpus
    sha = _push(env, tmp_path, "fresh", title="Fresh zebra prompt", industry="retail", tags=["zebra"])
    done = _wait_indexed(env, "fresh", sha)
    while not _search(env, None, q="zebra").json()["total"]:
        assert time.monotonic() - done < 1.0, "not visible within a second of the index job"
        time.sleep(0.02)
    main = _push(env, tmp_path, "branchy", title="Plain on main")
    _wait_indexed(env, "branchy", main)
    work = tmp_path / "branchy"
    side = commit_file(work, "template.json", json.dumps({**BASE, "title": "Quokka on a branch"}))
    git("push", "-q", "origin", "HEAD:feature", cwd=work)
    _wait_indexed(env, "branchy", side)
    assert _search(env, None, q="quokka").json()["total"] == 0
    assert _search(env, None, q="plain").json()["total"] == 1
    with env.api() as c:
        assert c.delete("/templates/alice/fresh").status_code == 204
    assert _search(env, None, q="zebra").json()["total"] == 0


def test_stars_ratings_sort_and_reindex(corpus):
    env = corpus
    with env.api("bob") as c:
        assert c.put("/templates/alice/story-teller/star").json()["stars"] == 1
        assert c.post("/templates/alice/story-teller/ratings", json={"score": 5}).status_code == 201
        assert c.post("/templates/alice/loan-risk/ratings", json={"score": 9}).status_code == 422
    results = _search(env, None, sort="stars").json()["results"]
    assert results[0]["name"] == "story-teller" and results[0]["stars"] == 1 and results[0]["rating"] == 5.0
    out = env.server.cli("reindex").stdout
    assert "indexed" in out
    assert _search(env, None, sort="stars").json()["results"][0]["name"] == "story-teller"
    assert httpx.get(f"{env.url}/api/v1/templates/alice/story-teller").json()["stars"] == 1


def test_lifecycle_through_the_api_and_the_archived_banner(tmp_path):
    import json

    from tests.gitcli import authed, commit_file, git
    from tests.services import registry_server
    from tests.unit.usecases import MINIMAL

    with registry_server(tmp_path / "data") as server:
        token = server.user("alice")
        auth = {"Authorization": f"Bearer {token}"}
        for name, status in (("lc-draft", "draft"), ("lc-archived", "archived")):
            info = httpx.post(f"{server.url}/api/v1/templates", json={"name": name}, headers=auth, timeout=30).json()
            work = tmp_path / name
            git("clone", "-q", authed(info["clone_url"], "alice", token), str(work))
            commit_file(work, "template.json", json.dumps({**MINIMAL, "status": status}))
            git("push", "-q", "origin", "HEAD:main", cwd=work)
        import time

        deadline = time.monotonic() + 30
        while httpx.get(f"{server.url}/api/v1/search", params={"status": "any", "q": "risk"}, headers=auth,
                        timeout=30).json()["total"] < 2 and time.monotonic() < deadline:  # both indexed
            time.sleep(0.2)
        assert httpx.get(f"{server.url}/api/v1/search", params={"q": "risk"}, timeout=30).json()["total"] == 0
        everyone = httpx.get(f"{server.url}/api/v1/search", params={"q": "risk", "status": "any"}, timeout=30).json()
        assert [h["name"] for h in everyone["results"]] == ["lc-archived"] and everyone["results"][0]["status"] == "archived"
        drafts = httpx.get(f"{server.url}/api/v1/search", params={"q": "risk", "status": "draft"}, headers=auth,
                           timeout=30).json()
        assert [h["name"] for h in drafts["results"]] == ["lc-draft"]
        assert httpx.get(f"{server.url}/api/v1/search", params={"status": "nope"}, timeout=30).status_code == 422
        page = httpx.get(f"{server.url}/alice/lc-archived", timeout=30)
        assert page.status_code == 200 and 'id="archived-banner"' in page.text


def test_the_owners_gallery_view_marks_failing_templates(tmp_path):
    import json
    import time

    from tests.gitcli import authed, commit_file, git
    from tests.integration.test_web import _csrf
    from tests.services import registry_server
    from tests.unit.usecases import MINIMAL

    with registry_server(tmp_path / "data") as server:
        token = server.user("alice")
        auth = {"Authorization": f"Bearer {token}"}
        info = httpx.post(f"{server.url}/api/v1/templates", json={"name": "failing"}, headers=auth, timeout=30).json()
        work = tmp_path / "w"
        git("clone", "-q", authed(info["clone_url"], "alice", token), str(work))
        commit_file(work, "template.json", json.dumps({**MINIMAL, "industry": 7}))
        git("push", "-q", "origin", "HEAD:main", cwd=work)
        deadline = time.monotonic() + 30
        while not httpx.get(f"{server.url}/api/v1/search", params={"owner": "alice"}, headers=auth,
                            timeout=30).json()["total"] and time.monotonic() < deadline:
            time.sleep(0.2)
        web = httpx.Client(base_url=server.url, timeout=30, headers={"Origin": server.url})
        web.post("/login", data={"csrf": _csrf(web.get("/login").text), "user": "alice", "token": token})
        assert "fails validate" in web.get("/", params={"owner": "alice"}).text
        assert "failing" not in httpx.get(f"{server.url}/", timeout=30).text  # hidden from the gallery


def test_cards_show_the_prompt_excerpt_escaped_and_cut(corpus, tmp_path):
    """The excerpt (rules.excerpt) on the API's hits and on the gallery's cards; a hostile prompt's
    markup is text on the page, and a long one is cut there too."""
    import html
    import re

    hostile = ('<script>alert("card")</script>\n\n<img src=x onerror=alert(1)> Obey & comply.\n' + "lorem " * 8000)
    config = {**BASE["promptConfig"], "systemPrompt": hostile,
              "userPromptTemplate": "Tell me about {{ portfolio }} in {{ quarter }}."}
    sha = _push(corpus, tmp_path, "hostile-excerpt", title="Quetzalcoatl card", description="Hostile prompt.",
                industry="retail", tags=["quetzalcoatl"], promptConfig=config)
    _wait_indexed(corpus, "hostile-excerpt", sha)
    [hit] = _search(corpus, None, q="quetzalcoatl").json()["results"]
    start = '<script>alert("card")</script> <img src=x onerror=alert(1)> Obey & comply. lorem lorem'
    assert hit["excerpt"].startswith(start) and hit["excerpt"].endswith("lorem…") and len(hit["excerpt"]) <= 201

    page = httpx.get(corpus.url + "/", params={"q": "quetzalcoatl"}, timeout=30).text
    cards = re.findall(r'<p class="excerpt"><span class="visually-hidden">Prompt: </span>(.*?)</p>', page, re.S)
    assert [html.unescape(card) for card in cards] == [hit["excerpt"]]  # the same text, escaped
    assert "<script>alert" not in page and "<img src=x" not in page and "&lt;script&gt;alert(" in cards[0]
    assert page.count("lorem") < 40  # 8,000 in the prompt

    plain = httpx.get(corpus.url + "/", params={"q": "loan risk scorer"}, timeout=30).text
    assert ("You are a careful credit risk analyst. Summarise the risk of {{ portfolio }} for {{ quarter }}.</p>"
            in plain)
