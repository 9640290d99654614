"""Reading the pkt-lines of a request body: one reader, strict, and a lenient view of it.

`packets` is what protocol v2 and the clone fast path read a request with: every length checked
(4 hex digits, 4 < length <= MAX_PKT, inside the body), lines without their newline, FLUSH and
DELIM as numbers; anything else is an InvalidInput (HTTP 400) naming the bytes. `lines` is the
same reader for peeks at a v0 request that dulwich's handler parses after us: it stops quietly at
the first packet that is not a line, and the handler then refuses the request itself.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import InvalidInput

MAX_PKT = 65520  # the longest pkt-line git writes or reads, its 4-byte length included
FLUSH, DELIM = 0, 1
_HEX4 = re.compile(rb"[0-9a-fA-F]{4}")


def show(data: bytes, limit: int = 200) -> str:
    """Client bytes made safe for a one-line message."""
    text = data[:limit].decode("utf-8", "replace")
    return "".join(c if c.isprintable() else "?" for c in text) + ("..." if len(data) > limit else "")


def packets(body: bytes) -> Iterator[bytes | int]:
    """The pkt-lines of a request: a line (its newline removed), FLUSH or DELIM."""
    pos = 0
    while pos < len(body):
        head = body[pos:pos + 4]
        size = int(head, 16) if _HEX4.fullmatch(head) else -1
        if size in (FLUSH, DELIM):
            pos += 4
            yield size
            continue
        if not 4 < size <= MAX_PKT:
            raise InvalidInput(f"git protocol error: bad pkt-line length {show(head)!r}")
        if pos + size > len(body):
            raise InvalidInput("git protocol error: the request ends inside a pkt-line")
        line = body[pos + 4:pos + size]
        pos += size
        yield line[:-1] if line.endswith(b"\n") else line


def lines(body: bytes) -> Iterator[bytes | None]:
    """`packets`, with None for FLUSH and DELIM, ending at the first malformed packet."""
    try:
        for packet in packets(body):
            yield None if isinstance(packet, int) else packet
    except InvalidInput:
        return
