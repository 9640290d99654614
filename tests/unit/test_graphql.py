"""GraphQL in process (the app on an in-process container): the schema file, node ids and
connections, typed mutation errors, who may ask what and how (cookies), error shapes, the cost in
extensions and its budget, and statements per query (the loaders)."""
from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from api.app import create_app
from registry.meta import Protection
from registry.services import merging, pulls, templates
from tests.unit.usecases import World, manifest_files

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return World.make(tmp_path_factory.mktemp("gql"))


@pytest.fixture(scope="module")
def client(world) -> TestClient:
    return TestClient(create_app(world.c, "http://testserver"))


def bearer(world: World, user: str = "alice", scope: str = "write") -> dict[str, str]:
    from registry.services import users

    return {"Authorization": f"Bearer {users.create_token(world.c, user, scope)}"}


@pytest.fixture(scope="module")
def alice(world) -> dict[str, str]:
    return bearer(world)


@pytest.fixture(scope="module")
def g_shared(world) -> str:
    """A template the later tests read and star, made here so that each of them also runs alone."""
    templates.create(world.c, world.alice, "g-shared", description="shared")
    return "g-shared"


def ask(client: TestClient, query: str, headers: dict[str, str] | None = None, **variables) -> dict:
    resp = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers or {})
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_the_schema_file_is_the_schema_the_code_builds():
    printed = subprocess.run([sys.executable, "-m", "api.graphql.print_schema"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    assert printed == (ROOT / "schemas" / "schema.graphql").read_text(), \
        "schemas/schema.graphql is stale: python -m api.graphql.print_schema > schemas/schema.graphql"
    for name in ("type Query", "viewer: Viewer", "template(owner: String!, name: String!): Template",
                 "node(id: ID!): Node", "type Subscription", "interface MutationError"):
        assert name in printed


def test_the_served_schema_is_the_file(client):
    resp = client.get("/schema.graphql")
    assert resp.status_code == 200 and resp.text == (ROOT / "schemas" / "schema.graphql").read_text()
    assert 'href="/schema.graphql"' in client.get("/docs").text


def test_a_template_its_node_id_and_connections(world, client, alice):
    made = ask(client, 'mutation { createTemplate(input: {name: "g-one", description: "first"}) '
                       '{ template { id fullName description } errors { code } } }', alice)
    created = made["data"]["createTemplate"]
    assert created["errors"] == [] and created["template"]["fullName"] == "alice/g-one"
    t = world.c.meta.templates.get("alice", "g-one")
    for i in range(5):
        world.commit(t, manifest_files(title=f"One {i}"), branch=f"b{i}")
    node = ask(client, "query($id: ID!) { node(id: $id) { __typename ... on Template { name description } } }",
               alice, id=created["template"]["id"])
    assert node["data"]["node"] == {"__typename": "Template", "name": "g-one", "description": "first"}
    first = ask(client, '{ template(owner: "alice", name: "g-one") { branches(first: 2) { totalCount '
                        'pageInfo { hasNextPage hasPreviousPage endCursor } nodes { name } } } }', alice)
    page = first["data"]["template"]["branches"]
    assert page["totalCount"] == 5 and [b["name"] for b in page["nodes"]] == ["b0", "b1"]
    assert page["pageInfo"]["hasNextPage"] and not page["pageInfo"]["hasPreviousPage"]
    rest = ask(client, 'query($after: String) { template(owner: "alice", name: "g-one") { branches(first: 10, '
                       'after: $after) { nodes { name } pageInfo { hasNextPage hasPreviousPage } } } }', alice,
               after=page["pageInfo"]["endCursor"])["data"]["template"]["branches"]
    assert [b["name"] for b in rest["nodes"]] == ["b2", "b3", "b4"]
    assert rest["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True}
    bad = ask(client, '{ template(owner: "alice", name: "g-one") { branches(after: "nonsense") { totalCount } } }',
              alice)
    assert bad["errors"][0]["extensions"]["code"] == "invalid_input"
    nothing = ask(client, '{ node(id: "bm90IGFuIGlk") { id } }', alice)
    assert nothing["data"]["node"] is None and nothing["errors"][0]["extensions"]["code"] == "invalid_input"


def test_a_private_template_is_not_found_for_others_as_in_rest(world, client, alice):
    ask(client, 'mutation { createTemplate(input: {name: "g-secret", visibility: "private"}) { errors { code } } }',
        alice)
    for headers in ({}, bearer(world, "bob")):
        got = ask(client, '{ template(owner: "alice", name: "g-secret") { name } }', headers)
        assert got["data"]["template"] is None
        assert got["errors"][0]["extensions"] == {"code": "template_not_found", "status": 404}
    t = world.c.meta.templates.get("alice", "g-secret")
    node_id = base64.b64encode(f"Template:{t.id}".encode()).decode()
    assert ask(client, f'{{ node(id: "{node_id}") {{ id }} }}', bearer(world, "bob"))["data"]["node"] is None


def test_mutations_answer_typed_errors_in_the_payload(world, client, alice):
    query = ('mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { template { name } '
             'errors { __typename code message ... on InputError { field } ... on ConflictError { paths } } } }')
    bad = ask(client, query, alice, input={"name": "Not A Name"})["data"]["createTemplate"]
    assert bad["template"] is None and bad["errors"][0]["__typename"] == "InputError"
    assert bad["errors"][0]["field"] == "input.name"
    ask(client, query, alice, input={"name": "g-twice"})
    again = ask(client, query, alice, input={"name": "g-twice"})["data"]["createTemplate"]
    assert again["errors"][0]["__typename"] == "ConflictError" and again["errors"][0]["code"] == "already_exists"
    other = ask(client, query, alice, input={"name": "g-theirs", "owner": "bob"})["data"]["createTemplate"]
    assert other["errors"][0]["__typename"] == "ForbiddenError"
    anonymous = ask(client, query, None, input={"name": "g-anon"})
    assert anonymous["data"] is None and anonymous["errors"][0]["extensions"]["code"] == "unauthenticated"
    read_only = ask(client, query, bearer(world, "carol", "read"), input={"name": "g-ro"})["data"]["createTemplate"]
    assert read_only["errors"][0]["__typename"] == "ForbiddenError"


def test_commit_files_with_a_pull_request_then_merge_it_typed_stale_and_blocked(world, client, alice):
    t = templates.create(world.c, world.alice, "g-merge")
    main = world.commit(t, manifest_files())
    commit = ('mutation($input: CommitFilesInput!) { commitFiles(input: $input) { sha branch parent files { path sha } '
              'template { fullName } pullRequest { number state head { branch sha } files { path status '
              'manifestChanges { path kind new } } } errors { __typename code message '
              '... on StaleError { currentSha } } } }')
    changes = [{"path": "template.json", "text": manifest_files(title="Changed")["template.json"].decode()},
               {"path": "notes/readme.md", "contentBase64": base64.b64encode(b"# notes\n").decode()}]
    stale = ask(client, commit, alice, input={"owner": "alice", "name": "g-merge", "branch": "main", "parent": "1" * 40,
                                              "message": "edit", "changes": changes})["data"]["commitFiles"]
    assert stale["sha"] is None and stale["errors"][0]["__typename"] == "StaleError"
    assert stale["errors"][0]["currentSha"] == main
    both = ask(client, commit, alice, input={"owner": "alice", "name": "g-merge", "branch": "main", "parent": main,
                                             "message": "edit", "changes": [{"path": "x", "text": "a",
                                                                            "delete": True}]})
    assert both["data"]["commitFiles"]["errors"][0]["__typename"] == "InputError"
    done = ask(client, commit, alice, input={"owner": "alice", "name": "g-merge", "branch": "main", "parent": main,
                                             "message": "edit", "changes": changes, "newBranch": "feature",
                                             "createPull": {"title": "change"}})["data"]["commitFiles"]
    assert done["errors"] == [] and done["branch"] == "feature" and done["parent"] == main
    assert [f["path"] for f in done["files"]] == ["notes/readme.md", "template.json"]
    pull = done["pullRequest"]
    assert pull["state"] == "open" and pull["head"] == {"branch": "feature", "sha": done["sha"]}
    manifest = next(f for f in pull["files"] if f["path"] == "template.json")
    assert {"path": "$.title", "kind": "changed", "new": "Changed"} in manifest["manifestChanges"]

    merge = ('mutation($input: MergePullRequestInput!) { mergePullRequest(input: $input) { sha merged '
             'errors { __typename code ... on StaleError { currentSha } ... on MergeBlockedError { blockedBy } } } }')
    number = pull["number"]
    stale = ask(client, merge, alice, input={"owner": "alice", "name": "g-merge", "number": number,
                                             "expectedHeadSha": "0" * 40})["data"]["mergePullRequest"]
    assert stale["merged"] is False and stale["errors"] == [{"__typename": "StaleError", "code": "head_moved",
                                                              "currentSha": done["sha"]}]
    templates.set_protection(world.c, world.alice, "alice", "g-merge", Protection("main", False, False, (), 1))
    blocked = ask(client, merge, alice, input={"owner": "alice", "name": "g-merge", "number": number})
    errors = blocked["data"]["mergePullRequest"]["errors"]
    assert errors[0]["__typename"] == "MergeBlockedError" and errors[0]["blockedBy"]
    review = ask(client, 'mutation($input: ReviewPullRequestInput!) { reviewPullRequest(input: $input) '
                         '{ reviewId errors { code } } }', bearer(world, "bob"),
                 input={"owner": "alice", "name": "g-merge", "number": number, "event": "APPROVE", "body": "ok"})
    assert review["data"]["reviewPullRequest"]["errors"] == [] and review["data"]["reviewPullRequest"]["reviewId"]
    merged = ask(client, merge, alice, input={"owner": "alice", "name": "g-merge", "number": number})
    assert merged["data"]["mergePullRequest"]["errors"] == [], merged
    assert re.fullmatch("[0-9a-f]{40}", merged["data"]["mergePullRequest"]["sha"])


def test_errors_never_leak_internals(world, client, alice, monkeypatch):
    from registry import views

    def broken(*args, **kwargs):
        raise RuntimeError("psycopg: connection to db.internal:5432 user=registry failed")
    monkeypatch.setattr(views, "versions", broken)
    templates.create(world.c, world.alice, "g-leak")
    got = ask(client, '{ template(owner: "alice", name: "g-leak") { name versions { version } } }', alice)
    assert got["data"]["template"] is None
    assert got["errors"][0]["message"] == "internal server error"
    assert got["errors"][0]["extensions"] == {"code": "internal_error", "status": 500}
    assert "db.internal" not in str(got)


def test_transport_refusals_are_json_errors_and_get_takes_no_mutation(client, alice, g_shared):
    mutation = 'mutation { setStar(owner: "alice", name: "g-shared", starred: true) { stars } }'
    over_get = client.get("/graphql", params={"query": mutation}, headers=alice)
    assert over_get.status_code in (400, 405) and over_get.json()["error"]["message"]
    query = client.get("/graphql", params={"query": "{ viewer { login } }"}, headers=alice)
    assert query.status_code == 200 and query.json()["data"]["viewer"]["login"] == "alice"
    form = client.post("/graphql", content=b"query=x", headers={**alice, "content-type": "text/plain"})
    assert form.status_code == 400 and form.json()["error"]["code"] == "invalid_input"
    not_json = client.post("/graphql", content=b"{", headers={**alice, "content-type": "application/json"})
    assert not_json.status_code == 400 and "error" in not_json.json()


def test_a_cookie_session_asks_as_its_user_and_only_with_json(world, alice, g_shared):
    fresh = TestClient(create_app(world.c, "http://testserver"))
    token = alice["Authorization"].split()[1]
    login = fresh.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)
    fresh.post("/login", data={"user": "alice", "token": token, "csrf": csrf},
               headers={"origin": "http://testserver"}, follow_redirects=False)
    assert ask(fresh, "{ viewer { login } }")["data"]["viewer"]["login"] == "alice"
    mutation = '{"query": "mutation { setStar(owner: \\"alice\\", name: \\"g-shared\\", starred: true) { stars errors { message } } }"}'
    as_form = fresh.post("/graphql", content=mutation.encode(), headers={"content-type": "text/plain"})
    assert as_form.status_code == 400 and "application/json" in as_form.json()["error"]["message"]
    cross = fresh.post("/graphql", content=mutation.encode(), headers={"content-type": "application/json",
                                                                        "origin": "https://evil.example"})
    assert cross.status_code == 403
    same = fresh.post("/graphql", content=mutation.encode(), headers={"content-type": "application/json",
                                                                       "origin": "http://testserver"})
    assert same.status_code == 200 and same.json()["data"]["setStar"]["stars"] == 1, same.json()
    by_get = fresh.get("/graphql", params={"query": 'mutation { setStar(owner: "alice", name: "g-shared", '
                                                    'starred: false) { stars } }'})
    assert by_get.status_code in (400, 405)


def test_the_cost_is_in_extensions_and_drawn_from_the_callers_budget(world, client, g_shared):
    headers = bearer(world, "bob")
    first = ask(client, '{ viewer { login } template(owner: "alice", name: "g-shared") { pulls(first: 10) '
                        '{ nodes { title reviews { body } } } } }', headers)
    cost = first["extensions"]["cost"]
    # template 1 + pulls 1 + 10 × (reviews 1): scalars are free
    assert cost["requested"] == 1 + 1 + 10 * 1 + 1 and cost["limit"] == world.c.settings.graphql_max_cost
    assert cost["budget"] == world.c.settings.graphql_cost_per_minute
    second = ask(client, "{ viewer { login } }", headers)["extensions"]["cost"]
    assert second["remaining"] == cost["remaining"] - 1
    huge = ask(client, '{ templates(first: 100) { nodes { pulls(first: 100) { nodes { files { path } } } } } }',
               headers)
    assert huge["data"] is None and huge["errors"][0]["extensions"]["code"] == "query_too_costly"
    assert "100" in huge["errors"][0]["message"] or "cost" in huge["errors"][0]["message"]


def test_a_spent_budget_refuses_before_anything_runs(tmp_path):
    from registry.services import users
    from registry.settings import Settings

    small = World.make(tmp_path)
    c = type(small.c).build(Settings(data_dir=tmp_path / "data", graphql_cost_per_minute=30), migrate=False)
    client = TestClient(create_app(c, "http://testserver"))
    headers = {"Authorization": f"Bearer {users.create_token(c, 'alice')}"}
    query = '{ templates(first: 5) { nodes { name } } }'  # 1 + 5 × 0 + viewer... costs 1 per call
    spent = [ask(client, '{ templates(first: 10) { nodes { forkParent { name } } } }', headers) for _ in range(3)]
    assert "errors" not in spent[0] and spent[-1]["errors"][0]["extensions"]["code"] == "rate_limited"
    assert "try again in" in spent[-1]["errors"][0]["message"]
    other = {"Authorization": f"Bearer {users.create_token(c, 'bob')}"}
    assert "errors" not in ask(client, query, other)  # a budget is per token


def count_statements(world: World, client: TestClient, query: str, headers: dict[str, str], **variables) -> int:
    engine = world.c.meta.engine  # the SQL MetaStore's engine
    seen: list[str] = []

    def before(conn, cursor, statement, *args) -> None:
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", before)
    try:
        got = ask(client, query, headers, **variables)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert "errors" not in got, got
    return len(seen)


def test_a_page_of_pull_requests_reads_their_reviews_and_comments_in_constant_statements(world, client, alice):
    query = ('query($name: String!) { template(owner: "alice", name: $name) { pulls(first: 20) { totalCount '
             'nodes { number title author head { owner name branch } reviews { body author } '
             'comments { body } template { name } } } } }')
    counts = {}
    for n in (2, 12):
        name = f"g-many-{n}"
        t = templates.create(world.c, world.alice, name)
        world.commit(t, manifest_files())
        for i in range(n):
            world.commit(t, manifest_files(title=f"T{i}"), branch=f"f{i}")
            pull = pulls.open_pull(world.c, world.alice, "alice", name, f"p{i}", "", f"f{i}", "main")
            merging.review(world.c, world.bob, "alice", name, pull.number, "COMMENT", f"r{i}", [])
            merging.comment(world.c, world.bob, "alice", name, pull.number, f"c{i}")
        counts[n] = count_statements(world, client, query, alice, name=name)
    assert counts[12] == counts[2], counts  # not one more statement per pull request
    assert counts[12] < 2 * 12, counts  # a statement or two per pull request would pass this; none is needed


def test_the_same_template_asked_for_twice_is_read_once(world, client, alice, g_shared):
    one = count_statements(world, client, '{ template(owner: "alice", name: "g-shared") { stars rating checks '
                                          '{ state } } }', alice)
    twice = count_statements(world, client, '{ a: template(owner: "alice", name: "g-shared") { stars rating '
                                            'checks { state } } b: template(owner: "alice", name: "g-shared") '
                                            '{ stars ratingsCount manifest } }', alice)
    assert twice <= one + 2, (one, twice)  # the second lookup, not a second read of its detail
