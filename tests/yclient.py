"""A Yjs editor in Python (pycrdt), speaking y-websocket's messages as the browser's client does:
sync step 1 on connecting, step 2 in reply, each local edit as an update, awareness states; and
the server's own `saved` and `notice` messages. Used by the tests and by `make bench`.

`Editor` is transport-free (messages in, messages out); `SocketEditor` runs one over a real
WebSocket (the `websockets` library's asyncio client)."""
from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

from pycrdt import Doc, Text, TransactionEvent

from registry.drafts import presence, protocol, ydoc


class Editor:
    def __init__(self, client_id: int | None = None) -> None:
        self.doc: Any = Doc(client_id=client_id if client_id is not None else random.randrange(2, 2**31))
        self.text: Text = self.doc.get(ydoc.TEXT, type=Text)
        self.outbox: list[bytes] = []
        self.saved: dict[int, int] = {}
        self.notices: list[dict[str, Any]] = []
        self.states: dict[int, dict[str, Any] | None] = {}
        self.synced = False
        self.received_updates = 0
        self.awareness_clock = 0
        self._applying = False
        self.doc.observe(self._local)

    @property
    def client_id(self) -> int:
        return int(self.doc.client_id)

    def _local(self, event: TransactionEvent) -> None:
        if not self._applying and event.update != ydoc.EMPTY_UPDATE:
            self.outbox.append(protocol.update(event.update))

    def hello(self) -> list[bytes]:
        return [protocol.sync_step1(self.doc.get_state())]

    def handle(self, data: bytes) -> list[bytes]:
        """One message from the server; the replies to send."""
        kind = data[0]
        if kind == protocol.SAVED:
            reader = protocol.Reader(data[1:])
            self.saved = ydoc.state_vector(reader.bytes())
            return []
        if kind == protocol.NOTICE:
            self.notices.append(json.loads(protocol.Reader(data[1:]).bytes()))
            return []
        message = protocol.parse(data)
        if message.kind == protocol.SYNC and message.sync == protocol.STEP1:
            return [protocol.sync_step2(self.doc.get_update(message.payload))]
        if message.kind == protocol.SYNC:
            self._applying = True
            try:
                self.doc.apply_update(message.payload)
            finally:
                self._applying = False
            if message.sync == protocol.STEP2:
                self.synced = True
            else:
                self.received_updates += 1
            return []
        if message.kind == protocol.AWARENESS:
            for client, _, state in presence.decode(message.payload):
                self.states[client] = state
        return []

    def type(self, at: int, text: str) -> list[bytes]:
        """Insert `text` at character `at`; the messages that carry it."""
        current = str(self.text)
        self.text.insert(len(current[:at].encode()), text)
        return self.flush()

    def delete(self, at: int, count: int) -> list[bytes]:
        current = str(self.text)
        start, end = len(current[:at].encode()), len(current[:at + count].encode())
        del self.text[start:end]
        return self.flush()

    def flush(self) -> list[bytes]:
        out, self.outbox = self.outbox, []
        return out

    def presence(self, state: dict[str, Any] | None) -> bytes:
        self.awareness_clock += 1
        return protocol.awareness(presence.encode([(self.client_id, self.awareness_clock, state)]))

    @property
    def all_saved(self) -> bool:
        """Whether the server has stored everything this editor typed."""
        mine = ydoc.state_vector(self.doc.get_state()).get(self.client_id, 0)
        return self.saved.get(self.client_id, 0) >= mine

    def people(self) -> set[str]:
        return {s["user"]["name"] for s in self.states.values() if s and isinstance(s.get("user"), dict)}


class SocketEditor(Editor):
    """An Editor over a WebSocket: `await connect(url, headers)`, then `await send(messages)`; a
    reader task applies what arrives and notes when each update came (`arrivals`)."""

    def __init__(self, client_id: int | None = None) -> None:
        super().__init__(client_id)
        self.ws: Any = None
        self.closed: tuple[int | None, str] | None = None
        self.arrivals: list[float] = []
        self._reader: asyncio.Task[None] | None = None
        self.changed = asyncio.Event()

    async def connect(self, url: str, headers: dict[str, str] | None = None, origin: str | None = None) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(url, additional_headers=headers or {}, origin=origin, max_size=2**22,  # type: ignore[arg-type]
                                open_timeout=10)
        self._reader = asyncio.create_task(self._read())
        await self.send(self.hello())

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for data in self.ws:
                before = self.received_updates
                replies = self.handle(data)
                if self.received_updates != before:
                    self.arrivals.append(time.perf_counter())
                self.changed.set()
                if replies:
                    await self.send(replies)
        except ConnectionClosed:
            pass
        finally:
            rcvd = self.ws.protocol.close_rcvd
            self.closed = (rcvd.code, rcvd.reason) if rcvd is not None else (None, "")
            self.changed.set()

    async def send(self, messages: list[bytes]) -> None:
        for message in messages:
            await self.ws.send(message)

    async def until(self, condition: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting; text {str(self.text)!r}, closed {self.closed}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(0.25, max(0.01, deadline - time.monotonic())))
            except TimeoutError:
                pass

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
