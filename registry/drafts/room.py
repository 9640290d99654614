"""One file of one draft, served to the connections of this process (asyncio, one event loop).

The room holds the file's document in memory, loaded from the database. An update from an
editor is checked (its size, the sender's role, a Yjs update that integrates: nothing held back
waiting for history the server lacks) and applied to that document, then stored, and only once
stored passed to the other connections, to the other processes (`Bus`), and acknowledged to its
sender (a `saved` message: the state vector the server has stored). Nothing anyone sees is lost
by a crash: what was passed on was in the database first.

An update that builds on history the server has not seen yet (a reconnecting editor typed before
its sync step 2, which carries that history, arrived) is applied (Yjs holds it back) and parked;
it is stored and passed on as soon as the history arrives, or the connection is closed to sync
again (4500) when it does not come in time.

Updates are numbered per file by the database in commit order. The room knows the newest number
below which it has everything (`last_seq`) and those above it it holds already (heard from the
bus); it reads what it lacks after `last_seq` on a gap, when told something was stored, and every
few seconds, so a lost note costs latency, never text. Every apply is idempotent (Yjs), so an
update heard twice changes nothing.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Protocol

from pycrdt import merge_updates

from ..errors import NotFound
from ..meta import DraftRepository, StoredDoc
from . import protocol, ydoc
from .bus import Bus, Note
from .limits import Allowance, Limits
from .presence import Presence

log = logging.getLogger(__name__)

COMPACT_EVERY = 200  # updates this process appends to a file before it compacts it
PARKED_SECONDS = 5.0  # an update waiting for the history it builds on waits at most this long
MAX_PARKED = 64
RETRY_SECONDS = 0.5  # after a failed write (the database away); the updates wait, unacknowledged


class Refused(Exception):
    """Why a connection is closed: a WebSocket close code and a reason. y-websocket's client
    gives up after a 44xx (the same message would be refused again) and reconnects after a 45xx."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class Peer(Protocol):
    """One connection, as the adapter holding the socket gives it: who, may they write, their
    allowance, and two calls that never block (the adapter queues what it sends)."""

    user: str
    user_id: int | None
    can_write: bool
    allowance: Allowance

    def send(self, data: bytes) -> None: ...
    def close(self, code: int, reason: str) -> None: ...


