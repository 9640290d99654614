"""One live feed of the events record per server process, for every subscription it serves.

While anyone listens, the feed reads the events committed since it last looked
(`services.live.events_after`) and hands each to every listener, which judges it against its
own watcher's access (`services.live.visible`). It reads when woken, and every POLL_SECONDS
anyway: with REGISTRY_REDIS_URL every process publishes the newest id of what it committed
(workers/notify.py) and the feed wakes on that message, so an event reaches a subscriber on
another node in milliseconds; without Redis (one node) the poll alone is the delay.

PostgreSQL hands out event ids before commit, so a transaction may commit an id lower than
one already read: such a gap is read again for GAP_SECONDS, and ids already delivered are not
delivered twice.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool

from registry.container import Container
from registry.meta.records_events import Event
from registry.services import live

log = logging.getLogger("api.graphql")
POLL_SECONDS = 0.25  # alone: the longest an event waits for a subscriber
POLL_SECONDS_WITH_REDIS = 2.0  # a safety net: the Redis message wakes the feed first
GAP_SECONDS = 10.0
QUEUE_LIMIT = 1000  # events waiting for one slow subscriber before it is dropped
CHANNEL = "registry:events"  # workers/notify.py publishes on it


class SubscriberTooSlow(Exception):
    pass


class Feed:
    def __init__(self, container: Container) -> None:
        self.c = container
        self.redis_url = container.settings.redis_url
        self.listeners: set[asyncio.Queue[Event | None]] = set()
        self.cursor = 0
        self.gaps: dict[int, float] = {}  # id not seen yet -> when it was first missed
        self.delivered: dict[int, float] = {}  # ids handed out lately (a re-read gap must not repeat them)
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    @contextlib.asynccontextmanager
    async def listen(self) -> AsyncIterator[asyncio.Queue[Event | None]]:
        """A queue of every event committed from now on (None: this listener was too slow)."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue(QUEUE_LIMIT + 1)
        if not self.tasks:
            self.cursor = await run_in_threadpool(live.last_event_id, self.c)
            self.tasks = [asyncio.create_task(self._loop())]
            if self.redis_url:
                self.tasks.append(asyncio.create_task(self._redis()))
        self.listeners.add(queue)
        try:
            yield queue
        finally:
            self.listeners.discard(queue)
            if not self.listeners:
                for task in self.tasks:
                    task.cancel()
                self.tasks = []

    async def _loop(self) -> None:
        interval = POLL_SECONDS_WITH_REDIS if self.redis_url else POLL_SECONDS
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), interval)
            self.wake.clear()
            try:
                await self.read()
            except Exception as exc:  # the database is away: try again on the next tick
                log.warning("live feed: reading the events failed: %s", exc)

    async def read(self) -> None:
        now = time.monotonic()
        self.gaps = {i: t for i, t in self.gaps.items() if now - t < GAP_SECONDS}
        self.delivered = {i: t for i, t in self.delivered.items() if now - t < GAP_SECONDS * 2}
        start = min([self.cursor, *(i - 1 for i in self.gaps)])
        events = await run_in_threadpool(live.events_after, self.c, start)
        while len(events) == live.BATCH:  # a burst: read on before handing out
            more = await run_in_threadpool(live.events_after, self.c, events[-1].id)
            events += more
            if not more:
                break
        expected = self.cursor + 1
        for event in events:
            if event.id in self.delivered:
                continue
            if event.id > self.cursor:
                self.gaps.update({i: now for i in range(expected, event.id) if i not in self.delivered})
                expected, self.cursor = event.id + 1, event.id
            self.gaps.pop(event.id, None)
            self.delivered[event.id] = now
            self._hand_out(event)

    def _hand_out(self, event: Event) -> None:
        for queue in list(self.listeners):
            if queue.qsize() >= QUEUE_LIMIT:
                self.listeners.discard(queue)
                queue.put_nowait(None)
            else:
                queue.put_nowait(event)

    async def _redis(self) -> None:
        from redis.asyncio import Redis

        backoff = 0.5
        while True:
            client = Redis.from_url(self.redis_url or "", socket_connect_timeout=2)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    backoff = 0.5
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis is away: the poll carries on meanwhile
                log.warning("live feed: Redis unavailable (%s); polling every %s s", exc, POLL_SECONDS_WITH_REDIS)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                await client.aclose()  # type: ignore[attr-defined]
