"""Domain errors to HTTP, in one table. Every error body is {"error": {"code", "message"}}."""
from __future__ import annotations

import html
import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from registry import errors

log = logging.getLogger("api")

STATUS: list[tuple[type[errors.RegistryError], int]] = [
    (errors.StaleHead, 412),
    (errors.StaleParent, 412),
    (errors.StaleBase, 412),
    (errors.MergeBlocked, 405),
    (errors.InvalidInput, 400),
    (errors.Unauthenticated, 401),
    (errors.PermissionDenied, 403),
    (errors.NotFound, 404),
    (errors.AlreadyExists, 409),
    (errors.Conflict, 409),
    (errors.PreconditionFailed, 412),
    (errors.OverBudget, 402),
    (errors.TooLarge, 413),
    (errors.TooManyAttempts, 429),
    (errors.StorageError, 503),
]


def status_for(exc: errors.RegistryError) -> int:
    return next((status for cls, status in STATUS if isinstance(exc, cls)), 500)


def headers_for(exc: errors.RegistryError, status: int) -> dict[str, str] | None:
    """A 401 names its scheme; a 429 and a 503 say when to try again (RFC 9110 Retry-After)."""
    if isinstance(exc, errors.TooManyAttempts):
        return {"Retry-After": str(exc.retry_after)}
    if status == 401:
        return {"WWW-Authenticate": 'Bearer realm="registry"'}
    if isinstance(exc, errors.StorageError):  # the only 503s
        return {"Retry-After": str(exc.retry_after)}
    return None


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                   details: dict | None = None) -> JSONResponse:
    body = {"code": code, "message": message, **(details or {})}
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def refusal(exc: errors.StorageError, headers: Mapping[str, str], path: str) -> Response:
    """The 503 for a request no route saw (a server process not yet started, api/startup.py), in
    the form its client reads: text git prints as "remote: ...", a page, or the API's JSON."""
    status, retry = status_for(exc), headers_for(exc, 503)
    if headers.get("user-agent", "").startswith("git/"):
        return PlainTextResponse(exc.message + "\n", status_code=status, headers=retry)
    if "text/html" in headers.get("accept", "") and not path.startswith(("/api/", "/graphql")):
        return _unavailable_page(exc.message, retry)
    return error_response(status, exc.code, exc.message, retry, exc.details)


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.RegistryError)
    async def registry_error(request: Request, exc: errors.RegistryError) -> Response:
        status = status_for(exc)
        if getattr(request.state, "web", False):
            return _page(request, status, exc.message, headers_for(exc, status))
        return error_response(status, exc.code, exc.message, headers_for(exc, status), exc.details)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal server error")

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        if getattr(request.state, "web", False):
            return _page(request, 422, f"{where}: {first.get('msg', 'invalid request')}")
        return error_response(422, "validation_error", f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthenticated", 404: "not_found", 405: "method_not_allowed",
                413: "too_large"}.get(exc.status_code, "http_error")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return error_response(exc.status_code, code, str(exc.detail), headers or None)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path (Starlette names only the first route's)."""
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def _page(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The same error for a person: an HTML page (web routes mark their requests)."""
    from .web.render import page

    if status == 503:  # the page would look up the session's user: not in a database that is down
        return _unavailable_page(message, headers)
    response = page(request, "error.html", status_code=status, title=f"Error {status}", status=status,
                    message=message)
    response.headers.update(headers or {})
    return response


def _unavailable_page(message: str, headers: dict[str, str] | None) -> Response:
    from .web.render import HEADERS

    body = f"<!doctype html><html lang=en><title>Error 503</title><h1>Error 503</h1><p>{html.escape(message)}</p>"
    return HTMLResponse(body, status_code=503, headers={**HEADERS, **(headers or {})})
