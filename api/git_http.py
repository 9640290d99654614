"""Git smart HTTP at /{owner}/{name}.git: authentication here, the use cases in registry.services.push.

The `Git-Protocol` header goes to the core as it is (protocol v2 for upload-pack).
Bodies are spooled to a temporary file and the git handler runs in a worker thread,
writing into another spooled file that is streamed back in 64 KiB chunks.
"""
from __future__ import annotations

import tempfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO, cast

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from registry.access import ANONYMOUS, Actor
from registry.errors import RegistryError, TemplateNotFound, Unavailable
from registry.services import push

from .deps import actor_from_header, container_of
from .errors import error_response, headers_for, status_for
from .metrics import PUSH_BYTES

router = APIRouter()
SPOOL = 16 * 1024 * 1024
NO_CACHE = {"Cache-Control": "no-cache, max-age=0, must-revalidate", "Expires": "Fri, 01 Jan 1980 00:00:00 GMT"}


def _git_error(request: Request, exc: RegistryError, actor: Actor) -> Response:
    status = status_for(exc)
    if isinstance(exc, TemplateNotFound) and actor.user is None:
        status = 401  # let git ask for credentials; don't confirm whether it exists
    headers = {"WWW-Authenticate": 'Basic realm="registry"'} if status == 401 else headers_for(exc, status)
    if request.headers.get("user-agent", "").startswith("git/"):
        # git prints a text/plain error body as "remote: ..." lines; JSON it would not show.
        return PlainTextResponse(exc.message + "\n", status_code=status, headers=headers)
    return error_response(status, exc.code, exc.message, headers)


async def _guard(request: Request, handle, rpc: str | None = None) -> Response:
    request.state.actor = ANONYMOUS
    try:
        request.state.actor = await run_in_threadpool(
            actor_from_header, container_of(request), request.headers.get("authorization"))
        return await handle()
    except Unavailable as exc:
        if rpc == "git-upload-pack":  # a push's answer may be side-band framed: a 503 ("RPC failed")
            return await _git_refusal(request, rpc, exc)
        return _git_error(request, exc, request.state.actor)
    except RegistryError as exc:
        return _git_error(request, exc, request.state.actor)


# Everything that may touch storage or the database runs in the thread pool: a slow S3 or
# database call must never stall the event loop (and /healthz with it).

@router.get("/{owner}/{name}.git/info/refs")
async def info_refs(request: Request, owner: str, name: str) -> Response:
    service_name = request.query_params.get("service", "")

    async def handle() -> Response:
        body = await run_in_threadpool(push.advertise, container_of(request), request.state.actor, owner, name,
                                       service_name, request.headers.get("git-protocol"))
        return Response(body, media_type=f"application/x-{service_name}-advertisement", headers=NO_CACHE)

    return await _guard(request, handle)


@router.post("/{owner}/{name}.git/git-upload-pack")
async def upload_pack(request: Request, owner: str, name: str) -> Response:
    """Fetch and clone: the client's wants and haves in, a pack out."""
    return await rpc(request, owner, name, "git-upload-pack")


@router.post("/{owner}/{name}.git/git-receive-pack")
async def receive_pack(request: Request, owner: str, name: str) -> Response:
    """Push: ref updates and a pack in, a report of each ref out."""
    return await rpc(request, owner, name, "git-receive-pack")


@router.post("/{owner}/{name}.git/{service_name}", include_in_schema=False)  # any other service: refused
async def rpc(request: Request, owner: str, name: str, service_name: str) -> Response:
    async def handle() -> Response:
        c, actor = container_of(request), request.state.actor
        # Who may do what is settled before the body is read.
        template = await run_in_threadpool(push.authorize, c, actor, owner, name, service_name)
        if request.headers.get("content-type") != f"application/x-{service_name}-request":
            return error_response(415, "unsupported_media_type", "wrong Content-Type for a git request")
        body = await _spool_body(request, c.settings.max_push_bytes)
        if service_name == "git-receive-pack":
            PUSH_BYTES.observe(body.seek(0, 2))
            body.seek(0)
        out = cast(BinaryIO, tempfile.SpooledTemporaryFile(SPOOL))
        try:
            await run_in_threadpool(push.serve, c, actor, template, service_name, body, out,
                                    request.headers.get("git-protocol"))
        finally:
            body.close()
        out.seek(0)
        return StreamingResponse(_chunks(out), media_type=f"application/x-{service_name}-result",
                                 headers=NO_CACHE)

    return await _guard(request, handle, service_name)


async def _git_refusal(request: Request, service_name: str, exc: Unavailable) -> Response:
    """A fetch or clone that can't be served now (its discovery request could): answered as git
    reads an answer, an ERR pkt-line it prints as `remote error: ...` (either protocol version),
    where a bare 503 would only make it say "RPC failed". The body is read first (and dropped),
    so git is not cut off mid-send."""
    try:
        (await _spool_body(request, container_of(request).settings.max_push_bytes)).close()
    except RuntimeError:  # read already
        pass
    return Response(push.refusal(exc.message), media_type=f"application/x-{service_name}-result",
                    headers={**NO_CACHE, "Retry-After": str(exc.retry_after)})


async def _spool_body(request: Request, limit: int) -> BinaryIO:
    """The request body, gunzipped if git compressed it, in a temporary file.

    An oversized push is not cut off mid-stream: the pack reader stops at `limit` and git
    gets a per-ref refusal it can print. Past a hard ceiling the rest is not kept.
    """
    ceiling = limit + 16 * 1024 * 1024
    spool = cast(BinaryIO, tempfile.SpooledTemporaryFile(SPOOL))
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if request.headers.get("content-encoding") == "gzip" else None
    kept = 0
    async for chunk in request.stream():
        if inflate is not None:
            chunk = inflate.decompress(chunk)
        if kept < ceiling:
            spool.write(chunk[: ceiling - kept])
            kept += len(chunk)
    if inflate is not None:
        spool.write(inflate.flush())
    spool.seek(0)
    return spool


def _chunks(f: BinaryIO, size: int = 1 << 16) -> Iterator[bytes]:
    while chunk := f.read(size):
        yield chunk
