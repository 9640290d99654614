"""The rooms of one server process: at most one per draft file, made when its first connection
comes (loaded from the database; two connections arriving together wait for the same load),
kept a while after its last one leaves, then closed with what it holds stored.

A ticker reads, for every room with connections, what other processes stored since (`POLL`),
and drops the presence of editors on other processes that stopped renewing it. Notes from the
bus arrive on any thread and are handed to the event loop.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid

from ..meta import DraftRepository
from .bus import Bus, Note
from .limits import Limits
from .room import Peer, Room

log = logging.getLogger(__name__)


class Rooms:
    def __init__(self, store: DraftRepository, bus: Bus, limits: Limits = Limits(), *, poll_seconds: float = 2.0,
                 idle_seconds: float = 30.0) -> None:
        self.store, self.bus, self.limits = store, bus, limits
        self.poll_seconds, self.idle_seconds = poll_seconds, idle_seconds
        self.origin = bus.origin or uuid.uuid4().hex[:12]  # this process, on the bus
        self._rooms: dict[tuple[int, str], Room] = {}
        self._opening: dict[tuple[int, str], asyncio.Task[Room]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.Task[None] | None = None
        bus.subscribe(self._heard)

    async def join(self, draft_id: int, path: str, peer: Peer) -> Room:
        self._start()
        key = (draft_id, path)
        room = self._rooms.get(key)
        if room is None or room.gone:
            task = self._opening.get(key)
            if task is None:
                task = self._opening[key] = asyncio.create_task(self._open(key))
            try:
                room = await asyncio.shield(task)
            finally:
                if task.done():
                    self._opening.pop(key, None)
        room.join(peer)
        return room

    async def _open(self, key: tuple[int, str]) -> Room:
        room = Room(key[0], key[1], self.store, self.bus, self.origin, self.limits)
        await room.open()
        self._rooms[key] = room
        return room

    def leave(self, room: Room, peer: Peer) -> None:
        room.leave(peer)

    def get(self, draft_id: int, path: str) -> Room | None:
        return self._rooms.get((draft_id, path))

    @property
    def count(self) -> int:
        return len(self._rooms)

    def _start(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._ticker = asyncio.create_task(self._tick(), name="draft-rooms")

    def _heard(self, note: Note) -> None:
        """From any thread: a note for this process's rooms."""
        loop = self._loop
        if loop is None or loop.is_closed() or note.origin == self.origin:
            return
        loop.call_soon_threadsafe(self.deliver, note)

    def deliver(self, note: Note) -> None:
        for (draft_id, path), room in list(self._rooms.items()):
            if draft_id == note.draft_id and (path == note.path or not note.path):
                room.heard(note)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            now = time.monotonic()
            for key, room in list(self._rooms.items()):
                try:
                    if room.peers:
                        room.sweep()
                        room.catch_up_soon()
                    elif room.gone or (room.empty_since is not None and now - room.empty_since > self.idle_seconds):
                        del self._rooms[key]
                        await room.close()
                except Exception:  # one room's trouble is not the others'
                    log.exception("draft room %s", key)

    async def stop(self) -> None:
        """The process is ending: every room stores what it holds."""
        if self._ticker is not None:
            self._ticker.cancel()
        rooms, self._rooms = list(self._rooms.values()), {}
        await asyncio.gather(*(room.close() for room in rooms), return_exceptions=True)
