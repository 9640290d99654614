"""/api/v1/templates/{owner}/{name}/drafts: shared drafts (live co-editing). The documents
themselves are edited over the WebSocket (api/drafts_socket.py); these open, read, commit and
delete a draft."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from registry.access import Actor
from registry.container import Container
from registry.errors import InvalidInput
from registry.meta.records_drafts import Draft
from registry.services import drafts, drafts_resolving
from registry.services.commits import PullSpec
from registry.services.resolving import Choice, Resolution

from ..deps import RowNumber, get_actor, get_container, get_signed_in
from ..models.drafts import (
    DraftCommitIn,
    DraftCommitOut,
    DraftConflictOut,
    DraftDetail,
    DraftFileConflictOut,
    DraftFileOut,
    DraftIn,
    DraftOut,
    DraftResolvedOut,
    DraftResolveIn,
)
from ..openapi import WRITE
from .pulls import file_out, pull_out

router = APIRouter(prefix="/api/v1/templates/{owner}/{name}/drafts")


def draft_out(request: Request, owner: str, name: str, draft: Draft) -> DraftOut:
    base = request.app.state.base_url
    ws = base.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    return DraftOut(id=draft.id, branch=draft.branch, base=draft.base, url=f"{base}/{owner}/{name}/drafts/{draft.id}",
                    ws=f"{ws}/api/v1/templates/{owner}/{name}/drafts/{draft.id}/ws", created_by=draft.created_by,
                    created_at=draft.created_at, updated_at=draft.updated_at, last_commit=draft.last_commit,
                    pull=draft.pull_number, rebased=draft.rebased)


@router.post("", status_code=201, responses=WRITE)
def open_draft(request: Request, owner: str, name: str, body: DraftIn, actor: Actor = Depends(get_signed_in),
               c: Container = Depends(get_container)) -> DraftOut:
    """A new draft of `branch` as it is now (writers)."""
    return draft_out(request, owner, name, drafts.open_draft(c, actor, owner, name, body.branch, body.path))


@router.get("")
def list_drafts(request: Request, owner: str, name: str, branch: str | None = None, actor: Actor = Depends(get_actor),
                c: Container = Depends(get_container)) -> list[DraftOut]:
    return [draft_out(request, owner, name, d) for d in drafts.list_drafts(c, actor, owner, name, branch)]


@router.get("/{draft_id}")
def get_draft(request: Request, owner: str, name: str, draft_id: RowNumber, actor: Actor = Depends(get_actor),
              c: Container = Depends(get_container)) -> DraftDetail:
    """The draft, its files, editors and conflicts (caught up with its branch first)."""
    view = drafts.get_draft(c, actor, owner, name, draft_id)
    out = draft_out(request, owner, name, view.draft)
    return DraftDetail(**out.model_dump(), files=[DraftFileOut(path=f.path, seq=f.seq) for f in view.files],
                       editors=view.editors, behind=view.behind,
                       conflicts=[DraftConflictOut(path=k.path, base_sha=k.base_sha, theirs_sha=k.theirs_sha,
                                                   details=k.details) for k in view.conflicts])


@router.delete("/{draft_id}", status_code=204, responses=WRITE)
def delete_draft(owner: str, name: str, draft_id: RowNumber, actor: Actor = Depends(get_signed_in),
                 c: Container = Depends(get_container)) -> Response:
    drafts.delete_draft(c, actor, owner, name, draft_id)
    return Response(status_code=204)


@router.post("/{draft_id}/commit", responses=WRITE)
def commit_draft(owner: str, name: str, draft_id: RowNumber, body: DraftCommitIn, actor: Actor = Depends(get_signed_in),
                 c: Container = Depends(get_container)) -> DraftCommitOut:
    """One commit of the draft through the push path (409 `draft_conflicted` while a file is in
    conflict with its branch); with `create_pull`, on a new branch with a pull request."""
    pull = body.create_pull
    done = drafts.commit_draft(c, actor, owner, name, draft_id, body.message,
                               PullSpec(pull.title, pull.body, pull.base) if pull else None, body.new_branch)
    return DraftCommitOut(sha=done.sha, branch=done.branch, pull=pull_out(c, done.pull) if done.pull else None)


@router.get("/{draft_id}/conflicts")
def conflict(owner: str, name: str, draft_id: RowNumber, path: str = Query(min_length=1, max_length=1024),
             actor: Actor = Depends(get_actor), c: Container = Depends(get_container)) -> DraftFileConflictOut:
    """A conflicted file of the draft, per hunk (template.json per JSON path, test files per test
    case) with its base, ours (the draft's text now) and theirs (the branch's); 404 when the file
    is not in conflict."""
    shown = drafts_resolving.draft_conflict(c, actor, owner, name, draft_id, path)
    k = shown.recorded
    return DraftFileConflictOut.model_validate({
        "path": k.path, "base_sha": k.base_sha, "theirs_sha": k.theirs_sha, "shown": shown.shown,
        "can_resolve": shown.why_not is None, "why_not": shown.why_not, "others": list(shown.others),
        "file": file_out(shown.file)})


@router.post("/{draft_id}/resolve", responses=WRITE)
def resolve(owner: str, name: str, draft_id: RowNumber, body: DraftResolveIn, actor: Actor = Depends(get_signed_in),
            c: Container = Depends(get_container)) -> DraftResolvedOut:
    """Make the choices (or `content`) the file's text in the draft and settle its conflict; 412
    `draft_moved` when its hunks are not those `shown`."""
    hunks: dict[int, Choice] = {}
    for item in body.resolutions:
        if item.hunk in hunks:
            raise InvalidInput(f"{body.path}: hunk {item.hunk} is chosen twice", path=body.path, hunk=item.hunk)
        hunks[item.hunk] = Choice(item.choice, item.text)
    chosen = Resolution({body.path: hunks} if hunks else {}, {body.path: body.content} if body.content is not None else {})
    text = drafts_resolving.resolve_draft_conflict(c, actor, owner, name, draft_id, body.path, chosen, body.shown)
    return DraftResolvedOut(path=body.path, text=text)
