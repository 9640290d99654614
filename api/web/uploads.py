"""Upload files into a folder of a branch (/{owner}/{name}/upload/{ref}/{dir}): a multipart form,
each file bounded by the push's file size limit while it is read, then committed or proposed as
the editor does."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import UploadFile

from registry.access import Actor
from registry.errors import InvalidInput, TooLarge
from registry.services import browsing, editing
from registry.services.commits import Change

from . import session as sessions
from .common import container
from .editing import commit_or_propose, editor, require_branch
from .pages import mark_web
from .render import page

router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)
MAX_FILES = 50
CHUNK = 64 * 1024


def _place(request: Request, actor: Actor, owner: str, name: str, rest: str) -> browsing.Place:
    listing = browsing.listing(container(request), actor, owner, name, rest)
    require_branch(listing.place)
    return listing.place


@router.get("/{owner}/{name}/upload/{rest:path}", response_class=HTMLResponse)
def upload_page(request: Request, owner: str, name: str, rest: str, actor: Actor = Depends(editor)) -> HTMLResponse:
    place = _place(request, actor, owner, name, rest)
    return page(request, "upload.html", title=f"Upload files · {owner}/{name}", place=place, view="tree",
                options=editing.commit_options(container(request), actor, owner, name, place.ref), error=None)


async def _upload(request: Request) -> tuple[dict[str, str], list[tuple[str, bytes]]]:
    """The form's fields and files; a file past the size limit stops the reading (413)."""
    limit = request.app.state.container.settings.max_file_bytes
    form = await request.form(max_files=MAX_FILES, max_fields=50)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    sessions.check_post(request, fields.get("csrf"))
    files = []
    for _, item in form.multi_items():
        if not isinstance(item, UploadFile) or not item.filename:
            continue
        name = item.filename.replace("\\", "/").rsplit("/", 1)[-1]
        data = bytearray()
        while chunk := await item.read(CHUNK):
            data += chunk
            if len(data) > limit:
                raise TooLarge(f"{name} is larger than {limit} bytes", limit=limit, path=name)
        files.append((name, bytes(data)))
    return fields, files


@router.post("/{owner}/{name}/upload/{rest:path}")
def upload(request: Request, owner: str, name: str, rest: str,
           posted: tuple[dict[str, str], list[tuple[str, bytes]]] = Depends(_upload),
           actor: Actor = Depends(editor)) -> RedirectResponse:
    fields, files = posted
    if not files:
        raise InvalidInput("choose at least one file", field="files")
    place = _place(request, actor, owner, name, rest)
    folder = f"{place.path}/" if place.path else ""
    changes = [Change(folder + filename, data) for filename, data in files]
    kept = {"path": place.path, "parent": fields.get("parent", place.commit),
            "message": fields.get("message", "") or f"Upload {', '.join(f for f, _ in files)}"[:2000],
            "choice": fields.get("choice", "direct"), "new_branch": fields.get("new_branch", "")}
    response = commit_or_propose(request, actor, place, kept, changes)
    if kept["choice"] == "direct":
        response.headers["location"] = f"/{owner}/{name}/tree/{place.ref}/{place.path}"
    return response
