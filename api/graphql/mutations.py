"""The mutation root: what people do most, each through the one use case REST calls, its input
checked by REST's own request model. Anonymous callers get a GraphQL error (as REST's 401 comes
before any body check); refusals a person can act on come back typed in the payload's `errors`."""
from __future__ import annotations

from typing import Any

import strawberry

from api.models.contents import ChangeContent, ChangeDelete, CommitIn
from api.models.gallery import RatingIn
from api.models.pulls import MergeRequest, NewComment, NewPull, NewReview, PullEdit
from api.models.templates import CreateTemplate, ForkRequest, TemplatePatch
from registry.access import Actor
from registry.errors import Unauthenticated
from registry.services import gallery, merging, proposals, pulls, templates
from registry.services.commits import Change, Committed, PullSpec

from .context import Context
from .mutation_errors import MutationError, attempt, parsed
from .mutation_types import (
    AddCommentInput,
    CommentPayload,
    CommitFilesInput,
    CommitFilesPayload,
    CommittedFile,
    CreateTemplateInput,
    DeletePayload,
    ForkTemplateInput,
    MergePayload,
    MergePullRequestInput,
    OpenPullRequestInput,
    PullRequestPayload,
    RatePayload,
    ReviewPayload,
    ReviewPullRequestInput,
    StarPayload,
    TemplatePayload,
    UpdatePullRequestInput,
    UpdateTemplateInput,
)
from .types_pulls import Comment, PullRequest
from .types_template import Template

Info = strawberry.Info[Context, None]


def _signed_in(info: Info) -> tuple[Any, Actor]:
    actor = info.context.actor
    if actor.user is None:
        raise Unauthenticated("authentication required")
    return info.context.container, actor


