"""The JSON Schemas of schemas/, loaded once, and what they say about secrets."""
from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.validators import validator_for

_CANDIDATES = (Path(__file__).resolve().parents[1] / "schemas", Path.cwd() / "schemas")


@cache
def load(name: str) -> dict[str, Any]:
    for folder in _CANDIDATES:
        path = folder / name
        if path.exists():
            schema: dict[str, Any] = json.loads(path.read_text())
            return schema
    raise FileNotFoundError(f"schema {name} not found in {', '.join(map(str, _CANDIDATES))}")


@cache
def validator(name: str) -> Draft202012Validator:
    schema = load(name)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_problem(schema: Any) -> str | None:
    """Why `schema` is not a valid JSON Schema (of the dialect it names), or None."""
    if not isinstance(schema, dict):
        return "must be an object"
    cls = validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except Exception as exc:  # jsonschema.SchemaError, or an unknown $schema dialect
        return getattr(exc, "message", str(exc))
    return None


@cache
def secret_fields() -> tuple[frozenset[str], frozenset[str], re.Pattern[str]]:
    """(keys whose value must be a secret reference, keys whose every value must be one,
    the reference pattern) — read off the manifest schema so there is one source of truth."""
    schema = load("template.schema.json")
    target = "#/$defs/secretRef"
    keys, maps = set(), set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, sub in (node.get("properties") or {}).items():
                if isinstance(sub, dict) and sub.get("$ref") == target:
                    keys.add(key)
                if isinstance(sub, dict) and (sub.get("additionalProperties") or {}).get("$ref") == target:
                    maps.add(key)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return frozenset(keys), frozenset(maps), re.compile(schema["$defs"]["secretRef"]["pattern"])
