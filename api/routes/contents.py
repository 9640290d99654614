"""/api/v1/templates/{owner}/{name}: files and commits made through the API (GitHub's contents
API, several files in one commit), and the push checks on changes not committed yet."""
from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from registry import views
from registry.access import Actor
from registry.container import Container
from registry.services import contents, editing, proposals
from registry.services.commits import Change, Committed, PullSpec

from ..deps import get_actor, get_container, get_signed_in
from ..models.common import TemplateRef
from ..models.contents import (
    ChangeIn,
    CheckIn,
    CheckProblemOut,
    CheckResult,
    CommitCreated,
    CommitIn,
    CommitRef,
    ContentsOut,
    FileCommitOut,
    FileDelete,
    FileIn,
    FileRef,
    change_data,
    decode_base64,
)
from ..openapi import WRITE
from .pulls import pull_out

router = APIRouter(prefix="/api/v1/templates/{owner}/{name}")
CREATED: dict[int | str, dict[str, Any]] = {201: {"model": FileCommitOut, "description": "the file was created"}}


def _changes(items: list[ChangeIn]) -> list[Change]:
    return [Change(item.path, change_data(item)) for item in items]


@router.get("/contents/{path:path}")
def get_contents(owner: str, name: str, path: str, ref: str | None = Query(None, min_length=1, max_length=255),
                 actor: Actor = Depends(get_actor), c: Container = Depends(get_container)) -> ContentsOut:
    """A file, its bytes base64-encoded, or a directory's entries, at `ref` (default: the default branch)."""
    found = views.contents(c, actor, owner, name, path, ref)
    found["name"] = found["path"].rsplit("/", 1)[-1]
    if found["type"] == "file":
        found |= {"encoding": "base64", "content": base64.b64encode(found["content"]).decode()}
    return ContentsOut.model_validate(found)


@router.put("/contents/{path:path}", responses=WRITE | CREATED)
def put_contents(owner: str, name: str, path: str, body: FileIn, response: Response,
                 actor: Actor = Depends(get_signed_in), c: Container = Depends(get_container)) -> FileCommitOut:
    """Create the file (no `sha`; 201) or replace it (`sha`: its blob now; 200) in one commit."""
    data = decode_base64(body.content)
    done = contents.put_file(c, actor, owner, name, path, data, body.message, body.sha, body.branch, body.new_branch)
    response.status_code = 201 if body.sha is None else 200
    (where, blob), = done.files.items()
    assert blob is not None
    return FileCommitOut(content=FileRef(name=where.rsplit("/", 1)[-1], path=where, sha=blob, size=len(data)),
                         commit=CommitRef(sha=done.sha, message=done.message, branch=done.branch))


@router.delete("/contents/{path:path}", responses=WRITE)
def delete_contents(owner: str, name: str, path: str, body: FileDelete, actor: Actor = Depends(get_signed_in),
                    c: Container = Depends(get_container)) -> FileCommitOut:
    """Delete the file, whose blob now must be `sha`, in one commit."""
    done = contents.delete_file(c, actor, owner, name, path, body.message, body.sha, body.branch)
    return FileCommitOut(content=None, commit=CommitRef(sha=done.sha, message=done.message, branch=done.branch))


@router.post("/commits", status_code=201, responses=WRITE)
def create_commit(owner: str, name: str, body: CommitIn, actor: Actor = Depends(get_signed_in),
                  c: Container = Depends(get_container)) -> CommitCreated:
    """Several files in one commit on `parent`, the tip of `branch` the changes were made on
    (412 with the `tip` now when the branch moved); optionally on `new_branch`, with a pull request."""
    pull = body.create_pull
    done = proposals.submit(c, actor, owner, name, body.branch, body.parent, body.message, _changes(body.changes),
                          body.new_branch, PullSpec(pull.title, pull.body, pull.base) if pull else None)
    return _commit_out(c, done)


@router.post("/check", responses={413: WRITE[413]})
def check(owner: str, name: str, body: CheckIn, actor: Actor = Depends(get_actor),
          c: Container = Depends(get_container)) -> CheckResult:
    """The problems a push of `ref` with `changes` applied would meet (the push-time checks and
    `validate`), each at its file and line; nothing is stored."""
    problems = editing.check_changes(c, actor, owner, name, body.ref, _changes(body.changes))
    return CheckResult(valid=not problems, problems=[CheckProblemOut(path=p.path, line=p.line, message=p.message,
                                                                  json_path=p.json_path) for p in problems])


def _commit_out(c: Container, done: Committed) -> CommitCreated:
    t = done.template
    return CommitCreated(sha=done.sha, branch=done.branch, parent=done.parent, files=done.files,
                     template=TemplateRef(owner=t.owner, name=t.name, full_name=t.full_name),
                     pull=pull_out(c, done.pull) if done.pull else None)
