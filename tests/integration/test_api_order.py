"""Two API contract fixes from issue 16: an anonymous write is refused (401) before its body is
validated, and listings filter visibility in the query, so counts and pages are exact."""
from __future__ import annotations

import httpx


def test_anonymous_writes_are_401_whatever_their_body(local_env):
    base = f"{local_env.url}/api/v1"
    for method, path, body in [("POST", "/templates", {"name": 5}), ("POST", "/templates", None),
                               ("PATCH", "/templates/alice/x", {"visibility": "nope"}),
                               ("POST", "/templates/alice/x/pulls", {}),
                               ("POST", "/templates/alice/x/ratings", {"score": 99}),
                               ("POST", "/user/tokens", {"scope": "root"})]:
        resp = httpx.request(method, base + path, json=body, timeout=30)
        assert resp.status_code == 401, (method, path, resp.status_code, resp.text)
        assert resp.json()["error"]["code"] == "unauthenticated"
    with local_env.api() as alice:  # signed in, the body is validated as before
        assert alice.post("/templates", json={"name": 5}).status_code == 422


def test_listing_counts_and_pages_only_what_the_reader_may_see(local_env):
    for name, visibility in (("list-a", "public"), ("list-b", "private"), ("list-c", "public")):
        local_env.create(name, user="carol", visibility=visibility)
    anonymous = httpx.get(f"{local_env.url}/api/v1/templates", params={"owner": "carol", "per_page": 1, "page": 2},
                          timeout=30)
    assert anonymous.headers["X-Total-Count"] == "2"
    assert [t["name"] for t in anonymous.json()] == ["list-c"]
    with local_env.api("carol") as carol:
        mine = carol.get("/templates", params={"owner": "carol", "per_page": 10})
    assert mine.headers["X-Total-Count"] == "3"


def test_out_of_range_numbers_in_paths_are_422_not_500(local_env):
    with local_env.api() as alice:
        for path in ("/templates/alice/x/pulls/99999999999999999999999", "/templates/alice/x/pulls/0"):
            assert alice.get(path).status_code == 422
        assert alice.delete("/user/tokens/99999999999999999999999").status_code == 422
