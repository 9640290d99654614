"""/docs: the API reference, rendered on the server from the app's own OpenAPI document.

No script and nothing from a CDN: the same strict CSP as every page. Each operation shows its
method and path, who may call it, parameters with their rules, the body, and every answer with
its model; each model is listed once with its fields.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..openapi import document
from .render import page

router = APIRouter(include_in_schema=False)
METHODS = ("get", "post", "put", "patch", "delete")


def type_of(schema: dict[str, Any]) -> str:
    """A schema as a short type expression: `list[PullOut]`, `str | null`, `"open" | "closed"`."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "enum" in schema:
        return " | ".join(f'"{v}"' for v in schema["enum"])
    if "const" in schema:
        return f'"{schema["const"]}"'
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return " | ".join(type_of(s) for s in schema[key])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list[{type_of(schema.get('items', {}))}]"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map[str, {type_of(schema['additionalProperties'])}]"
    if kind == "string" and schema.get("format") == "binary":
        return "bytes"
    return str(kind)


def rules_of(schema: dict[str, Any]) -> str:
    """The constraints a value must meet, in a few words."""
    words = [f"{k} {schema[k]}" for k in ("minimum", "maximum", "exclusiveMinimum", "minLength", "maxLength",
                                           "maxItems", "maxProperties", "pattern") if k in schema]
    for option in schema.get("anyOf", []):
        words += [rules_of(option)] if rules_of(option) else []
    return ", ".join(words)


def _operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    ops = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
            ops.append({
                "id": op.get("operationId", f"{method}-{path}"), "method": method.upper(), "path": path,
                "summary": op.get("summary", ""), "description": op.get("description", ""),
                "auth": _auth(op.get("security", [])),
                "params": [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                            "type": type_of(p.get("schema", {})), "rules": rules_of(p.get("schema", {})),
                            "description": p.get("description", "")} for p in op.get("parameters", [])],
                "body": type_of(body) if body else None,
                "responses": [{"status": status, "description": r.get("description", ""),
                               "types": [f"{media}: {type_of(c.get('schema', {}))}" if c.get("schema") else media
                                         for media, c in r.get("content", {}).items()],
                               "links": sorted(r.get("links", {}))}
                              for status, r in sorted(op.get("responses", {}).items())],
            })
    return ops


def _auth(security: list[dict[str, Any]]) -> str:
    schemes = [name for s in security for name in s]
    if not schemes:
        return "none"
    anonymous = any(not s for s in security)
    return " or ".join(schemes) + (" (optional: anonymous callers see public templates)" if anonymous else "")


def _models(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, schema in sorted(doc.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        out.append({"name": name, "description": schema.get("description", ""), "fields": [
            {"name": field, "type": type_of(s), "required": field in required, "rules": rules_of(s),
             "description": s.get("description", "")} for field, s in schema.get("properties", {}).items()]})
    return out


@router.get("/docs")
def reference(request: Request) -> HTMLResponse:
    doc = document(request.app)
    return page(request, "reference.html", title="API reference", doc=doc, operations=_operations(doc),
                models=_models(doc), schemes=doc["components"]["securitySchemes"])
