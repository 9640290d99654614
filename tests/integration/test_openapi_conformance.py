"""The OpenAPI document as a contract: schemathesis over every operation, in three shards (this file
and test_openapi_conformance_b.py, _c.py, run side by side by xdist; the run is in
tests/conformance.py), and the document's own shape."""
from __future__ import annotations

from tests.conformance import every_operation_keeps_its_contract, fixtures, unlimited_env  # noqa: F401 (fixtures)


def test_every_operation_keeps_its_contract(fixtures):  # noqa: F811
    every_operation_keeps_its_contract(fixtures, 0)


def test_document_states_security_errors_and_media_types(local_env):
    import httpx

    doc = httpx.get(local_env.url + "/openapi.json").json()
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "basic"}
    create = doc["paths"]["/api/v1/templates"]["post"]
    assert {"bearer": []} in create["security"] and {} not in create["security"]
    assert {} in doc["paths"]["/api/v1/templates"]["get"]["security"]  # anonymous may list
    for status in ("401", "403", "409", "422", "429"):
        assert create["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    raw = doc["paths"]["/api/v1/templates/{owner}/{name}/raw/{rest}"]["get"]["responses"]["200"]["content"]
    assert list(raw) == ["application/octet-stream"]
    assert "text/plain" in doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    links = create["responses"]["201"]["links"]
    assert links["ListPulls"]["operationId"] == "pulls_index"
    merge_link = doc["paths"]["/api/v1/templates/{owner}/{name}/pulls"]["post"]["responses"]["201"]["links"]["Merge"]
    assert merge_link["operationId"] == "pulls_merge"
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    untyped = [(path, method) for path, item in doc["paths"].items() for method, op in item.items()
               for status, r in op["responses"].items() if status.startswith("2")
               for media, content in r.get("content", {}).items()
               if media == "application/json" and content.get("schema") in ({}, None)]
    assert untyped == []


def test_405_names_every_allowed_method(local_env):
    import httpx

    local_env.create("methods")
    resp = httpx.post(local_env.url + "/api/v1/templates/alice/methods",
                      headers={"Authorization": f"Bearer {local_env.tokens['alice']}"})
    assert resp.status_code == 405
    assert set(resp.headers["allow"].split(", ")) >= {"GET", "PATCH", "DELETE"}
    assert resp.json()["error"]["code"] == "method_not_allowed"


def test_reference_page_is_served_without_outside_resources(local_env):
    import httpx

    resp = httpx.get(local_env.url + "/docs")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert "POST /api/v1/templates/{owner}/{name}/pulls/{number}/merge" in html
    assert 'id="model-PullOut"' in html and 'id="model-ErrorOut"' in html
    assert "<script" not in html and "cdn" not in html.lower()
    assert "script-src" not in resp.headers["content-security-policy"]
    assert '<a href="/docs">API</a>' in httpx.get(local_env.url + "/").text

