"""What a room needs from whatever carries a draft's news between server processes (Redis
pub/sub across nodes; with the embedded default, only this process): a `Bus` to publish to the
other processes and to hear them. What travels is a `Note`: an update a room has stored (with
its number), an awareness update, a notice about the draft (moved, committed, deleted), just
"something was stored" (the server changed a document: rooms read it from the database), or
"hello" (a room opened here: the others say who is with them).

A lost note costs latency, never data: rooms also read what was stored after the newest update
they have, every few seconds, and the database, not the note, is what they trust."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

KINDS = ("update", "awareness", "notice", "stored", "hello")


@dataclass(frozen=True)
class Note:
    draft_id: int
    path: str  # the file ("" for the whole draft)
    kind: str  # one of KINDS
    seq: int = 0  # an update's number (stored: the newest)
    data: bytes = b""  # the update, the awareness update, or a notice's JSON
    origin: str = ""  # the process that sent it (it does not hear itself)

    def to_bytes(self) -> bytes:
        head = json.dumps({"d": self.draft_id, "p": self.path, "k": self.kind, "s": self.seq, "o": self.origin},
                          separators=(",", ":")).encode()
        return head + b"\n" + self.data

    @classmethod
    def from_bytes(cls, raw: bytes) -> Note:
        head, _, data = raw.partition(b"\n")
        body = json.loads(head)
        if body["k"] not in KINDS:
            raise ValueError(f"unknown note kind {body['k']!r}")
        return cls(int(body["d"]), str(body["p"]), str(body["k"]), int(body["s"]), data, str(body["o"]))


Listener = Callable[[Note], None]


class Bus(Protocol):
    """Between processes. `publish` never blocks (a note is sent in the background, or dropped
    when the carrier is down); a listener may be called from any thread. `origin` names this
    process: it stamps what it publishes, and nobody hears their own notes back."""

    origin: str

    def publish(self, note: Note) -> None: ...
    def subscribe(self, listener: Listener) -> None: ...


class NoBus:
    """One process alone (or processes that only share the database): nothing to carry."""

    origin = "alone"

    def publish(self, note: Note) -> None:
        return None

    def subscribe(self, listener: Listener) -> None:
        return None
