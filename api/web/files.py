"""The file pages of a template at any branch, tag or commit: directory listings, one file
highlighted on the server (Markdown rendered, `?plain=1` for its source), raw bytes, a path's
history and its blame. URLs are /{owner}/{name}/{tree|blob|raw|commits|blame}/{ref}/{path}."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from registry.access import Actor
from registry.services import browsing

from . import highlight
from .common import container, viewer
from .pages import mark_web
from .render import HEADERS, page

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
PER_PAGE = 30
RAW_CSP = "default-src 'none'; sandbox"  # a raw file is never a page of this site, whatever it holds




@router.get("/{owner}/{name}/tree/{rest:path}", response_class=HTMLResponse)
def tree_page(request: Request, owner: str, name: str, rest: str, actor: Actor = Depends(viewer)) -> HTMLResponse:
    found = browsing.listing(container(request), actor, owner, name, rest)
    where = found.place.path or "/"
    return page(request, "tree.html", title=f"{where} at {found.place.ref} · {owner}/{name}", place=found.place,
                entries=found.entries, readme=found.readme, view="tree")


@router.get("/{owner}/{name}/blob/{rest:path}", response_class=HTMLResponse)
def blob_page(request: Request, owner: str, name: str, rest: str, plain: bool = False,
              actor: Actor = Depends(viewer)) -> HTMLResponse:
    shown = browsing.file(container(request), actor, owner, name, rest)
    markdown = shown.place.path.lower().endswith((".md", ".markdown")) and not plain
    rows = highlight.lines(shown.text, shown.place.path) if shown.text is not None and not markdown else []
    return page(request, "blob.html", title=f"{shown.place.path} at {shown.place.ref} · {owner}/{name}",
                place=shown.place, file=shown, rows=rows, markdown=markdown, view="blob")


@router.get("/{owner}/{name}/raw/{rest:path}")
def raw_file(request: Request, owner: str, name: str, rest: str, actor: Actor = Depends(viewer)) -> Response:
    _, data = browsing.raw(container(request), actor, owner, name, rest)
    binary = b"\0" in data[:8000]
    if not binary:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            binary = True
    kind = "application/octet-stream" if binary else "text/plain; charset=utf-8"
    return Response(data, media_type=kind, headers={**HEADERS, "Content-Security-Policy": RAW_CSP})


@router.get("/{owner}/{name}/commits/{rest:path}", response_class=HTMLResponse)
def history_page(request: Request, owner: str, name: str, rest: str, page_no: int = Query(1, alias="page", ge=1, le=1000),
                 actor: Actor = Depends(viewer)) -> HTMLResponse:
    place, found = browsing.commits(container(request), actor, owner, name, rest, (page_no - 1) * PER_PAGE, PER_PAGE + 1)
    return page(request, "history.html", title=f"History of {place.path or '/'} · {owner}/{name}", place=place,
                commits=found[:PER_PAGE], more=len(found) > PER_PAGE, page_no=page_no, view="commits")


@router.get("/{owner}/{name}/blame/{rest:path}", response_class=HTMLResponse)
def blame_page(request: Request, owner: str, name: str, rest: str, actor: Actor = Depends(viewer)) -> HTMLResponse:
    place, lines = browsing.blame(container(request), actor, owner, name, rest)
    text = "".join(line.text + "\n" for line in lines)
    return page(request, "blame.html", title=f"Blame of {place.path} · {owner}/{name}", place=place,
                lines=zip(lines, highlight.lines(text, place.path), strict=False), view="blame")
