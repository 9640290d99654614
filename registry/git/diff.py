"""What changed between two commits: per-file status and unified diff, and for template.json a
structured diff by JSON path (deepdiff) — the view prompt authors actually want."""
from __future__ import annotations

import difflib
from typing import Any

from deepdiff import DeepDiff
from dulwich.diff_tree import RenameDetector, tree_changes
from dulwich.objects import Commit, ObjectID

from .. import jsonsafe
from .repo import TemplateRepo

MANIFEST = "template.json"
STATUS = {"add": "added", "delete": "removed", "modify": "modified", "rename": "renamed", "copy": "copied"}
KINDS = {"values_changed": "changed", "type_changes": "changed", "dictionary_item_added": "added",
         "dictionary_item_removed": "removed", "iterable_item_added": "added", "iterable_item_removed": "removed"}


def json_path(parts: list[Any]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def structured(old: Any, new: Any) -> list[dict[str, Any]]:
    """Changes between two manifests by JSON path: kind added|removed|changed, old and new value."""
    changes = []
    for report, items in DeepDiff(old, new, view="tree", ignore_order=False).items():
        kind = KINDS.get(report)
        if kind is None:
            continue
        for item in items:
            changes.append({"path": json_path(item.path(output_format="list")), "kind": kind,
                            "old": None if kind == "added" else item.t1, "new": None if kind == "removed" else item.t2})
    return sorted(changes, key=lambda c: c["path"])


def _text(repo: TemplateRepo, sha: ObjectID | None) -> tuple[str | None, bytes]:
    if sha is None:
        return "", b""
    data = repo.object_store[sha].as_raw_string()
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError:
        return None, data


def file_changes(repo: TemplateRepo, old_commit: bytes, new_commit: bytes) -> list[dict[str, Any]]:
    store = repo.object_store
    old = store[ObjectID(old_commit)] if old_commit else None
    assert old is None or isinstance(old, Commit)  # both ends of a diff are commits
    old_tree = old.tree if old is not None else None
    new = store[ObjectID(new_commit)]
    assert isinstance(new, Commit)
    changes = tree_changes(store, old_tree, new.tree, rename_detector=RenameDetector(store))
    files = []
    for change in changes:
        old_path = change.old.path.decode("utf-8", "replace") if change.old and change.old.path else None
        new_path = change.new.path.decode("utf-8", "replace") if change.new and change.new.path else None
        old_text, old_raw = _text(repo, change.old.sha if change.old else None)
        new_text, new_raw = _text(repo, change.new.sha if change.new else None)
        entry: dict[str, Any] = {"path": new_path or old_path,
                                 "previous_path": old_path if change.type == "rename" else None,
                                 "status": STATUS.get(change.type, change.type)}
        if old_text is None or new_text is None:
            entry["binary"] = True
            entry["patch"] = None
        else:
            entry["patch"] = "".join(difflib.unified_diff(
                old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                fromfile=f"a/{old_path}" if old_path else "/dev/null", tofile=f"b/{new_path}" if new_path else "/dev/null"))
        if (new_path or old_path) == MANIFEST:
            entry["manifest_changes"] = _manifest_changes(old_raw, new_raw)
        files.append(entry)
    return sorted(files, key=lambda f: f["path"])


def _manifest_changes(old: bytes, new: bytes) -> list[dict[str, Any]] | None:
    try:
        return structured(jsonsafe.loads(old) if old else {}, jsonsafe.loads(new) if new else {})
    except ValueError:
        return None  # not JSON on one side: the unified diff is all there is
