"""The template page's data in one GraphQL query against the REST calls it replaces (issue 35):
the template (manifest, checks, stars), its versions, runs, open pull requests and each one's
conversation, and 30 days of usage; p50/p95 of each over the same served registry.

    make bench   (or: python -m bench.bench_graphql [--rounds 100])
"""
from __future__ import annotations

import argparse
import base64
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.stats import pct
from tests.gitcli import authed, git
from tests.services import registry_server

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples"
PULLS = 5
QUERY = """
query Page($owner: String!, $name: String!) {
  template(owner: $owner, name: $name) {
    fullName description defaultBranch headSha manifest stars rating ratingsCount cloneUrl
    checks { context state description }
    versions { version sha date changes { path kind } }
    runs(first: 5) { nodes { runId state summary } }
    pulls(first: 20) { totalCount nodes { number title author state head { branch sha }
      comments { author body } reviews { author event } } }
    analytics { date views clones stars }
  }
}"""


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def rest_page(api: httpx.Client, owner: str, name: str) -> int:
    """What a REST client asks for the same page; how many calls it took."""
    base = f"/templates/{owner}/{name}"
    calls = [api.get(base), api.get(f"{base}/versions"), api.get(f"{base}/runs", params={"per_page": 5}),
             api.get(f"{base}/pulls", params={"per_page": 20}), api.get(f"{base}/analytics")]
    for pull in calls[3].json():
        calls.append(api.get(f"{base}/pulls/{pull['number']}/comments"))
    assert all(c.status_code == 200 for c in calls)
    return len(calls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    manifest = (EXAMPLES / "minimal.template.json").read_text()
    with tempfile.TemporaryDirectory() as tmp, registry_server(Path(tmp) / "data") as server:
        token = server.accounts(("alice", "bob"), {"alice": ("alice", "write"), "bob": ("bob", "write")})
        headers = {"Authorization": f"Bearer {token['alice']}"}
        api = httpx.Client(base_url=server.url + "/api/v1", headers=headers, timeout=30)
        bob = httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token['bob']}"},
                           timeout=30)
        info = api.post("/templates", json={"name": "page"}).json()
        made = api.post("/templates/alice/page/commits", json={"branch": "main", "message": "start", "changes": [
            {"path": "template.json", "content_base64": b64(manifest)}, {"path": "README.md", "content_base64": b64("# page\n")}]})
        assert made.status_code == 201, made.text
        work = Path(tmp) / "work"
        git("clone", "-q", authed(info["clone_url"], "alice", token["alice"]), str(work))
        for version in ("v1.0.0", "v1.1.0"):
            git("tag", "-a", version, "-m", version, cwd=work)
            git("push", "-q", "origin", version, cwd=work)
        tip = made.json()["sha"]
        for i in range(PULLS):
            done = api.post("/templates/alice/page/commits", json={
                "branch": "main", "parent": tip, "message": f"change {i}", "new_branch": f"f{i}",
                "changes": [{"path": f"notes/{i}.md", "content_base64": b64(f"note {i}\n")}],
                "create_pull": {"title": f"change {i}"}})
            assert done.status_code == 201, done.text
            number = done.json()["pull"]["number"]
            bob.post(f"/templates/alice/page/pulls/{number}/comments", json={"body": "looks fine"})
            bob.post(f"/templates/alice/page/pulls/{number}/reviews", json={"event": "APPROVE", "body": "ok"})
        bob.put("/templates/alice/page/star")
        graph = httpx.Client(base_url=server.url, headers=headers, timeout=30)

        def graphql_page() -> dict:
            resp = graph.post("/graphql", json={"query": QUERY, "variables": {"owner": "alice", "name": "page"}})
            body = resp.json()
            assert resp.status_code == 200 and "errors" not in body, body
            return body

        for _ in range(10):  # warm up both
            calls = rest_page(api, "alice", "page")
            answer = graphql_page()
        assert len(answer["data"]["template"]["pulls"]["nodes"]) == PULLS
        rest_ms, graph_ms = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            rest_page(api, "alice", "page")
            rest_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            graphql_page()
            graph_ms.append((time.perf_counter() - start) * 1000)
    cost = answer["extensions"]["cost"]["requested"]
    print(f"template page data, REST ({calls} calls): p50 {statistics.median(rest_ms):.1f} ms  "
          f"p95 {pct(rest_ms, 0.95):.1f} ms over {args.rounds} rounds")
    print(f"template page data, GraphQL (1 query, cost {cost}): p50 {statistics.median(graph_ms):.1f} ms  "
          f"p95 {pct(graph_ms, 0.95):.1f} ms; {len(json.dumps(answer))} bytes")


if __name__ == "__main__":
    main()
