"""Three-way merge of JSON documents by path: edits of different keys never conflict; only the
same path changed differently on both sides does. Lists of named items merge item by item when
both sides still have the list; a list (or object) deleted on one side and edited on the other
is one conflict at its path, never merged item by item (that would keep the edited side's new
items in a list the other side deleted).

A caller that knows how each conflict should end (the conflict view, `registry.conflicts`)
passes `resolve`: it is asked once per conflicting path, in document order, and its answer
(MISSING to leave the key out) takes the place of "ours"."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

MISSING = object()
NAME_KEYS = ("name", "serverId", "id")

Resolve = Callable[[str, Any, Any, Any], Any]  # (JSON path, base, ours, theirs) -> the value to keep


def merge3(base: Any, ours: Any, theirs: Any, path: str = "$",
           resolve: Resolve | None = None) -> tuple[Any, list[str]]:
    """(merged value, JSON paths in conflict). A removed key is MISSING in the result; an
    unresolved conflict keeps ours."""
    if ours == theirs:
        return ours, []
    if base == ours:
        return theirs, []
    if base == theirs:
        return ours, []
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return _merge_dicts(base if isinstance(base, dict) else {}, ours, theirs, path, resolve)
    key = _name_key(base, ours, theirs) if isinstance(ours, list) and isinstance(theirs, list) else None
    if key:
        as_dict = [{item[key]: item for item in v} if isinstance(v, list) else {} for v in (base, ours, theirs)]
        base_d, ours_d, theirs_d = as_dict
        merged, conflicts = _merge_dicts(base_d, ours_d, theirs_d, path, resolve,
                                         index_of={n: i for i, n in enumerate(ours_d)})
        return list(merged.values()), conflicts
    return (ours if resolve is None else resolve(path, base, ours, theirs)), [path]


def _merge_dicts(base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any], path: str,
                 resolve: Resolve | None, index_of: dict[str, int] | None = None) -> tuple[dict[str, Any], list[str]]:
    merged: dict[str, Any] = {}
    conflicts: list[str] = []
    for key in list(ours) + [k for k in theirs if k not in ours]:
        sub = f"{path}[{index_of[key]}]" if index_of is not None and key in index_of else \
            f"{path}[{key!r}]" if index_of is not None else f"{path}.{key}"
        value, more = merge3(base.get(key, MISSING), ours.get(key, MISSING), theirs.get(key, MISSING), sub, resolve)
        conflicts += more
        if value is not MISSING:
            merged[key] = value
    return merged, conflicts


def _name_key(*values: Any) -> str | None:
    """The key that names every item of the lists among `values` (unique in each list), if any."""
    lists = [v for v in values if isinstance(v, list)]
    for key in NAME_KEYS:
        if all(isinstance(i, dict) and isinstance(i.get(key), str) for v in lists for i in v) and \
                all(len({i[key] for i in v}) == len(v) for v in lists):
            return key
    return None
