"""The WebSocket of a draft's file: GET /api/v1/templates/{owner}/{name}/drafts/{id}/ws?path=FILE,
speaking y-websocket's protocol to the file's room (registry.drafts.rooms) in this process.

Before the upgrade: the `Origin`, when a browser sends one, must be this site's (no cross-site
WebSocket hijacking; a connection signed in by cookie must send one); the caller is the session
cookie's user (through api/web/session.py, as the pages see them) or a token's
(`Authorization: Bearer`); refusals are HTTP answers with the usual JSON error. After it: every
message is bounded and counted against the connection's allowance; whatever the room refuses
closes the connection with a code and a reason (44xx: do not come back; 45xx: reconnect). Every
`draft_recheck_seconds` the session (or token) and the role are asked again: a session signed out
or revoked is closed (4401), a role taken away closes (4403) or turns the editor into a reader.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from registry.access import Actor
from registry.container import Container
from registry.drafts.limits import Allowance
from registry.drafts.room import Refused, Room
from registry.drafts.rooms import Rooms
from registry.errors import NotFound, PermissionDenied, RegistryError, Unauthenticated
from registry.services import drafts

from .deps import actor_from_header
from .errors import status_for
from .web import session as sessions

log = logging.getLogger(__name__)
router = APIRouter()
OUTBOX = 2000  # messages waiting to be sent to one connection; past it, it is too slow: reconnect
MAX_PER_USER = 32  # open connections of one user to this process's drafts
MAX_REASON = 120  # bytes of a close reason (the protocol's limit is 123)


@dataclass(eq=False)
class SocketPeer:
    """One connection as its room sees it (registry.drafts.room.Peer)."""

    user: str
    user_id: int | None
    can_write: bool
    allowance: Allowance
    outbox: asyncio.Queue[tuple[int, bytes | str]] = field(default_factory=lambda: asyncio.Queue(OUTBOX + 1))
    closing: tuple[int, str] | None = None

    def send(self, data: bytes) -> None:
        if self.closing is not None:
            return
        if self.outbox.qsize() >= OUTBOX:
            self.close(4508, "this connection falls behind: reconnect to catch up")
            return
        self.outbox.put_nowait((0, data))

    def close(self, code: int, reason: str) -> None:
        if self.closing is not None:
            return
        self.closing = (code, reason)
        while not self.outbox.empty():
            self.outbox.get_nowait()
        self.outbox.put_nowait((code, reason))

    async def pump(self, websocket: WebSocket) -> None:
        while True:
            code, item = await self.outbox.get()
            if code:
                reason = str(item).encode()[:MAX_REASON].decode("utf-8", "ignore")
                with contextlib.suppress(Exception):
                    await websocket.close(code, reason)
                return
            assert isinstance(item, bytes)
            await websocket.send_bytes(item)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def _allowed_origins(websocket: WebSocket) -> set[str]:
    host = websocket.headers.get("host", "").lower()
    return {_origin(websocket.app.state.base_url), f"http://{host}", f"https://{host}"} - {""}


def _as_request(websocket: WebSocket) -> Request:
    """The handshake as a fresh request (its own state): what the session module reads."""
    return Request({**websocket.scope, "type": "http", "method": "GET", "state": {}})


def _who(websocket: WebSocket, c: Container) -> Actor:
    header = websocket.headers.get("authorization")
    if header:
        return actor_from_header(c, header, allow_basic=False)
    return sessions.actor(_as_request(websocket))


async def _deny(websocket: WebSocket, status: int, code: str, message: str) -> None:
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse({"error": {"code": code, "message": message}}, status))
    else:
        await websocket.close(1008, message[:MAX_REASON])


@router.websocket("/api/v1/templates/{owner}/{name}/drafts/{draft_id}/ws")
async def draft_socket(websocket: WebSocket, owner: str, name: str, draft_id: int, path: str = "") -> None:
    c: Container = websocket.app.state.container
    rooms: Rooms = websocket.app.state.rooms
    origin = websocket.headers.get("origin")
    by_token = bool(websocket.headers.get("authorization"))
    if (origin is not None or not by_token) and (origin or "").lower() not in _allowed_origins(websocket):
        await _deny(websocket, 403, "forbidden_origin", "this WebSocket takes connections from this site's pages only")
        return
    try:
        actor = await run_in_threadpool(_who, websocket, c)
        access = await run_in_threadpool(drafts.connect, c, actor, owner, name, draft_id, path)
    except RegistryError as exc:
        await _deny(websocket, status_for(exc), exc.code, exc.message)
        return
    open_now: Counter[int] = websocket.app.state.draft_connections
    if open_now[access.user_id or 0] >= MAX_PER_USER:
        await _deny(websocket, 429, "rate_limited", f"at most {MAX_PER_USER} draft connections at once")
        return
    open_now[access.user_id or 0] += 1
    try:
        await _serve(websocket, c, rooms, actor, access, owner, name, draft_id)
    finally:
        open_now[access.user_id or 0] -= 1


async def _serve(websocket: WebSocket, c: Container, rooms: Rooms, actor: Actor, access: drafts.Access, owner: str,
                 name: str, draft_id: int) -> None:
    await websocket.accept()
    settings = c.settings
    peer = SocketPeer(actor.name or "", access.user_id, access.can_write, Allowance(rooms.limits))
    pump = asyncio.create_task(peer.pump(websocket))
    room: Room | None = None
    recheck = asyncio.create_task(_recheck(websocket, c, peer, owner, name, draft_id, access.path,
                                           settings.draft_recheck_seconds, actor))
    try:
        room = await rooms.join(draft_id, access.path, peer)
        while peer.closing is None:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            data = message.get("bytes")
            if data is None:
                raise Refused(4400, "this WebSocket speaks y-websocket's binary messages only")
            await room.receive(peer, data)
    except Refused as exc:
        peer.close(exc.code, exc.reason)
    except NotFound as exc:
        peer.close(4404, exc.message)
    except Exception:
        log.exception("draft %s %s: connection failed", draft_id, access.path)
        peer.close(1011, "internal error")
    finally:
        recheck.cancel()
        if room is not None:
            rooms.leave(room, peer)
        if peer.closing is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pump, 5)
        pump.cancel()


async def _recheck(websocket: WebSocket, c: Container, peer: SocketPeer, owner: str, name: str, draft_id: int,
                   path: str, every: float, first: Actor) -> None:
    """Ask again, now and then, who this is and what they may do."""
    while True:
        await asyncio.sleep(every)
        try:
            actor = await run_in_threadpool(_who, websocket, c)
            if actor.user is None or first.user is None or actor.user.id != first.user.id:
                raise Unauthenticated("signed out: your session ended")
            access = await run_in_threadpool(drafts.connect, c, actor, owner, name, draft_id, path)
        except Unauthenticated as exc:
            peer.close(4401, exc.message)
            return
        except (PermissionDenied, NotFound) as exc:
            peer.close(4403 if isinstance(exc, PermissionDenied) else 4404, exc.message)
            return
        except RegistryError as exc:  # the database away: ask again next time
            log.warning("draft %s: could not check a connection again: %s", draft_id, exc.message)
            continue
        peer.can_write = access.can_write
