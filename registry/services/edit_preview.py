"""What an edit changes, before it is committed: the unified diff of each changed file, and for
template.json the structured diff by JSON path (the "preview changes" tab, rendered on the server)."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from .. import jsonsafe
from ..git.diff import structured
from ..manifest import MANIFEST

MAX_DIFF_LINES = 20_000  # each side; a longer file is summarised, not diffed


@dataclass(frozen=True)
class FileDiff:
    path: str
    patch: str
    structured: list[dict[str, Any]] | None


def diff_of(path: str, old: str | None, new: str | None, old_path: str | None = None) -> FileDiff:
    """The change of one file (`old` None: added; `new` None: deleted; `old_path`: renamed from)."""
    before, after = (old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True)
    if len(before) > MAX_DIFF_LINES or len(after) > MAX_DIFF_LINES:
        return FileDiff(path, f"@@ -1 +1 @@\n {len(before)} lines before, {len(after)} after: too long to diff here\n", None)
    patch = "".join(difflib.unified_diff(before, after, f"a/{old_path or path}", f"b/{path}", n=3))
    manifest = None
    if path == MANIFEST:
        try:
            manifest = structured(jsonsafe.loads(old.encode()) if old else {}, jsonsafe.loads(new.encode()) if new else {})
        except ValueError:
            manifest = None  # not JSON on one side: the unified diff is all there is
    return FileDiff(path, patch, manifest)
