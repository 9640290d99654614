"""Git smart HTTP at /{owner}/{name}.git: authentication here, protocol in registry.git.service.

Bodies are spooled to a temporary file and the dulwich handler runs in a worker thread,
writing into another spooled file that is streamed back in 64 KiB chunks.
"""
from __future__ import annotations

import tempfile
import zlib
from typing import BinaryIO

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from registry.access import ANONYMOUS, Actor, Level
from registry.errors import InvalidName, RegistryError, TemplateNotFound
from registry.meta import Template
from registry.services import Registry
from registry.git import service
from registry.names import check_name

from .deps import actor_from_header, get_registry
from .errors import error_response, status_for

router = APIRouter()
SPOOL = 16 * 1024 * 1024
NO_CACHE = {"Cache-Control": "no-cache, max-age=0, must-revalidate", "Expires": "Fri, 01 Jan 1980 00:00:00 GMT"}


def _git_error(exc: RegistryError, actor: Actor) -> Response:
    status = status_for(exc)
    if isinstance(exc, TemplateNotFound) and actor.user is None:
        status = 401  # let git ask for credentials; don't confirm whether it exists
    headers = {"WWW-Authenticate": 'Basic realm="registry"'} if status == 401 else None
    return error_response(status, exc.code, exc.message, headers)


def _authorize(request: Request, owner: str, name: str, service_name: str) -> tuple[Registry, Template]:
    """The template a git request targets, if its caller may use `service_name` on it."""
    registry = get_registry(request)
    actor: Actor = request.state.actor
    if service_name not in service.SERVICES:
        raise InvalidName(f"unsupported service {service_name!r}")
    check_name(owner, "owner")
    check_name(name, "template name")
    needed = Level.WRITE if service_name == "git-receive-pack" else Level.READ
    return registry, registry.get_template(actor, owner, name, needed)


async def _guard(request: Request, handle) -> Response:
    request.state.actor = ANONYMOUS
    try:
        request.state.actor = await run_in_threadpool(
            actor_from_header, get_registry(request), request.headers.get("authorization"))
        return await handle()
    except RegistryError as exc:
        return _git_error(exc, request.state.actor)


# Everything that may touch storage or the database runs in the thread pool: a slow S3 or
# database call must never stall the event loop (and /healthz with it).

@router.get("/{owner}/{name}.git/info/refs")
async def info_refs(request: Request, owner: str, name: str) -> Response:
    service_name = request.query_params.get("service", "")

    def advertise() -> bytes:
        registry, template = _authorize(request, owner, name, service_name)
        repo = registry.open_repo(template)
        try:
            return service.advertise(repo, service_name)
        finally:
            repo.close()

    async def handle() -> Response:
        body = await run_in_threadpool(advertise)
        return Response(body, media_type=f"application/x-{service_name}-advertisement", headers=NO_CACHE)

    return await _guard(request, handle)


@router.post("/{owner}/{name}.git/{service_name}")
async def rpc(request: Request, owner: str, name: str, service_name: str) -> Response:
    def serve(body: BinaryIO, out: BinaryIO) -> None:
        registry, template = _authorize(request, owner, name, service_name)
        ctx = registry.push_context(template) if service_name == "git-receive-pack" else None
        repo = registry.open_repo(template)
        try:
            service.run(repo, service_name, body, out, ctx)
        finally:
            repo.close()

    async def handle() -> Response:
        registry = get_registry(request)
        # Who may do what is settled before the body is read.
        await run_in_threadpool(_authorize, request, owner, name, service_name)
        if request.headers.get("content-type") != f"application/x-{service_name}-request":
            return error_response(415, "unsupported_media_type", "wrong Content-Type for a git request")
        body = await _spool_body(request, registry.settings.max_push_bytes)
        out = tempfile.SpooledTemporaryFile(SPOOL)
        try:
            await run_in_threadpool(serve, body, out)
        finally:
            body.close()
        out.seek(0)
        return StreamingResponse(service.iter_chunks(out), media_type=f"application/x-{service_name}-result",
                                 headers=NO_CACHE)

    return await _guard(request, handle)


async def _spool_body(request: Request, limit: int) -> BinaryIO:
    """The request body, gunzipped if git compressed it, in a temporary file.

    An oversized push is not cut off mid-stream: the pack reader stops at `limit` and git
    gets a per-ref refusal it can print. Past a hard ceiling the rest is not kept.
    """
    ceiling = limit + 16 * 1024 * 1024
    spool = tempfile.SpooledTemporaryFile(SPOOL)
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
