"""The subscription root, over WebSocket (graphql-transport-ws): a template's events, a pull
request's events, and a sandbox run's progress. The access check is made when the subscription
starts (a template one may not read is an error then), and each event again as it is delivered."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from functools import wraps
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError

from registry import views
from registry.errors import InvalidInput, RegistryError
from registry.services import live

from ..errors import status_for
from .context import Context
from .errors import INTERNAL
from .live import Feed, SubscriberTooSlow
from .types_misc import Event, Run

Info = strawberry.Info[Context, None]
RUN_POLL_SECONDS = 0.5
log = logging.getLogger("api.graphql")
T = TypeVar("T")


def guarded(fn: Callable[..., AsyncIterator[T]]) -> Callable[..., AsyncGenerator[T, None]]:
    """Errors that end a subscription, shaped as every other GraphQL error (code, status; nothing
    of the server's insides): the error shaping of queries does not reach a running stream."""
    @wraps(fn)
    async def stream(*args: Any, **kwargs: Any) -> AsyncGenerator[T, None]:
        try:
            async for item in fn(*args, **kwargs):
                yield item
        except RegistryError as exc:
            raise GraphQLError(exc.message, extensions={"code": exc.code, "status": status_for(exc)}) from None
        except SubscriberTooSlow as exc:
            raise GraphQLError(str(exc), extensions={"code": "too_slow"}) from None
        except Exception:
            log.exception("graphql: a subscription failed")
            raise GraphQLError(INTERNAL, extensions={"code": "internal_error", "status": 500}) from None
    return stream


def _feed(info: Info) -> Feed:
    request = info.context.request
    assert request is not None
    feed: Feed = request.app.state.graphql_feed
    return feed


def _named(owner: str, name: str) -> None:
    if len(owner) > 63 or len(name) > 63:
        raise InvalidInput("owner and name are at most 63 characters", field="name")


async def _events(info: Info, watch: live.Watch) -> AsyncGenerator[Event, None]:
    ctx = info.context
    async with _feed(info).listen() as queue:
        while True:
            event = await queue.get()
            if event is None:
                raise SubscriberTooSlow("this subscription fell too far behind and was ended; subscribe again")
            if event.template_id not in (watch.template_id, watch.head_template_id):
                continue
            await ctx.run(ctx.reauthenticate)  # a revoked token ends the subscription here
            if await ctx.run(live.visible, ctx.container, ctx.actor, watch, event):
                yield Event.of(event)


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Every event of a template from now on: readers hear what its pages show, "
                                         "maintainers everything its audit log records.")
    @guarded
    async def template_events(self, info: Info, owner: str, name: str) -> AsyncGenerator[Event, None]:
        _named(owner, name)
        ctx = info.context
        watch = await ctx.run(live.watch_template, ctx.container, ctx.actor, owner, name)
        async for event in _events(info, watch):
            yield event

    @strawberry.subscription(description="A pull request's events: its own, reviews and comments, pushes to its head "
                                         "branch and its head's checks.")
    @guarded
    async def pull_request_events(self, info: Info, owner: str, name: str,
                                  number: int) -> AsyncGenerator[Event, None]:
        _named(owner, name)
        if not 1 <= number <= 2_147_483_647:
            raise InvalidInput("number must be a pull request number", field="number")
        ctx = info.context
        watch = await ctx.run(live.watch_pull, ctx.container, ctx.actor, owner, name, number)
        async for event in _events(info, watch):
            yield event

    @strawberry.subscription(description="A sandbox run as it goes: now, then at every change, until it is final.")
    @guarded
    async def run_progress(self, info: Info, id: str) -> AsyncGenerator[Run, None]:
        if len(id) > 64:
            raise InvalidInput("id is at most 64 characters", field="id")
        ctx = info.context
        last = None
        while True:
            run, template = await ctx.run(views.run, ctx.container, ctx.actor, id)
            seen = (run.state, run.attempts, run.summary, run.started_at, run.finished_at, run.task_arn)
            if seen != last:
                last = seen
                yield Run.of(run, template.owner, template.name)
            if run.final:
                return
            await asyncio.sleep(RUN_POLL_SECONDS)
