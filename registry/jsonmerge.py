"""Three-way merge of JSON documents by path: edits of different keys never conflict; only the
same path changed differently on both sides does. Lists of named items merge item by item."""
from __future__ import annotations

from typing import Any

MISSING = object()
NAME_KEYS = ("name", "serverId", "id")


def merge3(base: Any, ours: Any, theirs: Any, path: str = "$") -> tuple[Any, list[str]]:
    """(merged value, JSON paths in conflict). A removed key is MISSING in the result."""
    if ours == theirs:
        return ours, []
    if base == ours:
        return theirs, []
    if base == theirs:
        return ours, []
    if all(isinstance(v, dict) for v in (ours, theirs)) and isinstance(base, (dict, type(MISSING))):
        return _merge_dicts(base if isinstance(base, dict) else {}, ours, theirs, path)
    key = _name_key(base, ours, theirs)
    if key:
        as_dict = [{item[key]: item for item in v} if isinstance(v, list) else {} for v in (base, ours, theirs)]
        base_d, ours_d, theirs_d = as_dict
        merged, conflicts = _merge_dicts(base_d, ours_d, theirs_d, path, index_of={n: i for i, n in enumerate(ours_d)})
        return list(merged.values()), conflicts
    return ours, [path]


def _merge_dicts(
    base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any], path: str, index_of: dict[str, int] | None = None
) -> tuple[dict[str, Any], list[str]]:
    merged: dict[str, Any] = {}
    conflicts: list[str] = []
    for key in list(ours) + [k for k in theirs if k not in ours]:
        sub = f"{path}[{index_of[key]}]" if index_of is not None and key in index_of else \
            f"{path}[{key!r}]" if index_of is not None else f"{path}.{key}"
        value, more = merge3(base.get(key, MISSING), ours.get(key, MISSING), theirs.get(key, MISSING), sub)
        conflicts += more
        if value is not MISSING:
            merged[key] = value
    return merged, conflicts


def _name_key(*values: Any) -> str | None:
    lists = [v for v in values if isinstance(v, list)]
    if len(lists) < 2:
        return None
    for key in NAME_KEYS:
        if all(isinstance(i, dict) and isinstance(i.get(key), str) for v in lists for i in v):
            return key
    return None
