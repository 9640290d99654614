"""/graphiql: GraphiQL to try queries in, served from this site only under the strict CSP (script
from 'self' only, no unsafe-inline or unsafe-eval). Its bundle is apart from the editor's
(web/src/graphiql.js: React, GraphiQL 3 and CodeMirror 5 are 1.2 MB minified, 0.38 MB gzipped,
with 0.4 MB of CSS), so no other page loads it. GraphiQL's stylesheet carries its fonts as data:
URLs: this page alone also allows `font-src data:`."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from ..web.render import page as render_page

router = APIRouter(include_in_schema=False)


def page(request: Request) -> HTMLResponse:
    response = render_page(request, "graphiql.html", title="GraphQL", script="graphiql")
    response.headers["Content-Security-Policy"] += "; font-src data:"
    return response


@router.get("/graphiql")
def graphiql(request: Request) -> HTMLResponse:
    return page(request)


@router.get("/schema.graphql")
def schema_sdl(request: Request) -> PlainTextResponse:
    """The schema as SDL: what schemas/schema.graphql holds (a test keeps them equal)."""
    sdl: str = request.app.state.graphql_sdl
    return PlainTextResponse(sdl, headers={"X-Content-Type-Options": "nosniff"})
