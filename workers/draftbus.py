"""Carrying drafts' notes (registry.drafts.bus) between server processes.

With REGISTRY_REDIS_URL every process publishes on one Redis channel and hears every other
process's notes (pub/sub, at most once: a lost note costs latency, since each room also reads
what was stored every few seconds). Without Redis, the processes of one node (`serve --workers
N`, one data directory) send each other datagrams (`UnixBus`: Linux abstract UNIX sockets, found
through a marker file each in the data directory); a note too large for a datagram goes as
"stored", and the rooms read it from the database.

`announce` is for the server's own changes (a rebase, a form's edit, a commit): every process,
this one included. Rooms `publish` editors' updates: the others only (this one relayed them).
Nothing is connected or started until first used, so a process forked after building one
carries no thread or socket into its children.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import socket
import threading
import time
import uuid
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from registry.drafts.bus import Listener, Note

log = logging.getLogger(__name__)
CHANNEL = "registry:drafts"
MAX_WAITING = 10_000  # notes waiting to be published; past it they are dropped (rooms read the database)
RECONNECT_SECONDS = 1.0


class LocalBus:
    """This process alone."""

    def __init__(self) -> None:
        self.origin = uuid.uuid4().hex[:12]
        self._listeners: list[Listener] = []

    def publish(self, note: Note) -> None:
        return None

    def announce(self, note: Note) -> None:
        self._deliver(note)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _deliver(self, note: Note) -> None:
        for listener in self._listeners:
            try:
                listener(note)
            except Exception:
                log.exception("a draft note's listener failed")

    def close(self) -> None:
        return None


class RedisBus(LocalBus):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self._out: queue.Queue[Note | None] = queue.Queue(MAX_WAITING)
        self._started = False
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def publish(self, note: Note) -> None:
        self._start()
        try:
            self._out.put_nowait(note if note.origin else _stamped(note, self.origin))
        except queue.Full:
            log.warning("draft notes are not getting out (Redis slow or away): one dropped")

    def announce(self, note: Note) -> None:
        self._deliver(note)
        self.publish(note)

    def subscribe(self, listener: Listener) -> None:
        super().subscribe(listener)
        self._start()

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._publisher, name="draft-bus-out", daemon=True).start()
        threading.Thread(target=self._subscriber, name="draft-bus-in", daemon=True).start()

    def _publisher(self) -> None:
        redis = Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)
        while not self._stop.is_set():
            note = self._out.get()
            if note is None:
                return
            try:
                redis.publish(CHANNEL, note.to_bytes())
            except RedisError as exc:
                log.warning("could not publish a draft note: %s", exc)

    def _subscriber(self) -> None:
        while not self._stop.is_set():
            try:
                redis = Redis.from_url(self.url, socket_connect_timeout=2, health_check_interval=10)
                pubsub = redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                for message in pubsub.listen():
                    if self._stop.is_set():
                        return
                    self._heard(message.get("data"))
            except RedisError as exc:
                log.warning("draft notes: Redis away (%s); listening again shortly", exc)
                self._stop.wait(RECONNECT_SECONDS)

    def _heard(self, raw: object) -> None:
        if not isinstance(raw, bytes):
            return
        try:
            note = Note.from_bytes(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("a draft note that is no note")
            return
        if note.origin != self.origin:
            self._deliver(note)

    def close(self) -> None:
        self._stop.set()
        try:
            self._out.put_nowait(None)
        except queue.Full:
            pass


class UnixBus(LocalBus):
    """The processes of one node without Redis: a datagram to each of the others."""

    MAX_DATAGRAM = 60_000  # larger notes go as "stored" (the rooms read the database)
    PEERS_SECONDS = 1.0  # how long the list of the others is trusted

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.key = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]
        self.folder = Path(data_dir) / "run" / "drafts"
        self._sock: socket.socket | None = None
        self._peers: list[str] = []
        self._peers_at = 0.0
        self._lock = threading.Lock()

    def _name(self, origin: str) -> str:
        return f"\0registry-drafts-{self.key}-{origin}"

    def _start(self) -> socket.socket:
        with self._lock:
            if self._sock is None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                sock.bind(self._name(self.origin))
                self.folder.mkdir(parents=True, exist_ok=True)
                (self.folder / self.origin).touch()
                threading.Thread(target=self._listen, args=(sock,), name="draft-bus-unix", daemon=True).start()
                self._sock = sock
            return self._sock

    def subscribe(self, listener: Listener) -> None:
        super().subscribe(listener)
        self._start()

    def announce(self, note: Note) -> None:
        self._deliver(note)
        self.publish(note)

    def publish(self, note: Note) -> None:
        sock = self._start()
        note = note if note.origin else _stamped(note, self.origin)
        data = note.to_bytes()
        if len(data) > self.MAX_DATAGRAM:
            data = Note(note.draft_id, note.path, "stored", note.seq, b"", note.origin).to_bytes()
        for origin in self._others():
            try:
                sock.sendto(data, socket.MSG_DONTWAIT, self._name(origin))
            except (ConnectionRefusedError, FileNotFoundError):  # that process is gone
                with contextlib.suppress(OSError):
                    (self.folder / origin).unlink()
                self._peers_at = 0.0
            except (BlockingIOError, OSError) as exc:  # its queue is full: it reads the database
                log.debug("a draft note to %s was dropped: %s", origin, exc)

    def _others(self) -> list[str]:
        now = time.monotonic()
        if now - self._peers_at > self.PEERS_SECONDS:
            try:
                self._peers = [p for p in os.listdir(self.folder) if p != self.origin]
            except OSError:
                self._peers = []
            self._peers_at = now
        return self._peers

    def _listen(self, sock: socket.socket) -> None:
        while True:
            try:
                raw = sock.recv(self.MAX_DATAGRAM + 1024)
            except OSError:
                return
            self._heard(raw)

    def _heard(self, raw: bytes) -> None:
        try:
            note = Note.from_bytes(raw)
        except (ValueError, KeyError, TypeError):
            return
        if note.origin != self.origin:
            self._deliver(note)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            (self.folder / self.origin).unlink()
        if self._sock is not None:
            self._sock.close()


def _stamped(note: Note, origin: str) -> Note:
    return Note(note.draft_id, note.path, note.kind, note.seq, note.data, origin)


def make(redis_url: str | None, data_dir: Path) -> LocalBus:
    return RedisBus(redis_url) if redis_url else UnixBus(data_dir)