class Room:
    def __init__(self, draft_id: int, path: str, store: DraftRepository, bus: Bus, origin: str,
                 limits: Limits) -> None:
        self.draft_id, self.path = draft_id, path
        self.store, self.bus, self.origin, self.limits = store, bus, origin, limits
        self.doc, self.text = ydoc.new_doc()
        self.peers: set[Peer] = set()
        self.presence = Presence()
        self.last_seq = 0
        self.empty_since: float | None = time.monotonic()
        self.gone = False
        self._ahead: set[int] = set()  # numbers above last_seq already applied
        self._saved = b"\x00"  # the state vector of what is stored (Yjs encoding)
        self._pending: list[tuple[Peer, bytes]] = []  # applied, integrated, to be stored
        self._parked: list[tuple[Peer, bytes, float]] = []  # applied, held back by Yjs
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._appended = 0
        self._compacting = False
        self._catching: asyncio.Task[None] | None = None
        self._writing = False

    @property
    def idle(self) -> bool:
        """Nothing waiting to be stored or being stored."""
        return not self._pending and not self._writing

    async def open(self) -> None:
        stored = await asyncio.to_thread(self.store.load, self.draft_id, self.path)
        self._take(stored)
        self._writer = asyncio.create_task(self._write_loop(), name=f"draft-{self.draft_id}-writer")
        self.bus.publish(Note(self.draft_id, self.path, "hello", 0, b"", self.origin))  # who is elsewhere?

    # -- connections ---------------------------------------------------------------------
    def join(self, peer: Peer) -> None:
        self.peers.add(peer)
        self.empty_since = None
        peer.send(protocol.sync_step1(self.doc.get_state()))
        everyone = self.presence.everyone()
        if everyone:
            peer.send(protocol.awareness(everyone))

    def leave(self, peer: Peer) -> None:
        self.peers.discard(peer)
        gone = self.presence.leave(peer)
        if gone:
            self._awareness(gone)
        if not self.peers:
            self.empty_since = time.monotonic()

    async def receive(self, peer: Peer, data: bytes) -> None:
        """One message from `peer`; Refused closes the connection."""
        if len(data) > self.limits.max_message_bytes:
            raise Refused(4413, f"a message holds at most {self.limits.max_message_bytes} bytes")
        if not peer.allowance.take(len(data)):
            raise Refused(4429, "too many messages or bytes per second")
        try:
            message = protocol.parse(data)
        except protocol.ProtocolError as exc:
            raise Refused(4400, str(exc)) from None
        if message.kind == protocol.SYNC and message.sync == protocol.STEP1:
            try:
                missing = self.doc.get_update(message.payload)
            except ValueError:
                raise Refused(4400, "not a Yjs state vector") from None
            peer.send(protocol.sync_step2(missing))
        elif message.kind == protocol.SYNC:
            self._edit(peer, message.payload)
        elif message.kind == protocol.AWARENESS:
            try:
                named = self.presence.from_client(peer, peer.user, "editor" if peer.can_write else "reader",
                                                  message.payload)
            except protocol.ProtocolError as exc:
                raise Refused(4400, str(exc)) from None
            if named:
                self._awareness(named)
        else:  # query awareness
            everyone = self.presence.everyone()
            if everyone:
                peer.send(protocol.awareness(everyone))

    def _edit(self, peer: Peer, update: bytes) -> None:
        if update == ydoc.EMPTY_UPDATE:
            return  # a sync step 2 with nothing new (a reader's, or an editor's with no news)
        if not peer.can_write:
            raise Refused(4403, "readers may watch this draft, not edit it")
        if len(self.text) + len(update) > self.limits.max_text_bytes:
            raise Refused(4413, f"a file of a draft holds at most {self.limits.max_text_bytes} bytes")
        try:
            self.doc.apply_update(update)
        except ValueError:
            raise Refused(4400, "not a Yjs update") from None
        if not ydoc.integrated(self.doc, update):
            if len(self._parked) >= MAX_PARKED:
                raise Refused(4500, "updates build on changes the server does not have: reconnect to sync")
            self._parked.append((peer, update, time.monotonic() + PARKED_SECONDS))
            return
        self._pending.append((peer, update))
        self._unpark()
        self._wake.set()

    def _unpark(self) -> None:
        """Parked updates whose history has arrived join those to store, in order."""
        while self._parked:
            ready = [item for item in self._parked if ydoc.integrated(self.doc, item[1])]
            if not ready:
                return
            self._parked = [item for item in self._parked if item not in ready]
            self._pending += [(peer, update) for peer, update, _ in ready]
            self._wake.set()

    # -- storing, then passing on ----------------------------------------------------------
    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending, []
                state = self.doc.get_state()  # everything applied and integrated is in the batch or stored
                self._writing = True
                try:
                    done = await asyncio.to_thread(self._append, batch)
                except NotFound:
                    self.close_all(4404, "this draft was deleted")
                    return
                except Exception as exc:  # the database away: keep them, unacknowledged, and try again
                    log.warning("draft %s %s: could not store %d updates: %s", self.draft_id, self.path,
                                len(batch), exc)
                    self._pending[:0] = batch
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                finally:
                    self._writing = False
                self._saved = state
                self._stored(done)

    def _append(self, batch: list[tuple[Peer, bytes]]) -> list[tuple[Peer, bytes, int]]:
        """In a thread: `batch` stored, each update with its number (one transaction per user,
        so each is credited as an editor)."""
        groups: dict[int | None, list[tuple[Peer, bytes]]] = {}
        for peer, update in batch:
            groups.setdefault(peer.user_id, []).append((peer, update))
        done = []
        for user_id, items in groups.items():
            seqs = self.store.append(self.draft_id, self.path, [u for _, u in items], user_id)
            done += [(peer, update, seq) for (peer, update), seq in zip(items, seqs, strict=True)]
        return done

    def _stored(self, done: list[tuple[Peer, bytes, int]]) -> None:
        """Pass on what was stored: one message to each connection (a batch's updates merged into
        one: under load, a frame per batch instead of one per keystroke; an editor hearing its own
        update back changes nothing), one note per update to the other processes."""
        senders: list[Peer] = []
        for sender, update, seq in done:
            self._mark(seq)
            self.bus.publish(Note(self.draft_id, self.path, "update", seq, update, self.origin))
            if sender not in senders:
                senders.append(sender)
        if len(done) == 1:
            message, skip = protocol.update(done[0][1]), done[0][0]
        else:
            message, skip = protocol.update(merge_updates(*(update for _, update, _ in done))), None
        for peer in self.peers:
            if peer is not skip:
                peer.send(message)
        saved = protocol.saved(self._saved)
        for sender in senders:
            if sender in self.peers:
                sender.send(saved)
        self._appended += len(done)
        if self._appended >= COMPACT_EVERY and not self._compacting:
            self._appended, self._compacting = 0, True
            asyncio.create_task(self._compact())

    def _mark(self, seq: int) -> None:
        """Update `seq` is applied (and stored): advance last_seq over every number held."""
        if seq > self.last_seq:
            self._ahead.add(seq)
        while self.last_seq + 1 in self._ahead:
            self.last_seq += 1
            self._ahead.discard(self.last_seq)

    async def _compact(self) -> None:
        try:
            await asyncio.to_thread(self.store.compact, self.draft_id, self.path, ydoc.compacted)
        except Exception as exc:  # the updates stay; the next compaction takes them
            log.warning("draft %s %s: compaction failed: %s", self.draft_id, self.path, exc)
        finally:
            self._compacting = False

    # -- what other processes did ----------------------------------------------------------
    def heard(self, note: Note) -> None:
        """A note from another process (or the server's own use cases), on the event loop."""
        if note.kind == "update":
            if note.seq <= self.last_seq or note.seq in self._ahead:
                return
            try:
                self.doc.apply_update(note.data)
            except ValueError:
                log.warning("draft %s %s: a note held no Yjs update", self.draft_id, self.path)
                return
            self._mark(note.seq)
            self._relay(protocol.update(note.data))
            self._unpark()
            if note.seq > self.last_seq:
                self.catch_up_soon()  # a number between is missing: read it
        elif note.kind == "awareness":
            passed = self.presence.from_peer(note.data)
            if passed:
                self._relay(protocol.awareness(passed))
        elif note.kind == "hello":
            here = self.presence.local()
            if here:
                self.bus.publish(Note(self.draft_id, self.path, "awareness", 0, here, self.origin))
        elif note.kind == "stored":
            if note.seq > self.last_seq:
                self.catch_up_soon()
        elif note.kind == "notice":
            self._relay(protocol.notice(note.data))
            if json.loads(note.data).get("state") == "deleted":
                self.close_all(4404, "this draft was deleted")

    def catch_up_soon(self) -> None:
        if self._catching is None or self._catching.done():
            self._catching = asyncio.create_task(self.catch_up())

    async def catch_up(self) -> None:
        """Apply what was stored after last_seq (by any process) and pass it on."""
        try:
            stored = await asyncio.to_thread(self.store.load, self.draft_id, self.path, self.last_seq)
        except NotFound:
            self.close_all(4404, "this draft was deleted")
            return
        except Exception as exc:
            log.warning("draft %s %s: could not read what was stored: %s", self.draft_id, self.path, exc)
            return
        before = self.doc.get_state()
        self._take(stored)
        if self.peers and self.doc.get_state() != before:
            self._relay(protocol.update(self.doc.get_update(before)))
            self._unpark()

    def _take(self, stored: StoredDoc) -> None:
        if stored.snapshot:  # a compaction overtook us: everything up to its number is in it
            self.doc.apply_update(stored.snapshot)
            self._ahead = {s for s in self._ahead if s > stored.snapshot_seq}
            self.last_seq = max(self.last_seq, stored.snapshot_seq)
        for seq, update in stored.updates:
            if seq > self.last_seq and seq not in self._ahead:
                self.doc.apply_update(update)
            self._mark(seq)
        if stored.seq > self.last_seq:  # (the database numbers without gaps: only a snapshot jumps)
            self.last_seq, self._ahead = stored.seq, {s for s in self._ahead if s > stored.seq}
        if self.idle and not self._parked:
            self._saved = self.doc.get_state()

    # -- passing on ------------------------------------------------------------------------
    def _relay(self, message: bytes) -> None:
        for peer in self.peers:
            peer.send(message)

    def _awareness(self, update: bytes) -> None:
        self._relay(protocol.awareness(update))  # to the sender too: its client counts on hearing back
        self.bus.publish(Note(self.draft_id, self.path, "awareness", 0, update, self.origin))

    def sweep(self) -> None:
        """Drop the presence of other processes' editors that went quiet, and close connections
        whose parked updates waited too long for their history."""
        gone = self.presence.sweep()
        if gone:
            self._relay(protocol.awareness(gone))
        now = time.monotonic()
        for peer in {peer for peer, _, until in self._parked if until < now}:
            peer.close(4500, "updates build on changes the server does not have: reconnect to sync")
        self._parked = [item for item in self._parked if item[2] >= now]

    def close_all(self, code: int, reason: str) -> None:
        self.gone = True
        for peer in list(self.peers):
            peer.close(code, reason)

    async def close(self, wait: float = 5.0) -> None:
        """Store what is pending (for at most `wait` seconds), then stop."""
        deadline = time.monotonic() + wait
        while not self.idle and time.monotonic() < deadline and self._writer is not None and not self._writer.done():
            await asyncio.sleep(0.05)
        if self._writer is not None:
            self._writer.cancel()
