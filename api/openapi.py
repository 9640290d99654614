"""The OpenAPI document as a contract: one error model for every documented 4xx/5xx, security
per operation, media types that say what is sent, and links for the obvious chains.

FastAPI builds the document from the routes' typed models; `document` then states what the
routes alone cannot: which errors each operation may answer (from its dependencies: who must be
signed in, which path names a template), how callers authenticate, and how answers lead on.
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from .deps import SIGNED_IN
from .models.common import ErrorOut

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


# Per-route additions, given as `responses=` where the route is declared.
WRITE: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "conflicts with the current state (exists already, concurrent change)"},
    412: {"model": ErrorOut, "description": "a precondition failed (the head or the branch moved)"},
    413: {"model": ErrorOut, "description": "the request body is larger than REGISTRY_MAX_BODY_BYTES"},
}
PAGED: dict[int | str, dict[str, Any]] = {200: {"description": "one page", "headers": {
    "Link": {"description": "RFC 8288 first/prev/next/last links", "schema": {"type": "string"}},
    "X-Total-Count": {"description": "matches over all pages, for this caller", "schema": {"type": "string"}}}}}
BINARY: dict[int | str, dict[str, Any]] = {200: {"description": "the file's bytes, as stored", "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}

# What every API operation may answer, whatever its route.
COMMON = {
    "400": "the request is well-formed but names something unusable (a missing branch, no changes)",
    "401": "credentials were given but are not valid (revoked, expired, malformed)",
    "403": "signed in, but not allowed to do this",
    "422": "a parameter or the body breaks the schema",
    "429": "rate limited; see Retry-After",
    "503": "storage is unavailable; try again",
}
SIGNED_IN_ONLY = {"401": "authentication required, or credentials not valid"}
TEMPLATE = {"404": "no such template or object, or not visible to the caller (private templates answer 404)"}
MERGE = {"405": "the merge is blocked: `blocked_by` says why"}

BASIC_SCHEME = {"type": "http", "scheme": "basic",
                "description": "user name and API token as password (git's credential helpers)"}

LINKS = {
    ("/api/v1/templates", "post", "201"): {
        "GetTemplate": ("templates_get_template", {"owner": "$response.body#/owner", "name": "$response.body#/name"}),
        "ListPulls": ("pulls_index", {"owner": "$response.body#/owner", "name": "$response.body#/name"}),
    },
    ("/api/v1/templates/{owner}/{name}", "get", "200"): {
        "ListPulls": ("pulls_index", {"owner": "$response.body#/owner", "name": "$response.body#/name"}),
        "Statuses": ("templates_commit_statuses", {"owner": "$response.body#/owner", "name": "$response.body#/name",
                                                   "sha": "$response.body#/head_sha"}),
    },
    ("/api/v1/templates/{owner}/{name}/pulls", "post", "201"): {
        "GetPull": ("pulls_show", {"owner": "$request.path.owner", "name": "$request.path.name",
                                   "number": "$response.body#/number"}),
        "Mergeability": ("pulls_mergeability", {"owner": "$request.path.owner", "name": "$request.path.name",
                                                "number": "$response.body#/number"}),
        "Merge": ("pulls_merge", {"owner": "$request.path.owner", "name": "$request.path.name",
                                  "number": "$response.body#/number"}),
    },
}


def operation_id(route: APIRoute) -> str:
    """`{module}_{function}`: stable, unique and readable in generated clients."""
    return f"{route.endpoint.__module__.rsplit('.', 1)[-1]}_{route.name}"


def document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = doc.setdefault("components", {})
    error = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components.setdefault("schemas", {}).update(error.pop("$defs", {}), ErrorOut=error)
    for unused in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(unused, None)
    components.setdefault("securitySchemes", {}).setdefault("basic", BASIC_SCHEME)
    for path, item in doc["paths"].items():
        for method, op in item.items():
            # get_signed_in declares a marker scope; get_actor declares the schemes, optional.
            signed_in = any(SIGNED_IN in scopes for req in op.get("security", []) for scopes in req.values())
            _complete(path, method, op, signed_in)
    app.openapi_schema = doc
    return doc


def _complete(path: str, method: str, op: dict[str, Any], signed_in: bool) -> None:
    responses: dict[str, Any] = op.setdefault("responses", {})
    git = path.endswith(("/info/refs", "/git-upload-pack", "/git-receive-pack")) and ".git" in path
    if git:
        op["security"] = [{"basic": []}, {}]
        op["tags"] = ["git"]
        _git_media(path, op)
        return
    if path in ("/healthz", "/metrics"):
        op["security"] = [{}]
        return
    op["security"] = [{"bearer": []}, {"basic": []}] if signed_in else [{"bearer": []}, {"basic": []}, {}]
    extra = dict(COMMON) | (SIGNED_IN_ONLY if signed_in else {}) | (TEMPLATE if "{" in path else {})
    if path.endswith("/merge"):
        extra |= MERGE
    for status, why in extra.items():
        responses.setdefault(status, _error(why))
    responses["422"] = _error(COMMON["422"])  # FastAPI documents its own shape; ours is ErrorOut
    for status, response in responses.items():
        links = LINKS.get((path, method, status), {})
        if links:
            response["links"] = {name: {"operationId": target, "parameters": params}
                                 for name, (target, params) in links.items()}


def _git_media(path: str, op: dict[str, Any]) -> None:
    """Git speaks pkt-lines, never JSON; its errors are ErrorOut like the API's."""
    responses = op["responses"]
    services = {"type": "string", "enum": ["git-upload-pack", "git-receive-pack"]}
    if path.endswith("/info/refs"):
        kind = "advertisement"
        op["parameters"] = [p for p in op.get("parameters", []) if p["name"] != "service"] + [
            {"name": "service", "in": "query", "required": True, "schema": services}]
    else:
        kind = "result"
        services["enum"] = [path.rsplit("/", 1)[1]]
        op["requestBody"] = {"required": True, "description": "pkt-lines (a pack follows for receive-pack)",
                             "content": {f"application/x-{services['enum'][0]}-request": {
                                 "schema": {"type": "string", "format": "binary"}}}}
    if "git-receive-pack" not in path:
        op["parameters"] = [*op.get("parameters", []), {
            "name": "Git-Protocol", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "`version=2` asks upload-pack for git protocol v2 (push stays on v0)"}]
    responses["200"] = {"description": f"git smart HTTP {kind}", "content": {
        f"application/x-{svc}-{kind}": {"schema": {"type": "string", "format": "binary"}}
        for svc in services["enum"]}}
    for status, why in (("400", "not a git request this server understands"),
                        ("401", "credentials needed (private template or push)"), ("403", "may not push here"),
                        ("404", "no such template"), ("413", "the request is too large"),
                        ("415", "wrong Content-Type for a git request"), ("422", COMMON["422"]),
                        ("429", COMMON["429"]), ("503", COMMON["503"])):
        responses[status] = _error(why)
