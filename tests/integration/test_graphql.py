"""GraphQL against a running server with a real client (gql): the main flows, the same data as
REST, and subscriptions that hear a git push within a second, on one node and across two nodes
that share PostgreSQL and Redis."""
from __future__ import annotations

import time

import httpx
from gql.transport.exceptions import TransportQueryError

from tests.gitcli import authed, commit_file, git
from tests.integration.graphql_client import Subscription, run
from tests.integration.test_pipeline import MINIMAL
from tests.pg import pg_database
from tests.services import redis_server, registry_server

PAGE = """
query Page($owner: String!, $name: String!) {
  template(owner: $owner, name: $name) {
    databaseId owner name fullName visibility description cloneUrl createdAt updatedAt
    forkParent { fullName } defaultBranch headSha manifest stars rating ratingsCount
    checks { context state description }
    versions { version sha message tagger date changes { path kind old new } }
    branches(first: 50) { nodes { name sha default } }
    tags(first: 50) { nodes { name sha commit } }
    pulls(state: "all", first: 20) { totalCount nodes { number title body state author head { owner name branch sha ref }
      base { branch } mergedSha createdAt updatedAt reviews { author event body } comments { author body } } }
    runs(first: 10) { totalCount nodes { runId state sha trigger } }
  }
}"""


def _push(env, name: str, tmp_path, files: dict[str, str], branch: str = "main", tag: str | None = None) -> str:
    work = tmp_path / f"w-{name}"
    if not work.exists():
        env.clone(f"{env.url}/alice/{name}.git", "alice", work)
    if branch != "main":
        git("checkout", "-q", "-B", branch, cwd=work)
    sha = ""
    for path, text in files.items():
        sha = commit_file(work, path, text)
    git("push", "-q", "origin", f"HEAD:{branch}", cwd=work)
    if tag:
        git("tag", "-a", tag, "-m", f"release {tag}", cwd=work)
        git("push", "-q", "origin", tag, cwd=work)
    git("checkout", "-q", "main", cwd=work) if branch != "main" else None
    return sha


