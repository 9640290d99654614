"""Change notifications for the template page and a pull request's page: server-sent events at
/{owner}/{name}/-/news and /{owner}/{name}/pulls/{n}/-/news (static/news.js shows them).

They listen to the process's one live feed of the events record (api/graphql/live.py, which
GraphQL's subscriptions listen to: woken through Redis across nodes, polled without), and each
stream judges each event for its reader (registry.services.news) and sends what is theirs with
the event's id, so a browser that reconnects (EventSource sends Last-Event-ID) is sent what it
missed. A stream ends after `STREAM_SECONDS` and the browser opens the next: no answer outlives a
process that is being recycled or stopped by more than that.
"""
from __future__ import annotations

import asyncio
import json
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
from ..graphql.live import Feed
from . import session as sessions
from .pages import mark_web

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
STREAM_SECONDS = 20.0
KEEPALIVE_SECONDS = 10.0


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
    page = _Page(c, actor, watch, owner, name)
    return StreamingResponse(page.events(after, request.app.state.graphql_feed), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


class _Page:
    def __init__(self, c: Container, actor: Actor, watch: news.Watch, owner: str, name: str) -> None:
        self.c, self.actor, self.watch, self.owner, self.name = c, actor, watch, owner, name
        self.sent: set[int] = set()

    async def events(self, after: int, feed: Feed) -> AsyncIterator[str]:
        async with feed.listen() as queue:  # before the backlog is read: nothing falls between the two
            yield "retry: 2000\n\n"
            for event in await run_in_threadpool(news.read, self.c, after):
                if (line := await self._line(event)) is not None:
                    yield line
            deadline = time.monotonic() + STREAM_SECONDS
            while (left := deadline - time.monotonic()) > 0:
                try:
                    heard = await asyncio.wait_for(queue.get(), min(left, KEEPALIVE_SECONDS))
                except TimeoutError:
                    yield ": still here\n\n"
                    continue
                if heard is None:
                    return  # too slow: the browser reconnects and is sent what it missed
                if (line := await self._line(heard)) is not None:
                    yield line

    async def _line(self, event: Event) -> str | None:
        if event.id in self.sent:
            return None
        self.sent.add(event.id)
        item = await run_in_threadpool(news.news, self.c, self.actor, self.watch, event, self.owner, self.name)
        if item is None:
            return None
        return f"id: {event.id}\nevent: news\ndata: {json.dumps(item, separators=(',', ':'))}\n\n"
