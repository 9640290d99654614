"""Change notifications for the template page and a pull request's page: server-sent events at
/{owner}/{name}/-/news and /{owner}/{name}/pulls/{n}/-/news (static/news.js shows them).

One reader of the events record per process (`NewsFeed`) hands every new event to the open
streams; each stream judges each event for its reader (registry.services.news) and sends what is
theirs, with the event's id, so a browser that reconnects (EventSource sends Last-Event-ID)
misses nothing. A stream ends after `STREAM_SECONDS` and the browser opens the next: no answer
outlives a process that is being recycled or stopped by more than that.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from registry.access import Actor
from registry.container import Container
from registry.meta.records_events import Event
from registry.services import news

from ..deps import RowNumber
from . import session as sessions
from .pages import mark_web

log = logging.getLogger(__name__)
router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
STREAM_SECONDS = 20.0
KEEPALIVE_SECONDS = 10.0
POLL_SECONDS = 1.0
MAX_WAITING = 1000  # events waiting for one slow stream; past it, it ends (the browser comes back)


class NewsFeed:
    """This process's one reader of the events record, while any stream listens."""

    def __init__(self, c: Container, every: float = POLL_SECONDS) -> None:
        self.c, self.every = c, every
        self.streams: set[asyncio.Queue[Event | None]] = set()
        self._task: asyncio.Task[None] | None = None

    def subscribe(self) -> asyncio.Queue[Event | None]:
        queue: asyncio.Queue[Event | None] = asyncio.Queue(MAX_WAITING)
        self.streams.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="news-feed")
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event | None]) -> None:
        self.streams.discard(queue)

    async def _run(self) -> None:
        last = await run_in_threadpool(news.since, self.c)
        while self.streams:
            await asyncio.sleep(self.every)
            try:
                events = await run_in_threadpool(news.read, self.c, last)
            except Exception as exc:  # the database away: read again next time
                log.warning("news: could not read the events record: %s", exc)
                continue
            for event in events:
                last = max(last, event.id)
                for queue in list(self.streams):
                    try:
                        queue.put_nowait(event)
                    except asyncio.QueueFull:
                        self.streams.discard(queue)
                        with contextlib.suppress(asyncio.QueueFull):
                            queue.get_nowait()
                            queue.put_nowait(None)  # too slow: it ends, the browser reconnects


def _after(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("after") or ""
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


@router.get("/{owner}/{name}/-/news")
async def template_news(request: Request, owner: str, name: str) -> StreamingResponse:
    return await _stream(request, owner, name, None)


@router.get("/{owner}/{name}/pulls/{number}/-/news")
async def pull_news(request: Request, owner: str, name: str, number: RowNumber) -> StreamingResponse:
    return await _stream(request, owner, name, number)


async def _stream(request: Request, owner: str, name: str, number: int | None) -> StreamingResponse:
    c: Container = request.app.state.container
    actor: Actor = await run_in_threadpool(sessions.actor, request)
    watch = await run_in_threadpool(news.watch, c, actor, owner, name, number)
    after = _after(request)
    if after is None:
        after = await run_in_threadpool(news.since, c)
    feed: NewsFeed = request.app.state.news_feed
    return StreamingResponse(_events(c, actor, watch, after, feed), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


async def _events(c: Container, actor: Actor, watch: news.Watch, after: int, feed: NewsFeed) -> AsyncIterator[str]:
    queue = feed.subscribe()  # before the backlog is read: nothing falls between the two
    try:
        yield "retry: 2000\n\n"
        last = after
        backlog = await run_in_threadpool(news.read, c, after)
        for event in backlog:
            last = max(last, event.id)
            if (line := await _line(c, actor, watch, event)) is not None:
                yield line
        deadline = time.monotonic() + STREAM_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            try:
                heard = await asyncio.wait_for(queue.get(), min(left, KEEPALIVE_SECONDS))
            except TimeoutError:
                yield ": still here\n\n"
                continue
            if heard is None:
                return
            if heard.id <= last:
                continue
            last = heard.id
            if (line := await _line(c, actor, watch, heard)) is not None:
                yield line
    finally:
        feed.unsubscribe(queue)


async def _line(c: Container, actor: Actor, watch: news.Watch, event: Event) -> str | None:
    item = await run_in_threadpool(news.news, c, actor, watch, event)
    if item is None:
        return None
    return f"id: {event.id}\nevent: news\ndata: {json.dumps(item, separators=(',', ':'))}\n\n"