def test_the_main_flows_answer_what_rest_answers(local_env, tmp_path):
    token = local_env.tokens["alice"]
    made = run(local_env.url, token, 'mutation { createTemplate(input: {name: "gql-page", description: "for both"}) '
                                     '{ template { fullName cloneUrl } errors { code message } } }')
    assert made["createTemplate"]["errors"] == [] and made["createTemplate"]["template"]["fullName"] == "alice/gql-page"
    sha = _push(local_env, "gql-page", tmp_path, {"template.json": MINIMAL, "README.md": "# page\n"}, tag="v1.0.0")
    assert local_env.check("gql-page", sha)["state"] == "success"
    _push(local_env, "gql-page", tmp_path, {"notes.md": "more\n"}, branch="feature")
    opened = run(local_env.url, token, 'mutation { openPullRequest(input: {owner: "alice", name: "gql-page", '
                                       'title: "notes", head: "feature"}) { pullRequest { number } errors { code } } }')
    number = opened["openPullRequest"]["pullRequest"]["number"]
    bob = local_env.tokens["bob"]
    commented = run(local_env.url, bob, 'mutation($n: Int!) { addComment(input: {owner: "alice", name: "gql-page", '
                                        'number: $n, body: "looks good"}) { comment { id author } errors { code } } }', n=number)
    assert commented["addComment"]["comment"]["author"] == "bob"
    reviewed = run(local_env.url, bob, 'mutation($n: Int!) { reviewPullRequest(input: {owner: "alice", name: "gql-page", '
                                       'number: $n, event: "APPROVE", body: "ok"}) { reviewId errors { code } } }', n=number)
    assert reviewed["reviewPullRequest"]["errors"] == []
    starred = run(local_env.url, bob, 'mutation { setStar(owner: "alice", name: "gql-page", starred: true) { stars } }')
    assert starred["setStar"]["stars"] == 1
    rated = run(local_env.url, bob, 'mutation { rateTemplate(owner: "alice", name: "gql-page", score: 4, review: "nice") '
                                    '{ rating ratingsCount } }')
    assert rated["rateTemplate"] == {"rating": 4.0, "ratingsCount": 1}

    got = run(local_env.url, token, PAGE, owner="alice", name="gql-page")["template"]
    with local_env.api() as api:
        rest = api.get("/templates/alice/gql-page").json()
        versions = api.get("/templates/alice/gql-page/versions").json()
        branches = api.get("/templates/alice/gql-page/branches").json()
        tags = api.get("/templates/alice/gql-page/tags").json()
        pulls = api.get("/templates/alice/gql-page/pulls", params={"state": "all"}).json()
        comments = api.get(f"/templates/alice/gql-page/pulls/{number}/comments").json()
        runs = api.get("/templates/alice/gql-page/runs").json()
    for key in ("owner", "name", "visibility", "description", "created_at", "updated_at", "default_branch",
                "head_sha", "manifest", "stars", "rating", "ratings", "clone_url"):
        camel = {"created_at": "createdAt", "updated_at": "updatedAt", "default_branch": "defaultBranch",
                 "head_sha": "headSha", "ratings": "ratingsCount", "clone_url": "cloneUrl"}.get(key, key)
        assert got[camel] == rest[key], key
    assert got["databaseId"] == rest["id"] and got["fullName"] == rest["full_name"]
    assert {c["context"]: {"state": c["state"], "description": c["description"]} for c in got["checks"]} == rest["checks"]
    assert [v["version"] for v in got["versions"]] == [v["version"] for v in versions] == rest["versions"]
    assert [{**v, "changes": v["changes"]} for v in got["versions"]] == [
        {k: v[k] for k in ("version", "sha", "message", "tagger", "date", "changes")} for v in versions]
    assert got["branches"]["nodes"] == branches and got["tags"]["nodes"] == tags
    assert got["pulls"]["totalCount"] == len(pulls)
    for ours, theirs in zip(got["pulls"]["nodes"], pulls, strict=True):
        assert ours["number"] == theirs["number"] and ours["head"] == theirs["head"]
        assert {k: ours[k] for k in ("title", "body", "state", "author", "mergedSha", "createdAt", "updatedAt")} == {
            "title": theirs["title"], "body": theirs["body"], "state": theirs["state"], "author": theirs["author"],
            "mergedSha": theirs["merged_sha"], "createdAt": theirs["created_at"], "updatedAt": theirs["updated_at"]}
    mine = next(p for p in got["pulls"]["nodes"] if p["number"] == number)
    assert [(c["author"], c["body"]) for c in mine["comments"]] == [(c["author"], c["body"]) for c in comments]
    assert [(r["author"], r["event"]) for r in mine["reviews"]] == [("bob", "APPROVE")]
    assert [(r["runId"], r["state"], r["sha"]) for r in got["runs"]["nodes"]] == [
        (r["id"], r["state"], r["sha"]) for r in runs]


def test_a_refusal_reaches_the_client_as_an_error_with_its_code(local_env):
    try:
        run(local_env.url, local_env.tokens["bob"], '{ template(owner: "alice", name: "gql-nowhere") { name } }')
    except TransportQueryError as exc:
        assert exc.errors[0]["extensions"]["code"] == "template_not_found"
    else:
        raise AssertionError("no error")


def test_a_subscription_hears_a_push_within_a_second(local_env, tmp_path):
    token = local_env.tokens["alice"]
    local_env.create("gql-live")
    query = ('subscription($o: String!, $n: String!) { templateEvents(owner: $o, name: $n) '
             '{ id action actor template payload } }')
    with Subscription(local_env.url, token, query, o="alice", n="gql-live") as sub:
        sha = _push(local_env, "gql-live", tmp_path, {"template.json": MINIMAL})
        pushed = time.monotonic()
        found = sub.wait_for(lambda item: item["templateEvents"]["action"] == "push", 5)
        assert found is not None, sub.received
        at, item = found
        assert item["templateEvents"]["payload"]["after"] == sha and item["templateEvents"]["actor"] == "alice"
        assert at - pushed < 1.0, f"{at - pushed:.2f} s"
        status = sub.wait_for(lambda item: item["templateEvents"]["action"] == "status.changed", 30)
        assert status is not None  # the checks' outcomes follow, from the workers


