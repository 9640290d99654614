"""/api/v1/templates/{owner}/{name}/pulls: open, list, read, edit; files and commits; conflicts;
the evaluation (each test case on the base and the head)."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response

from registry import views
from registry.access import Actor
from registry.container import Container
from registry.errors import InvalidInput
from registry.meta.records import Pull
from registry.services import evaluation_view, merging, pulls, resolving
from registry.services.resolving import Choice, PullConflicts, Resolution

from ..deps import PAGE, PER_PAGE, RowNumber, get_actor, get_container, get_signed_in
from ..models.conflicts import ConflictsOut, ResolvedOut, ResolveRequest
from ..models.evaluations import EvaluationOut
from ..models.pulls import (
    CommentOut,
    MergeabilityOut,
    MergeOut,
    MergeRequest,
    NewComment,
    NewPull,
    NewReview,
    PullEdit,
    PullOut,
    ReviewOut,
)
from ..models.templates import CommitOut, FileChange
from ..openapi import PAGED, WRITE
from ..pagination import link_header

router = APIRouter(prefix="/api/v1/templates/{owner}/{name}/pulls")


def pull_out(c: Container, pull: Pull) -> PullOut:
    head = views.pull_head(c, pull)
    return PullOut.model_validate({"number": pull.number, "title": pull.title, "body": pull.body, "state": pull.state,
            "author": pull.author, "head": {"owner": head.owner, "name": head.name, "branch": pull.head_branch,
                                            "sha": pull.head_sha, "ref": f"refs/pull/{pull.number}/head"},
            "base": {"branch": pull.base_branch}, "merged_sha": pull.merged_sha,
            "created_at": pull.created_at, "updated_at": pull.updated_at})


@router.post("", status_code=201, responses=WRITE)
def create(owner: str, name: str, body: NewPull, actor: Actor = Depends(get_signed_in),
           c: Container = Depends(get_container)) -> PullOut:
    return pull_out(c, pulls.open_pull(c, actor, owner, name, body.title, body.body, body.head, body.base))


@router.get("", responses=PAGED)
def index(owner: str, name: str, request: Request, response: Response,
          state: Literal["open", "closed", "merged", "all"] = "open", page: int = PAGE, per_page: int = PER_PAGE,
          actor: Actor = Depends(get_actor), c: Container = Depends(get_container)) -> list[PullOut]:
    items, total = pulls.list_pulls(c, actor, owner, name, state, page, per_page)
    response.headers["Link"] = link_header(request, page, per_page, total)
    return [pull_out(c, p) for p in items]


@router.get("/{number}")
def show(owner: str, name: str, number: RowNumber, actor: Actor = Depends(get_actor),
         c: Container = Depends(get_container)) -> PullOut:
    return pull_out(c, pulls.get_pull(c, actor, owner, name, number)[1])


@router.patch("/{number}", responses=WRITE)
def edit(owner: str, name: str, number: RowNumber, body: PullEdit, actor: Actor = Depends(get_signed_in),
         c: Container = Depends(get_container)) -> PullOut:
    return pull_out(c, pulls.update_pull(c, actor, owner, name, number, body.title, body.body, body.state))


@router.get("/{number}/files")
def files(owner: str, name: str, number: RowNumber, actor: Actor = Depends(get_actor),
          c: Container = Depends(get_container)) -> list[FileChange]:
    return [FileChange.model_validate(f) for f in pulls.files(c, actor, owner, name, number)]


@router.get("/{number}/commits")
def commits(owner: str, name: str, number: RowNumber, actor: Actor = Depends(get_actor),
            c: Container = Depends(get_container)) -> list[CommitOut]:
    return [CommitOut.model_validate(i) for i in pulls.commits(c, actor, owner, name, number)]


@router.get("/{number}/comments")
def comments(owner: str, name: str, number: RowNumber, actor: Actor = Depends(get_actor),
             c: Container = Depends(get_container)) -> list[CommentOut]:
    return [CommentOut.model_validate(i) for i in views.pull_comments(c, actor, owner, name, number)]


@router.post("/{number}/comments", status_code=201, responses=WRITE)
def add_comment(owner: str, name: str, number: RowNumber, body: NewComment, actor: Actor = Depends(get_signed_in),
                c: Container = Depends(get_container)) -> CommentOut:
    return CommentOut.model_validate(
        merging.comment(c, actor, owner, name, number, body.body, body.path, body.line, body.side))


@router.post("/{number}/reviews", status_code=201, responses=WRITE)
def add_review(owner: str, name: str, number: RowNumber, body: NewReview, actor: Actor = Depends(get_signed_in),
               c: Container = Depends(get_container)) -> ReviewOut:
    review_id = merging.review(c, actor, owner, name, number, body.event, body.body,
                               [c.model_dump() for c in body.comments])
    return ReviewOut(id=review_id, event=body.event)


@router.get("/{number}/mergeability")
def mergeability(owner: str, name: str, number: RowNumber, actor: Actor = Depends(get_actor),
                 c: Container = Depends(get_container)) -> MergeabilityOut:
    return MergeabilityOut.model_validate(merging.mergeability(c, actor, owner, name, number))


@router.post("/{number}/merge", responses=WRITE)
def merge(owner: str, name: str, number: RowNumber, body: MergeRequest, actor: Actor = Depends(get_signed_in),
          c: Container = Depends(get_container)) -> MergeOut:
    return MergeOut(sha=merging.merge(c, actor, owner, name, number, body.method, body.expected_head_sha),
                    merged=True)


def conflicts_out(shown: PullConflicts) -> ConflictsOut:
    t, head = shown.template, shown.head
    return ConflictsOut.model_validate({
        "head": {"owner": head.owner, "name": head.name, "branch": shown.pull.head_branch, "sha": shown.head_sha},
        "base": {"owner": t.owner, "name": t.name, "branch": shown.pull.base_branch, "sha": shown.base_sha},
        "merge_base": shown.merge_base, "truncated": shown.truncated, "can_resolve": shown.why_not is None,
        "why_not": shown.why_not, "message": shown.message,
        "files": [{"path": f.path, "kind": f.kind, "base": f.base, "ours": f.ours, "theirs": f.theirs,
                   "absent": list(f.absent), "binary": f.binary, "picks": list(f.picks), "why_not": f.why_not,
                   "hunks": [vars(h) for h in f.hunks]} for f in shown.files]})


@router.get("/{number}/conflicts")
def conflicts(owner: str, name: str, number: RowNumber, actor: Actor = Depends(get_actor),
              c: Container = Depends(get_container)) -> ConflictsOut:
    """What merging the base branch into the head leaves to decide, per file and hunk."""
    return conflicts_out(resolving.pull_conflicts(c, actor, owner, name, number))


@router.post("/{number}/resolve", status_code=201, responses=WRITE)
def resolve(owner: str, name: str, number: RowNumber, body: ResolveRequest, actor: Actor = Depends(get_signed_in),
            c: Container = Depends(get_container)) -> ResolvedOut:
    """Commit the base branch merged into the head branch as `files` and `resolutions` decide."""
    hunks: dict[str, dict[int, Choice]] = {}
    for item in body.resolutions:
        if item.hunk in hunks.setdefault(item.path, {}):
            raise InvalidInput(f"{item.path}: hunk {item.hunk} is chosen twice", path=item.path, hunk=item.hunk)
        hunks[item.path][item.hunk] = Choice(item.choice, item.text)
    done = resolving.resolve_pull(c, actor, owner, name, number, Resolution(hunks, body.files), body.message,
                                  body.expected_head_sha, body.expected_base_sha)
    return ResolvedOut(sha=done.sha, owner=done.template.owner, name=done.template.name, branch=done.branch,
                       parents=list(done.parents))


@router.post("/{number}/conflicts", status_code=201, responses=WRITE)
def resolve_conflicts(owner: str, name: str, number: RowNumber, body: ResolveRequest,
                      actor: Actor = Depends(get_signed_in), c: Container = Depends(get_container)) -> ResolvedOut:
    """The same as POST .../resolve, at the conflicts' own address (as the page's form posts)."""
    return resolve(owner, name, number, body, actor, c)


@router.get("/{number}/evaluation")
def evaluation(owner: str, name: str, number: RowNumber, actor: Actor = Depends(get_actor),
               c: Container = Depends(get_container)) -> EvaluationOut:
    """Base and head per test case (prompt, answer, assertions, tokens, latency, cost) and the
    change: same, changed, regression (passes on the base, fails on the head) or fixed. Cases the
    `eval` check has not evaluated yet have no side, and their summary says `pending`."""
    return EvaluationOut.model_validate(evaluation_view.evaluation(c, actor, owner, name, number))
