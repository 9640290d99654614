"""Push-time secret detection: credentials must never be stored in a template repository."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from . import jsonsafe
from .schemas import secret_fields

# (kind, the literals every match starts with, the pattern). The literals are found with
# bytes.find (C speed); a pattern runs only on a window at each one, never over the whole blob
# (a regex starting with \b over megabytes of text was most of a large push's time).
PATTERNS: list[tuple[str, tuple[bytes, ...], re.Pattern[bytes]]] = [
    ("private key", (b"-----BEGIN ",), re.compile(rb"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----")),
    ("AWS access key", (b"AKIA", b"ASIA"), re.compile(rb"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("API key (sk-...)", (b"sk-",), re.compile(rb"\bsk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_\-]{20,}")),
    ("GitHub token", (b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_"), re.compile(rb"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("Slack token", (b"xoxa-", b"xoxb-", b"xoxp-", b"xoxr-", b"xoxs-"), re.compile(rb"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("Google API key", (b"AIza",), re.compile(rb"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("registry token", (b"rgt_",), re.compile(rb"\brgt_[A-Za-z0-9_\-]{40,}")),
]
WINDOW = 512  # longer than any pattern needs to decide


def _prefilter(literals: list[bytes]) -> re.Pattern[bytes]:
    """One regex that matches wherever any of `literals` occurs, so a blob with none of them
    (nearly all) costs a single pass instead of one bytes.find per literal. Each literal is found
    from an anchor byte, a `-` or `_` when it has one (rare in text; its first byte otherwise):
    the scan stops only at those bytes, and lookarounds check the rest of the literal there."""
    anchors, alternatives = set(), []
    for literal in literals:
        at = next((i for i, byte in enumerate(literal) if byte in b"-_"), 0)
        anchors.add(literal[at:at + 1])
        alternatives.append(b"(?<=" + re.escape(literal[:at + 1]) + b")" + re.escape(literal[at + 1:]))
    anchor_set = b"[" + b"".join(re.escape(a) for a in sorted(anchors)) + b"]"
    return re.compile(anchor_set + b"(?:" + b"|".join(alternatives) + b")")


PREFILTER = _prefilter([literal for _, literals, _ in PATTERNS for literal in literals])


def find_secret(data: bytes) -> str | None:
    """The kind of the first credential-looking string in `data`, or None."""
    if PREFILTER.search(data) is None:  # none of the literals: no pattern can match
        return None
    for kind, literals, pattern in PATTERNS:
        for literal in literals:
            at = data.find(literal)
            while at != -1:
                # re's \b at `pos` still sees the byte before it: "xAKIA..." is no key, as before.
                if pattern.match(data, at, at + WINDOW):
                    return kind
                at = data.find(literal, at + 1)
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
