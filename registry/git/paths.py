"""File paths that users type (the web editor, the contents API), read as hostile input.

A path becomes tree entries when a commit is made on the server, so each of its segments must
pass the same fsck rules a pushed tree entry passes (`fsck.tree_problem`: no empty name, `.`,
`..`, nor anything some filesystem reads as `.git`), and the whole path must be one a checkout
can write: relative, no empty segment, no control character or backslash (a separator on
Windows), each name at most NAME_MAX bytes, bounded length and depth. The only rewriting is
Unicode NFC (what git on macOS commits); anything else is refused with the reason, never
silently changed.
"""
from __future__ import annotations

import unicodedata

from ..errors import InvalidInput
from . import fsck

MAX_NAME_BYTES = 255  # NAME_MAX of common filesystems: a longer name cannot be checked out
MAX_PATH_BYTES = 1024
MAX_DEPTH = 32  # directories above a file
_FAKE_ID = b"\0" * 20


def path_problem(path: str) -> str | None:
    """Why `path` (already NFC) may not name a file in a commit, or None."""
    if not path:
        return "the path is empty"
    try:
        raw = path.encode("utf-8")
    except UnicodeEncodeError:
        return "the path is not valid UTF-8"
    if len(raw) > MAX_PATH_BYTES:
        return f"the path is longer than {MAX_PATH_BYTES} bytes"
    if path.startswith("/"):
        return "the path must be relative to the repository root (no leading /)"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in path):
        return "the path contains a control character"
    if "\\" in path:
        return "the path contains a backslash (a separator on Windows): use /"
    segments = raw.split(b"/")
    if len(segments) > MAX_DEPTH + 1:
        return f"the path is nested deeper than {MAX_DEPTH} directories"
    for i, segment in enumerate(segments):
        if not segment:
            return "the path has an empty segment (// or a trailing /)"
        if len(segment) > MAX_NAME_BYTES:
            return f"a name in the path is longer than {MAX_NAME_BYTES} bytes"
        mode = b"100644" if i == len(segments) - 1 else b"40000"
        # The very rule a pushed tree holding this entry meets (fsck.c: hasDot, hasDotgit, ...).
        problem = fsck.tree_problem(mode + b" " + segment + b"\0" + _FAKE_ID)
        if problem:
            return problem
    return None


def normalise(path: str) -> str:
    """`path` in NFC, or InvalidInput naming the path and the rule it breaks."""
    if not isinstance(path, str):
        raise InvalidInput("a path must be a string")
    try:
        normal = unicodedata.normalize("NFC", path)
    except ValueError:
        normal = path
    problem = path_problem(normal)
    if problem:
        raise InvalidInput(f"invalid path {_shown(path)}: {problem}", path=_shown(path, quoted=False))
    return normal


def _shown(path: str, quoted: bool = True) -> str:
    """A path for a message: printable and short, whatever it holds."""
    text = ascii(path)[1:-1]  # control characters, lone surrogates and all escaped
    text = text if len(text) <= 200 else text[:200] + "..."
    return f"'{text}'" if quoted else text