def test_a_subscription_to_what_one_may_not_read_is_refused(local_env):
    local_env.create("gql-private", visibility="private")
    query = 'subscription { templateEvents(owner: "alice", name: "gql-private") { id } }'
    with Subscription(local_env.url, local_env.tokens["bob"], query) as sub:
        sub._thread.join(5)  # the server answers the subscription with an error, which ends it
    assert isinstance(sub.error, TransportQueryError) and "not found" in str(sub.error), sub.error
    assert sub.received == []


def test_two_nodes_hear_each_others_events_through_redis_within_a_second(tmp_path):
    with pg_database() as db, redis_server() as redis:
        shared = {"REGISTRY_DATABASE_URL": db, "REGISTRY_REDIS_URL": redis, "REGISTRY_BLOB_DIR": str(tmp_path / "blobs"),
                  "REGISTRY_SECRET_KEY": "shared-secret"}
        with registry_server(tmp_path / "a", shared) as a, registry_server(tmp_path / "b", shared) as b:
            token = a.user("alice")
            info = httpx.post(f"{a.url}/api/v1/templates", json={"name": "gql-nodes"}, timeout=30,
                              headers={"Authorization": f"Bearer {token}"}).json()
            query = 'subscription { templateEvents(owner: "alice", name: "gql-nodes") { action payload } }'
            bell = __import__("redis").Redis.from_url(redis).pubsub()
            bell.subscribe("registry:events")  # what the nodes announce (workers/notify.py)
            with Subscription(b.url, token, query) as sub:  # on node b
                work = tmp_path / "w"
                git("clone", "-q", authed(info["clone_url"], "alice", token), str(work))
                sha = commit_file(work, "template.json", MINIMAL)
                git("push", "-q", "origin", "HEAD:main", cwd=work)  # through node a
                pushed = time.monotonic()
                found = sub.wait_for(lambda item: item["templateEvents"]["action"] == "push", 5)
                assert found is not None, sub.received
                assert found[1]["templateEvents"]["payload"]["after"] == sha
                assert found[0] - pushed < 1.0, f"{found[0] - pushed:.2f} s"
                star = httpx.put(f"{a.url}/api/v1/templates/alice/gql-nodes/star", timeout=30,
                                 headers={"Authorization": f"Bearer {token}"})
                assert star.status_code == 200
                starred = time.monotonic()
                found = sub.wait_for(lambda item: item["templateEvents"]["action"] == "star.created", 5)
                assert found is not None and found[0] - starred < 1.0
            rung = [m for m in iter(lambda: bell.get_message(timeout=0.5), None) if m["type"] == "message"]
            assert len(rung) >= 2  # the push and the star, each announced once its transaction committed


def test_a_revoked_token_ends_its_subscription_at_the_next_event(local_env):
    local_env.create("gql-revoke")
    with local_env.api() as api:
        made = api.post("/user/tokens", json={"scope": "write"}).json()
    query = 'subscription { templateEvents(owner: "alice", name: "gql-revoke") { action } }'
    with Subscription(local_env.url, made["token"], query) as sub, local_env.api() as api:
        assert api.put("/templates/alice/gql-revoke/star").status_code == 200
        assert sub.wait_for(lambda item: item["templateEvents"]["action"] == "star.created", 5) is not None
        assert api.delete(f"/user/tokens/{made['id']}").status_code == 204
        assert api.delete("/templates/alice/gql-revoke/star").status_code == 200
        sub._thread.join(5)
    assert isinstance(sub.error, TransportQueryError) and "token revoked" in str(sub.error), sub.error
    assert "unauthenticated" in str(sub.error) or "token_revoked" in str(sub.error)
    assert [item["templateEvents"]["action"] for _, item in sub.received] == ["star.created"]
