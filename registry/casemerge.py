"""Three-way merge of a sandbox test file (`tests/*.json`: one case, or a list of cases) by test
case, named by its `name`: cases added on either side are kept, a case changed on one side takes
that change, and two changes of one case merge by JSON path. Only the same case changed apart
on both sides (or deleted on one and edited on the other) is in conflict, and it is one
conflict, the whole case, whatever its inner paths: a test case is what people choose between.

Files of another shape (no names, repeated names, not JSON) are left to the line merge."""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from . import jsonsafe
from .jsonmerge import MISSING, merge3

TEST_FILE = re.compile(r"tests/[^/]+\.json\Z")

Resolve = Callable[[str, Any, Any, Any], Any]  # (case name, base, ours, theirs) -> the case to keep or MISSING


def is_test_file(path: str) -> bool:
    return TEST_FILE.match(path) is not None


def cases_of(data: bytes) -> tuple[dict[str, Any], bool] | None:
    """(name -> case in file order, whether the file holds one case rather than a list), or None
    when `data` is not a test file whose cases all have distinct string names."""
    try:
        doc = jsonsafe.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    single = isinstance(doc, dict)
    items = [doc] if single else doc
    if not isinstance(items, list):
        return None
    cases: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or item["name"] in cases:
            return None
        cases[item["name"]] = item
    return cases, single


def merge_cases(base: bytes | None, ours: bytes, theirs: bytes,
                resolve: Resolve | None = None) -> tuple[bytes, list[str]] | None:
    """(the merged file, names of the cases in conflict), or None when a side is not a test file
    of named cases. A conflict keeps ours unless `resolve` decides it; the file keeps ours'
    shape (one case stays an object while one case is left) and ours' order, theirs' new cases
    after."""
    parsed = [cases_of(side) if side is not None else ({}, False) for side in (base, ours, theirs)]
    if any(p is None for p in parsed):
        return None
    (b, _), (o, single), (t, _) = (p for p in parsed if p is not None)
    merged: list[Any] = []
    conflicts: list[str] = []
    for name in list(o) + [n for n in t if n not in o]:
        bv, ov, tv = b.get(name, MISSING), o.get(name, MISSING), t.get(name, MISSING)
        value, inner = merge3(bv, ov, tv, f"$[{name!r}]")
        if inner:
            conflicts.append(name)
            value = ov if resolve is None else resolve(name, bv, ov, tv)
        if value is not MISSING:
            merged.append(value)
    doc: Any = merged[0] if single and len(merged) == 1 else merged
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode(), conflicts
