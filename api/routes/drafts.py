"""/api/v1/templates/{owner}/{name}/drafts: shared drafts (live co-editing). The documents
themselves are edited over the WebSocket (api/drafts_socket.py); these open, read, commit and
delete a draft."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from registry.access import Actor
from registry.container import Container
from registry.meta.records_drafts import Draft
from registry.services import drafts
from registry.services.commits import PullSpec

from ..deps import RowNumber, get_actor, get_container, get_signed_in
from ..models.drafts import DraftCommitIn, DraftCommitOut, DraftConflictOut, DraftDetail, DraftFileOut, DraftIn, DraftOut
from ..openapi import WRITE
from .pulls import pull_out

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
