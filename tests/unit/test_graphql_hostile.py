"""The malicious query battery: each is refused with a reason before anything of it runs, in
milliseconds, and the server answers the next honest query as before."""
from __future__ import annotations

import gc
import time

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from registry.services import templates
from tests.unit.usecases import World

BUDGET_MS = 250  # CPU time of a refusal (the process's, so the machine's other load does not count)


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    world = World.make(tmp_path_factory.mktemp("hostile"))
    templates.create(world.c, world.alice, "target")
    client = TestClient(create_app(world.c, "http://testserver"))
    assert client.post("/graphql", json={"query": "{ viewer { login } }"}).status_code == 200  # warm: a first request builds the app's stack
    return client


def refused(client: TestClient, query: str, variables: dict | None = None) -> tuple[int, dict, float]:
    gc.collect()  # what earlier tests of this process left is not this refusal's cost
    gc.disable()
    try:
        started = time.process_time()
        resp = client.post("/graphql", json={"query": query, "variables": variables or {}})
        took = (time.process_time() - started) * 1000
    finally:
        gc.enable()
    body = resp.json()
    assert took < BUDGET_MS, f"{took:.0f} ms"
    print(f"refused in {took:.1f} ms of CPU: {query[:60]!r}")
    if resp.status_code == 200:
        assert body.get("data") is None and body["errors"], body
    else:
        assert 400 <= resp.status_code < 500 and body["error"]["message"], body
    return resp.status_code, body, took


def messages(body: dict) -> str:
    if "errors" in body:
        return " | ".join(e["message"] for e in body["errors"])
    return body["error"]["message"]


def nested(levels: int) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"pulls {{ nodes {{ template {{ {inner} }} }} }}"
    return f'{{ template(owner: "alice", name: "target") {{ {inner} }} }}'


def test_deep_nesting_is_refused_for_its_depth(client):
    _, body, _ = refused(client, nested(8))
    assert "fields deep; at most 15" in messages(body) and body["errors"][0]["extensions"]["code"] == "too_deep"


def test_ten_thousand_aliases_are_refused_for_size_before_parsing(client):
    query = "{ " + " ".join(f"a{i}: viewer {{ login }}" for i in range(10_000)) + " }"
    status, body, _ = refused(client, query)
    assert status == 413 and "longer than" in messages(body)


def test_many_aliases_within_the_size_are_refused_for_their_number(client):
    query = "{ " + " ".join(f"a{i}: viewer {{ login }}" for i in range(300)) + " }"
    _, body, _ = refused(client, query)
    assert "300 aliases; at most 100" in messages(body)


def test_repeated_fields_are_refused_for_their_tokens(client):
    query = "{ viewer { " + "id " * 4500 + "} }"
    _, body, _ = refused(client, query)
    assert "tokens" in messages(body)


def test_circular_fragments_are_refused(client):
    query = """
    { template(owner: "alice", name: "target") { ...A } }
    fragment A on Template { pulls { nodes { template { ...B } } } }
    fragment B on Template { forks { nodes { ...A } } }
    """
    _, body, _ = refused(client, query)
    assert "cannot spread fragment" in messages(body).lower()


def test_fragments_that_double_at_every_level_are_walked_once_each(client):
    names = [f"F{i}" for i in range(40)]
    flat = "\n".join(f"fragment {a} on Template {{ a: forkParent {{ name }} ...{b} ...{b} }}"
                      for a, b in zip(names, names[1:], strict=False))
    query = f'{{ template(owner: "alice", name: "target") {{ ...F0 }} }}\n{flat}\nfragment F39 on Template {{ name }}'
    _, body, _ = refused(client, query)  # 2^39 paths to the last one
    assert "cost" in messages(body)
    deep = "\n".join(f"fragment {a} on Template {{ forks {{ nodes {{ ...{b} }} }} ...{b} }}"
                      for a, b in zip(names, names[1:], strict=False))
    query = f'{{ template(owner: "alice", name: "target") {{ ...F0 }} }}\n{deep}\nfragment F39 on Template {{ name }}'
    _, body, _ = refused(client, query)
    assert "fields deep" in messages(body)


def test_huge_pages_are_refused_before_running(client):
    _, body, _ = refused(client, '{ templates(first: 1000000) { nodes { name } } }')
    assert "first must be from 0 to 100" in messages(body)
    _, body, _ = refused(client, 'query($n: Int) { templates(first: $n) { nodes { name } } }', {"n": 10**9})
    assert "first must be from 0 to 100" in messages(body)


def test_costly_breadth_is_refused_with_its_cost(client):
    query = '{ templates(first: 100) { nodes { forks(first: 100) { nodes { pulls(first: 100) { nodes { number } } } } } } }'
    _, body, _ = refused(client, query)
    assert body["errors"][0]["extensions"]["code"] == "query_too_costly" and "points" in messages(body)


def test_introspection_is_allowed_but_not_its_exponential_nesting(client):
    from graphql import get_introspection_query

    full = client.post("/graphql", json={"query": get_introspection_query(descriptions=True)})
    assert full.status_code == 200 and full.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    bomb = "{ __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }"
    _, body, _ = refused(client, bomb)
    assert "introspection nests more than" in messages(body)


def test_a_huge_string_or_bad_variables_are_refused(client):
    status, body, _ = refused(client, '{ template(owner: "' + "a" * 30_000 + '", name: "x") { name } }')
    assert status == 413
    _, body, _ = refused(client, 'query($o: String!) { template(owner: $o, name: "x") { name } }', {"o": 12})
    assert "String" in messages(body)
    ids = [f"id{i}" for i in range(5000)]
    resp = client.post("/graphql", json={"query": "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                                         "variables": {"ids": ids}})
    assert resp.status_code == 200 and resp.json()["errors"][0]["extensions"]["code"] == "invalid_input"


def test_the_server_answers_honest_queries_after_the_battery(client):
    resp = client.post("/graphql", json={"query": '{ template(owner: "alice", name: "target") { name } }'})
    assert resp.json()["data"] == {"template": {"name": "target"}}
