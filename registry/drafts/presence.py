"""Who is here: the Yjs awareness states of one file's editors (y-protocols' encoding: a count,
then per client its id, clock and state as JSON, `null` when it left).

A state is owned by the connection that first sent its client id; y-websocket's clients pass
on every state they hear (others' included), so what a connection sends of a client id another
connection holds, or another user's, is ignored: never passed on. The same user may take an id
back once its connection is gone (a reconnect): its clock is then moved past the one the others
saw with its leaving (`offset`), as the others would ignore it otherwise. The server writes each
state's `user.name` and `user.role` itself: a client cannot appear as somebody else. States
heard from other processes are kept too, and dropped when not renewed for `OUTDATED_SECONDS`
(Yjs clients renew theirs every 15 s), as are those of a connection that is gone.
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .protocol import ProtocolError, Reader, uint

MAX_STATE_BYTES = 4096  # one client's state as JSON
MAX_CLIENTS_PER_UPDATE = 8
MAX_CLIENTS_PER_OWNER = 4
OUTDATED_SECONDS = 30.0
COLOR = re.compile(r"#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?\Z")
PALETTE = ("#1f6feb", "#b35900", "#8250df", "#1a7f37", "#cf222e", "#9a6700", "#0969da", "#bf3989")


@dataclass
class _Entry:
    clock: int  # as the others see it
    state: dict[str, Any] | None
    seen: float
    owner: object | None  # the local connection; None for one heard from another process, or gone
    user: str | None
    offset: int = 0  # its clock as the others see it, less the client's own


def _newer(entry: _Entry | None, clock: int, state: object) -> bool:
    """y-protocols' rule: a greater clock, or the same clock saying the client left."""
    return entry is None or clock > entry.clock or (clock == entry.clock and state is None and entry.state is not None)


def decode(data: bytes) -> list[tuple[int, int, dict[str, Any] | None]]:
    reader = Reader(data)
    count = reader.uint()
    if count > MAX_CLIENTS_PER_UPDATE:
        raise ProtocolError(f"an awareness update names at most {MAX_CLIENTS_PER_UPDATE} clients")
    found = []
    for _ in range(count):
        client, clock, raw = reader.uint(), reader.uint(), reader.string()
        if len(raw) > MAX_STATE_BYTES:
            raise ProtocolError(f"an awareness state holds at most {MAX_STATE_BYTES} bytes")
        try:
            state = json.loads(raw) if raw else None
        except (ValueError, RecursionError):
            raise ProtocolError("an awareness state is not JSON") from None
        if state is not None and not isinstance(state, dict):
            raise ProtocolError("an awareness state is a JSON object or null")
        found.append((client, clock, state))
    if not reader.done:
        raise ProtocolError("bytes after the awareness update")
    return found


State = dict[str, Any] | None


def encode(entries: Sequence[tuple[int, int, State]]) -> bytes:
    out = bytearray(uint(len(entries)))
    for client, clock, state in entries:
        text = json.dumps(state, separators=(",", ":")).encode()
        out += uint(client) + uint(clock) + uint(len(text)) + text
    return bytes(out)


class Presence:
    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}

    def from_client(self, owner: object, user: str, role: str, data: bytes) -> bytes | None:
        """A connection's awareness update, checked and named by the server: the update to pass
        on (None if it changes nothing). ProtocolError for what a client must not send."""
        out = []
        now = time.monotonic()
        for client, clock, state in decode(data):
            entry = self._entries.get(client)
            if entry is not None and entry.owner is not None and entry.owner is not owner:
                continue  # another connection's client, passed on by this one: not its to change
            if entry is not None and entry.owner is None and entry.user not in (None, user):
                continue  # another user's, heard from elsewhere
            offset = entry.offset if entry is not None and entry.owner is owner else 0
            if entry is not None and entry.owner is None and clock + offset <= entry.clock:
                offset = entry.clock + 1 - clock  # taken back after its connection went: outrank its leaving
            if entry is None or entry.owner is not owner:
                mine = sum(1 for e in self._entries.values() if e.owner is owner and e.state is not None)
                if state is not None and mine >= MAX_CLIENTS_PER_OWNER:
                    raise ProtocolError("too many awareness clients on one connection")
            seen_clock = clock + offset
            if not _newer(entry if entry is not None and entry.owner is owner else None, seen_clock, state):
                continue
            named = _named(state, user, role, client)
            self._entries[client] = _Entry(seen_clock, named, now, owner, user, offset)
            out.append((client, seen_clock, named))
        return encode(out) if out else None

    def from_peer(self, data: bytes) -> bytes | None:
        """An update another process passed on (its server named it): kept, and passed on here."""
        out = []
        now = time.monotonic()
        for client, clock, state in decode(data):
            entry = self._entries.get(client)
            if entry is not None and entry.owner is not None:
                continue  # a local connection holds it now
            if not _newer(entry, clock, state):
                continue
            user = (state or {}).get("user", {}).get("name") if isinstance((state or {}).get("user"), dict) else None
            self._entries[client] = _Entry(clock, state, now, None, user)
            out.append((client, clock, state))
        return encode(out) if out else None

    def everyone(self) -> bytes | None:
        """Every state held (for a connection that just joined)."""
        out = [(c, e.clock, e.state) for c, e in self._entries.items() if e.state is not None]
        return encode(out) if out else None

    def local(self) -> bytes | None:
        """The states this process's connections hold (for a room just opened elsewhere)."""
        out = [(c, e.clock, e.state) for c, e in self._entries.items() if e.owner is not None and e.state is not None]
        return encode(out) if out else None

    def leave(self, owner: object) -> bytes | None:
        """The connection is gone: its clients leave (null states, one clock later)."""
        return self._remove([c for c, e in self._entries.items() if e.owner is owner])

    def sweep(self) -> bytes | None:
        """Clients of other processes not renewed for OUTDATED_SECONDS leave."""
        limit = time.monotonic() - OUTDATED_SECONDS
        return self._remove([c for c, e in self._entries.items() if e.owner is None and e.seen < limit
                             and e.state is not None])

    def _remove(self, clients: list[int]) -> bytes | None:
        out = []
        for client in clients:
            entry = self._entries[client]
            entry.clock, entry.state, entry.owner = entry.clock + 1, None, None
            out.append((client, entry.clock, None))
        return encode(out) if out else None

    def people(self) -> list[dict[str, str]]:
        """Who is here: name and role, once per user (several tabs are one person)."""
        seen: dict[str, dict[str, str]] = {}
        for entry in self._entries.values():
            user = (entry.state or {}).get("user")
            if isinstance(user, dict) and isinstance(user.get("name"), str):
                seen.setdefault(user["name"], {"name": user["name"], "role": str(user.get("role", ""))})
        return sorted(seen.values(), key=lambda p: p["name"])


def _named(state: State, user: str, role: str, client: int) -> State:
    if state is None:
        return None
    given = state.get("user")
    given = given if isinstance(given, dict) else {}
    color = _color(given.get("color")) or PALETTE[client % len(PALETTE)]
    light = _color(given.get("colorLight")) or color[:7] + "33"
    return {**state, "user": {"name": user, "role": role, "color": color, "colorLight": light}}


def _color(value: object) -> str | None:
    return value if isinstance(value, str) and COLOR.match(value) else None
