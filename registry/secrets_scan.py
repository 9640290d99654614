"""Push-time secret detection: credentials must never be stored in a template repository."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from . import jsonsafe
from .schemas import secret_fields

PATTERNS: list[tuple[str, re.Pattern[bytes]]] = [
    ("private key", re.compile(rb"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----")),
    ("AWS access key", re.compile(rb"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("API key (sk-...)", re.compile(rb"\bsk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_\-]{20,}")),
    ("GitHub token", re.compile(rb"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("Slack token", re.compile(rb"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("Google API key", re.compile(rb"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("registry token", re.compile(rb"\brgt_[A-Za-z0-9_\-]{40,}")),
]


def find_secret(data: bytes) -> str | None:
    """The kind of the first credential-looking string in `data`, or None."""
    for kind, pattern in PATTERNS:
        if pattern.search(data):
            return kind
    return None


def literal_secrets(manifest: Any) -> Iterator[str]:
    """JSON paths in a manifest where the schema wants ${secrets.NAME} but a literal stands."""
    keys, maps, ref = secret_fields()

    def walk(node: Any, path: str) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                sub = f"{path}.{key}"
                if key in keys and isinstance(value, str) and value and not ref.fullmatch(value):
                    yield sub
                elif key in maps and isinstance(value, dict):
                    for name, item in value.items():
                        if isinstance(item, str) and item and not ref.fullmatch(item):
                            yield f"{sub}.{name}"
                else:
                    yield from walk(value, sub)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from walk(value, f"{path}[{i}]")

    yield from walk(manifest, "$")


def manifest_literal_secret(data: bytes) -> str | None:
    """First literal credential in a template.json blob (unparseable JSON is the validator's job)."""
    try:
        manifest = jsonsafe.loads(data)
    except ValueError:
        return None
    return next(literal_secrets(manifest), None)
