"""JSON from a repository, read as hostile input: nesting is bounded before parsing.

`json.loads` itself stops deep nesting with a RecursionError, but anything under that limit
(hundreds of levels) still sends jsonschema, deepdiff and the three-way merge into Python
recursion later. Every document a push or a user supplies goes through `loads`, which refuses
more than MAX_DEPTH levels with a ValueError (what callers already treat as "not JSON").
"""
from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


class TooDeep(ValueError):
    pass


def depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in `data` (strings skipped)."""
    level = deepest = 0
    for token in _TOKENS.finditer(data):
        char = token.group()[:1]
        if char in (b"[", b"{"):
            level += 1
            deepest = max(deepest, level)
        elif char in (b"]", b"}"):
            level -= 1
    return deepest


def loads(data: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    raw = data.encode() if isinstance(data, str) else data
    if raw.count(b"[") + raw.count(b"{") > max_depth and depth(raw) > max_depth:
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    return json.loads(raw)
