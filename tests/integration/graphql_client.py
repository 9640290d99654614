"""A real GraphQL client (gql) against a running server: HTTP for queries and mutations, and a
subscription over graphql-transport-ws run in a thread of its own, which keeps what it receives
with the time it arrived."""
from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXTransport
from gql.transport.websockets import WebsocketsTransport


def client(url: str, token: str | None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(transport=HTTPXTransport(url=f"{url}/graphql", headers=headers, timeout=30))


def run(url: str, token: str | None, query: str, **variables: Any) -> dict[str, Any]:
    with client(url, token) as session:
        return session.execute(GraphQLRequest(query, variable_values=variables or None))


class Subscription:
    """`with Subscription(url, token, query, **variables) as sub:` ... `sub.received` holds
    (monotonic time, result) pairs; `ready` is set once the server acknowledged the subscription
    and it has been running a moment."""

    def __init__(self, url: str, token: str | None, query: str, **variables: Any) -> None:
        self.url, self.token, self.query, self.variables = url.replace("http", "ws", 1), token, query, variables
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._task: asyncio.Task[None] | None = None

    def __enter__(self) -> Subscription:
        self._thread.start()
        assert self.ready.wait(15), f"the subscription did not start: {self.error!r}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(10)

    def wait_for(self, predicate: Any, timeout: float) -> tuple[float, dict[str, Any]] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, item in list(self.received):
                if predicate(item):
                    return at, item
            time.sleep(0.01)
        return None

    def _run(self) -> None:
        self._task = self._loop.create_task(self._subscribe())
        try:
            self._loop.run_until_complete(self._task)
        except (asyncio.CancelledError, Exception) as exc:  # noqa: BLE001  (kept for the assertion above)
            self.error = exc
            self.ready.set()
        finally:
            self._loop.close()

    async def _subscribe(self) -> None:
        init = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        transport = WebsocketsTransport(url=f"{self.url}/graphql", init_payload=init,
                                        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL])
        async with Client(transport=transport) as session:
            stream = session.subscribe(GraphQLRequest(self.query, variable_values=self.variables or None))
            started = asyncio.ensure_future(stream.__anext__())
            await asyncio.sleep(0.3)  # the server's feed reads from the newest event at subscription time
            self.ready.set()
            first = await started
            self.received.append((time.monotonic(), first))
            async for item in stream:
                self.received.append((time.monotonic(), item))
