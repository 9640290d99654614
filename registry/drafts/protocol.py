"""The y-websocket protocol's messages, as y-websocket's client sends and reads them: a varuint
message type; for sync (0) a varuint sync type (step 1: a state vector; step 2 and update: an
update) and a length-prefixed payload; for awareness (1) a length-prefixed awareness update;
query-awareness (3) alone. Two types are this server's own, which the page's script reads:
saved (4, the state vector the server has stored: everything a client typed below it is safe)
and notice (5, a JSON object: the draft moved, was committed, or conflicts).

Everything read is hostile: every length is checked against what is left before it is used,
and a message must be exactly one message (nothing after it)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

SYNC, AWARENESS, AUTH, QUERY_AWARENESS, SAVED, NOTICE = 0, 1, 2, 3, 4, 5
STEP1, STEP2, UPDATE = 0, 1, 2
MAX_VARINT_BYTES = 8  # 56 bits: more than any length or Yjs client id (53 bits)


class ProtocolError(ValueError):
    """A message this server does not take (the connection is closed with the reason)."""


@dataclass(frozen=True)
class Message:
    kind: int  # SYNC, AWARENESS or QUERY_AWARENESS
    sync: int | None  # for SYNC: STEP1, STEP2 or UPDATE
    payload: bytes


class Reader:
    """lib0's decoding, bounded."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def uint(self) -> int:
        value = shift = 0
        for _ in range(MAX_VARINT_BYTES):
            if self.at >= len(self.data):
                raise ProtocolError("message ends inside a number")
            byte = self.data[self.at]
            self.at += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
        raise ProtocolError("number too long")

    def bytes(self) -> bytes:
        size = self.uint()
        if size > len(self.data) - self.at:
            raise ProtocolError("length beyond the end of the message")
        out = self.data[self.at:self.at + size]
        self.at += size
        return out

    def string(self) -> str:
        try:
            return self.bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("text is not UTF-8") from None

    @property
    def done(self) -> bool:
        return self.at == len(self.data)


def parse(data: bytes) -> Message:
    reader = Reader(data)
    kind = reader.uint()
    sync: int | None = None
    if kind == SYNC:
        sync = reader.uint()
        if sync not in (STEP1, STEP2, UPDATE):
            raise ProtocolError(f"unknown sync message type {sync}")
        payload = reader.bytes()
    elif kind == AWARENESS:
        payload = reader.bytes()
    elif kind == QUERY_AWARENESS:
        payload = b""
    else:
        raise ProtocolError(f"unknown message type {kind}")
    if not reader.done:
        raise ProtocolError("bytes after the end of the message")
    return Message(kind, sync, payload)


def uint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def _sized(data: bytes) -> bytes:
    return uint(len(data)) + data


def sync_step1(state: bytes) -> bytes:
    return bytes([SYNC, STEP1]) + _sized(state)


def sync_step2(update: bytes) -> bytes:
    return bytes([SYNC, STEP2]) + _sized(update)


def update(data: bytes) -> bytes:
    return bytes([SYNC, UPDATE]) + _sized(data)


def awareness(data: bytes) -> bytes:
    return bytes([AWARENESS]) + _sized(data)


def saved(state: bytes) -> bytes:
    return bytes([SAVED]) + _sized(state)


def notice(body: dict[str, Any] | bytes) -> bytes:
    """A notice for the page's script: a JSON object (given as one, or already encoded)."""
    data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    return bytes([NOTICE]) + _sized(data)
