"""GraphQL beside REST (issue 35): `POST /graphql` (and `GET` for queries), subscriptions over
WebSocket at `/graphql` (graphql-transport-ws), a GraphiQL page at `/graphiql`.

Built on the same use cases and views as REST, with the same credentials (api.graphql.context),
limits decided before execution (limits), data loaders (loaders), typed mutation errors
(mutation_errors), a live feed of the events record (live). This module only mounts it: the
router turns Strawberry's transport refusals into the API's JSON error body, bounds a query's
size before parsing on every transport, and authenticates WebSocket connections."""
from __future__ import annotations

from typing import Any

from cross_web import HTTPException as StrawberryHTTPException
from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

from registry.errors import InvalidInput, RegistryError

from . import graphiql
from .context import Context, connect, http_context
from .errors import shaped
from .limits import MAX_QUERY_CHARS
from .live import Feed
from .loaders import Loaders
from .schema import build

TOO_LONG = f"the query is longer than {MAX_QUERY_CHARS} characters"


class _TransportWS(BaseGraphQLTransportWSHandler):
    async def handle_subscribe(self, message: Any) -> None:
        payload = message.get("payload") if isinstance(message, dict) else None
        query = payload.get("query") if isinstance(payload, dict) else None
        if isinstance(query, str) and len(query) > MAX_QUERY_CHARS:
            await self.send_message({"id": message["id"], "type": "error",
                                     "payload": [{"message": TOO_LONG, "extensions": {"code": "too_large"}}]})
            return
        context = self.context
        if isinstance(context, Context):  # each operation reads afresh (a connection may live for hours)
            context.loaders = Loaders(context.container, lambda: context.actor)
        await super().handle_subscribe(message)


class Router(GraphQLRouter):
    graphql_transport_ws_handler_class = _TransportWS  # type: ignore[assignment]

    async def run(self, request: Any, context: Any = None, root_value: Any = None) -> Any:
        try:
            return await super().run(request, context=context, root_value=root_value)
        except StrawberryHTTPException as exc:
            if exc.status_code == 400:
                raise InvalidInput(exc.reason) from None
            raise StarletteHTTPException(exc.status_code, exc.reason) from None

    async def parse_http_body(self, request: Any) -> Any:
        data = await super().parse_http_body(request)
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item.query, str) and len(item.query) > MAX_QUERY_CHARS:
                raise StrawberryHTTPException(413, TOO_LONG)
        return data

    async def process_result(self, request: Any, result: Any) -> Any:
        if result.errors:  # the last word on what leaves: errors raised outside any extension too
            result.errors = [shaped(e) for e in result.errors]
        return await super().process_result(request, result)

    async def render_graphql_ide(self, request: Request) -> Any:
        return graphiql.page(request)

    async def on_ws_connect(self, context: Any) -> Any:
        try:
            await connect(context)
        except RegistryError as exc:
            raise ConnectionRejectionError({"code": exc.code, "message": exc.message}) from None
        return await super().on_ws_connect(context)


def install(app: FastAPI) -> None:
    settings = app.state.container.settings
    app.state.graphql_feed = Feed(app.state.container)
    schema = build(settings)
    app.state.graphql_sdl = schema.as_str() + "\n"
    router = Router(schema, graphql_ide="graphiql", allow_queries_via_get=True,
                    context_getter=http_context, subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
                    include_in_schema=False)
    app.include_router(router, prefix="/graphql")
    app.include_router(graphiql.router)
