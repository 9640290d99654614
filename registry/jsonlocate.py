"""Where a JSON path points in a document's text: the line an editor marks for a problem that
the manifest check names by JSON path (`$.promptConfig.parameters[0].default`).

A single pass over the document's tokens, with an explicit stack (no recursion, whatever the
nesting), on text a check has already parsed. The json module keeps no positions, and the small
source-map packages on PyPI recurse once per level; this is the 60 lines it takes.
"""
from __future__ import annotations

import json
import re

# A string (escapes and all), a structural character, or a bare scalar (number, true, null...).
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}:,]|[^\s\[\]{}:,"]+', re.S)
# jsonschema's spelling of a path: `$`, then `.key` or `[index]` per level.
_SEGMENT = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_JSON_ERROR_LINE = re.compile(r"line (\d+) column \d+")

Segment = str | int


def parse_path(json_path: str) -> list[Segment] | None:
    """`$.a.b[0]` as ["a", "b", 0]; None when it is not such a path. A key holding `.` or `[`
    is ambiguous in this spelling: the segments up to it are kept (the locator then finds the
    nearest ancestor)."""
    if not json_path.startswith("$"):
        return None
    segments: list[Segment] = []
    pos, rest = 0, json_path[1:]
    for match in _SEGMENT.finditer(rest):
        if match.start() != pos:
            break
        segments.append(match[1] if match[1] is not None else int(match[2]))
        pos = match.end()
    return segments


def line_of(text: bytes, json_path: str) -> int | None:
    """The 1-based line where the value at `json_path` starts (the line of its key, for an
    object's member); the nearest ancestor's when the path is not in the document; None for
    the root (`$`) or a path that is not one."""
    target = parse_path(json_path)
    if not target:
        return None
    frames: list[list[Segment | None]] = []  # per open container: [is an object, its current key or index]
    line, last = 1, 0
    best_depth, best_line = 0, None
    expect_key = False
    for match in _TOKEN.finditer(text):
        token = match.group()
        line += text.count(b"\n", last, match.start())
        last = match.start()
        if token in (b"}", b"]"):
            if frames:
                frames.pop()
            expect_key = False
            continue
        if token == b",":
            if frames and frames[-1][0]:
                expect_key = True
            elif frames:
                index = frames[-1][1]
                frames[-1][1] = index + 1 if isinstance(index, int) else 0
            continue
        if token == b":":
            continue
        if expect_key:  # an object member starts at its key
            try:
                frames[-1][1] = json.loads(token)
            except ValueError:
                return best_line
            expect_key = False
        path = [frame[1] for frame in frames]
        depth = len(path)
        if depth > best_depth and path == target[:depth]:
            best_depth, best_line = depth, line
            if depth == len(target):
                return line
        if token == b"{":
            frames.append([True, None])
            expect_key = True
        elif token == b"[":
            frames.append([False, 0])
    return best_line


def json_error_line(message: str) -> int | None:
    """The line a json module error message names ("... line 3 column 5 (char 40)")."""
    found = _JSON_ERROR_LINE.search(message)
    return int(found[1]) if found else None
