"""/graphiql: a page to try queries in, served from this site only under the strict CSP."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from ..web.render import page as render_page

router = APIRouter(include_in_schema=False)


def page(request: Request) -> HTMLResponse:
    return render_page(request, "graphiql.html", title="GraphQL", script=True)


@router.get("/graphiql")
def graphiql(request: Request) -> HTMLResponse:
    return page(request)


@router.get("/schema.graphql")
def schema_sdl(request: Request) -> PlainTextResponse:
    """The schema as SDL: what schemas/schema.graphql holds (a test keeps them equal)."""
    sdl: str = request.app.state.graphql_sdl
    return PlainTextResponse(sdl, headers={"X-Content-Type-Options": "nosniff"})
