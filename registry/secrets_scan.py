"""Push-time secret detection: credentials must never be stored in a template repository."""
from __future__ import annotations

import re
import threading
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


LITERALS = [literal for _, literals, _ in PATTERNS for literal in literals]
PREFILTER = _prefilter(LITERALS)


class _Hyperscan:
    """The same literals found by Hyperscan (SIMD, when the package is installed): 0.1 s instead
    of 1.8 s for the 135 MB of blobs in pallets/jinja's history. Only which blobs get the exact
    check below changes, never what it decides. A scratch space per thread, as Hyperscan needs."""

    def __init__(self, hs: Any) -> None:
        self.hs = hs
        self.db = hs.Database()
        self.db.compile(expressions=[re.escape(lit) for lit in LITERALS], ids=list(range(len(LITERALS))),
                        elements=len(LITERALS), flags=[hs.HS_FLAG_SINGLEMATCH] * len(LITERALS))
        self.local = threading.local()

    def contains_any(self, data: bytes) -> bool:
        scratch = getattr(self.local, "scratch", None)
        if scratch is None:
            scratch = self.local.scratch = self.hs.Scratch(self.db)
        found: list[int] = []

        def stop(literal_id: int, start: int, end: int, flags: int, context: object) -> bool:
            found.append(literal_id)
            return True  # one is enough: stop the scan

        try:
            self.db.scan(data, match_event_handler=stop, scratch=scratch)
        except self.hs.ScanTerminated:
            pass
        return bool(found)


def _hyperscan() -> _Hyperscan | None:
    try:
        import hyperscan
    except ImportError:  # an optional dependency (x86-64 Linux wheels): the regex prefilter then
        return None
    return _Hyperscan(hyperscan)


FAST = _hyperscan()


def find_secret(data: bytes) -> str | None:
    """The kind of the first credential-looking string in `data`, or None."""
    if not (FAST.contains_any(data) if FAST is not None else PREFILTER.search(data)):
        return None  # none of the literals: no pattern can match
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