def _values(obj: Any, *skip: str) -> dict[str, Any]:
    return {k: v for k, v in vars(obj).items() if k not in skip and v is not strawberry.UNSET}


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_template(self, info: Info, input: CreateTemplateInput) -> TemplatePayload:
        c, actor = _signed_in(info)

        def run() -> Template:
            body = parsed(CreateTemplate, _values(input))
            return Template.of(templates.create(c, actor, body.name, body.owner, body.visibility, body.description))
        found, errors = await info.context.run(attempt, run)
        return TemplatePayload(template=found, errors=errors)

    @strawberry.mutation(description="Description, visibility and default branch (maintainers and above).")
    async def update_template(self, info: Info, input: UpdateTemplateInput) -> TemplatePayload:
        c, actor = _signed_in(info)

        def run() -> Template:
            body = parsed(TemplatePatch, _values(input, "owner", "name"))
            return Template.of(templates.update(c, actor, input.owner, input.name, body.description,
                                                body.visibility, body.default_branch))
        found, errors = await info.context.run(attempt, run)
        return TemplatePayload(template=found, errors=errors)

    @strawberry.mutation(description="Delete a template (its owner or an admin).")
    async def delete_template(self, info: Info, owner: str, name: str) -> DeletePayload:
        c, actor = _signed_in(info)
        def run() -> bool:
            templates.delete(c, actor, owner, name)
            return True
        done, errors = await info.context.run(attempt, run)
        return DeletePayload(deleted=bool(done), errors=errors)

    @strawberry.mutation
    async def fork_template(self, info: Info, input: ForkTemplateInput) -> TemplatePayload:
        c, actor = _signed_in(info)

        def run() -> Template:
            body = parsed(ForkRequest, {k: v for k, v in (("owner", input.new_owner), ("name", input.new_name)) if v})
            return Template.of(templates.fork(c, actor, input.owner, input.name, body.owner, body.name))
        found, errors = await info.context.run(attempt, run)
        return TemplatePayload(template=found, errors=errors)

    @strawberry.mutation(description="Star (starred: true) or unstar a template.")
    async def set_star(self, info: Info, owner: str, name: str, starred: bool) -> StarPayload:
        c, actor = _signed_in(info)
        stars, errors = await info.context.run(attempt, lambda: gallery.star(c, actor, owner, name, starred))
        return StarPayload(starred=starred if not errors else None, stars=stars, errors=errors)

    @strawberry.mutation(description="Rate a template from 1 to 5, with a short review.")
    async def rate_template(self, info: Info, owner: str, name: str, score: int,
                            review: str | None = None) -> RatePayload:
        c, actor = _signed_in(info)

        def run() -> tuple[float, int]:
            body = parsed(RatingIn, {"score": score, "review": review})
            return gallery.rate(c, actor, owner, name, body.score, body.review)
        done, errors = await info.context.run(attempt, run)
        return RatePayload(rating=done[0] if done else None, ratings_count=done[1] if done else None, errors=errors)

    @strawberry.mutation
    async def open_pull_request(self, info: Info, input: OpenPullRequestInput) -> PullRequestPayload:
        c, actor = _signed_in(info)

        def run() -> PullRequest:
            body = parsed(NewPull, _values(input, "owner", "name"))
            pull = pulls.open_pull(c, actor, input.owner, input.name, body.title, body.body, body.head, body.base)
            return PullRequest.of(pulls.get_pull(c, actor, input.owner, input.name, pull.number)[0], pull)
        found, errors = await info.context.run(attempt, run)
        return PullRequestPayload(pull_request=found, errors=errors)

    @strawberry.mutation(description="Title, body, or state open | closed (merging is mergePullRequest).")
    async def update_pull_request(self, info: Info, input: UpdatePullRequestInput) -> PullRequestPayload:
        c, actor = _signed_in(info)

        def run() -> PullRequest:
            body = parsed(PullEdit, _values(input, "owner", "name", "number"))
            pull = pulls.update_pull(c, actor, input.owner, input.name, input.number, body.title, body.body,
                                     body.state)
            return PullRequest.of(pulls.get_pull(c, actor, input.owner, input.name, pull.number)[0], pull)
        found, errors = await info.context.run(attempt, run)
        return PullRequestPayload(pull_request=found, errors=errors)

    @strawberry.mutation
    async def review_pull_request(self, info: Info, input: ReviewPullRequestInput) -> ReviewPayload:
        c, actor = _signed_in(info)

        def run() -> int:
            comments = [_values(x) for x in input.comments or []]
            body = parsed(NewReview, {"event": input.event, "body": input.body, "comments": comments})
            return merging.review(c, actor, input.owner, input.name, input.number, body.event, body.body,
                                  [x.model_dump() for x in body.comments])
        review_id, errors = await info.context.run(attempt, run)
        return ReviewPayload(review_id=review_id, event=input.event if review_id else None, errors=errors)

    @strawberry.mutation(description="Comment on a pull request, or on a line of one of its files.")
    async def add_comment(self, info: Info, input: AddCommentInput) -> CommentPayload:
        c, actor = _signed_in(info)

        def run() -> Comment:
            body = parsed(NewComment, _values(input, "owner", "name", "number"))
            return Comment.of(merging.comment(c, actor, input.owner, input.name, input.number, body.body, body.path,
                                              body.line, body.side))
        found, errors = await info.context.run(attempt, run)
        return CommentPayload(comment=found, errors=errors)

    @strawberry.mutation(description="Merge (maintainers); refused typed when the head moved, protection "
                                     "blocks it or the trees conflict.")
    async def merge_pull_request(self, info: Info, input: MergePullRequestInput) -> MergePayload:
        c, actor = _signed_in(info)

        def run() -> str:
            body = parsed(MergeRequest, _values(input, "owner", "name", "number"))
            return merging.merge(c, actor, input.owner, input.name, input.number, body.method, body.expected_head_sha)
        sha, errors = await info.context.run(attempt, run)
        return MergePayload(sha=sha, merged=sha is not None, errors=errors)

    @strawberry.mutation(description="Several files in one commit on `parent`, the tip of `branch`; through the "
                                     "push checks. A reader asking for a pull request gets it from their fork.")
    async def commit_files(self, info: Info, input: CommitFilesInput) -> CommitFilesPayload:
        c, actor = _signed_in(info)

        def run() -> Committed:
            changes = [_change(i, x) for i, x in enumerate(input.changes or [])]
            pull = _values(input.create_pull) if input.create_pull else None
            body = parsed(CommitIn, {"branch": input.branch, "parent": input.parent, "message": input.message,
                                     "changes": [ch for ch, _ in changes], "new_branch": input.new_branch,
                                     "create_pull": pull})
            spec = PullSpec(body.create_pull.title, body.create_pull.body, body.create_pull.base) \
                if body.create_pull else None
            return proposals.submit(c, actor, input.owner, input.name, body.branch, body.parent, body.message,
                                    [Change(path, data) for _, (path, data) in changes], body.new_branch, spec)
        done, errors = await info.context.run(attempt, run)
        if done is None:
            return CommitFilesPayload(sha=None, branch=None, parent=None, template=None, files=[], pull_request=None,
                                      errors=errors)
        pull = PullRequest.of(await info.context.run(_base_of, info, input.owner, input.name), done.pull) \
            if done.pull else None
        return CommitFilesPayload(sha=done.sha, branch=done.branch, parent=done.parent, template=Template.of(done.template),
                                  files=[CommittedFile(path=p, sha=s) for p, s in sorted(done.files.items())],
                                  pull_request=pull, errors=errors)


def _base_of(info: Info, owner: str, name: str) -> Any:
    from registry.services import guard

    return guard.template(info.context.container, info.context.actor, owner, name)


def _change(index: int, x: Any) -> tuple[dict[str, Any], tuple[str, bytes | None]]:
    """One change as REST's model takes it, and as the use case takes it (path, bytes or None)."""
    import base64

    given = [k for k in ("text", "content_base64", "delete") if getattr(x, k, None) not in (None, False)]
    if len(given) != 1:
        from registry.errors import InvalidInput

        raise InvalidInput(f"changes.{index}: give exactly one of text, contentBase64 or delete: true",
                           field=f"changes.{index}")
    if x.delete:
        parsed(ChangeDelete, {"path": x.path, "delete": True}, f"changes.{index}")
        return {"path": x.path, "delete": True}, (x.path, None)
    encoded = x.content_base64 if x.content_base64 is not None else base64.b64encode(x.text.encode()).decode()
    parsed(ChangeContent, {"path": x.path, "content_base64": encoded}, f"changes.{index}")
    data = x.text.encode() if x.text is not None else base64.b64decode(encoded.replace("\n", "").replace("\r", ""))
    return {"path": x.path, "content_base64": encoded}, (x.path, data)


__all__ = ["Mutation", "MutationError"]
