"""Progress as it happens, as server-sent events: a run's state and its log lines
(`.../runs/{id}/events`) and an experiment's state and figures so far (`.../experiments/{id}/events`),
both under /api/v1/templates/{owner}/{name}.

The caller is a token's (Authorization) or, without one, the web session's: the run and
experiment pages follow these with EventSource, which sends the cookie. Each stream reads the
record every `POLL_SECONDS` and sends what changed: `state` (and for runs `log`, the text appended
since the last; `reset` when it was replaced). It sends `end` and closes once the run or experiment
is final; otherwise it closes after `STREAM_SECONDS` and the browser reconnects (it is sent the
whole state again, so nothing is missed).
"""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from registry import views, views_experiments
from registry.access import Actor
from registry.container import Container
from registry.errors import RunNotFound

from ..deps import actor_from_header
from ..web import session as sessions
from .experiments import shape

router = APIRouter(prefix="/api/v1/templates/{owner}/{name}")
POLL_SECONDS = 0.5
STREAM_SECONDS = 25.0
KEEPALIVE_SECONDS = 10.0
EVENT = {"type": "object", "description": "one server-sent event; `data` is JSON text",
         "properties": {"event": {"type": "string", "enum": ["state", "log", "reset", "end"]},
                        "data": {"type": "string"}, "id": {"type": "string"}, "retry": {"type": "integer"}}}
SSE: dict[int | str, dict[str, Any]] = {200: {
    "description": "server-sent events: `state`, `log` and `reset` (runs), then `end`",
    "content": {"text/event-stream": {"schema": EVENT}}}}


def _who(request: Request, c: Container) -> Actor:
    header = request.headers.get("authorization")
    return actor_from_header(c, header) if header else sessions.actor(request)


def _line(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _response(body: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(body, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.get("/runs/{run_id}/events", response_class=StreamingResponse, responses=SSE)
async def run_events(request: Request, owner: str, name: str, run_id: str = Path(max_length=64)) -> StreamingResponse:
    c: Container = request.app.state.container
    actor = await run_in_threadpool(_who, request, c)

    def read() -> dict[str, Any]:
        run, template = views.run(c, actor, run_id)
        if (template.owner, template.name) != (owner, name):
            raise RunNotFound(f"run {run_id} not found")
        return {"state": run.state, "summary": run.summary, "final": run.final, "logs": run.logs,
                "finished_at": run.finished_at}

    first = await run_in_threadpool(read)  # errors (404, 403) before the stream starts
    return _response(_follow(request, first, read, with_logs=True))


@router.get("/experiments/{experiment_id}/events", response_class=StreamingResponse, responses=SSE)
async def experiment_events(request: Request, owner: str, name: str,
                            experiment_id: str = Path(max_length=64)) -> StreamingResponse:
    c: Container = request.app.state.container
    actor = await run_in_threadpool(_who, request, c)
    last: dict[str, Any] = {}

    def read() -> dict[str, Any]:
        brief = views_experiments.state(c, actor, owner, name, experiment_id)
        key = (brief.state, brief.done)
        if last.get("key") != key:  # the figures only when a unit ended or the state moved
            last["key"], last["body"] = key, shape(views_experiments.experiment(c, actor, owner, name, experiment_id))
        return {**last["body"].model_dump(mode="json", exclude_unset=True), "final": brief.final}

    first = await run_in_threadpool(read)
    return _response(_follow(request, first, read, with_logs=False))


async def _follow(request: Request, first: dict[str, Any], read: Callable[[], dict[str, Any]],
                  with_logs: bool) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    sent_logs, sent_state = "", None
    current, deadline, quiet_since = first, time.monotonic() + STREAM_SECONDS, time.monotonic()
    while True:
        if with_logs:
            logs = current.pop("logs", "") or ""
            if logs != sent_logs:
                if logs.startswith(sent_logs):
                    yield _line("log", {"text": logs[len(sent_logs):]})
                else:
                    yield _line("reset", {"text": logs})
                sent_logs, quiet_since = logs, time.monotonic()
        if current != sent_state:
            yield _line("state", current)
            sent_state, quiet_since = current, time.monotonic()
        if current.get("final"):
            yield _line("end", {"state": current.get("state")})
            return
        if time.monotonic() > deadline or await request.is_disconnected():
            return
        if time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
            yield ": still here\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(POLL_SECONDS)
        try:
            current = await run_in_threadpool(read)
        except Exception:  # deleted meanwhile, access taken away, the database away: the browser tries again
            return
