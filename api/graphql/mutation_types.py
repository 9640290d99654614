"""Mutation inputs and payloads. Inputs carry REST's field names in camelCase and REST's
defaults; their bounds are checked by REST's own request models (api/models)."""
from __future__ import annotations

import strawberry

from .mutation_errors import MutationError
from .types_pulls import Comment, PullRequest
from .types_template import Template


@strawberry.input
class CreateTemplateInput:
    name: str
    owner: str | None = strawberry.field(default=None, description="defaults to the caller; another user needs admin")
    visibility: str = "public"
    description: str = ""


@strawberry.input
class UpdateTemplateInput:
    owner: str
    name: str
    description: str | None = None
    visibility: str | None = None
    default_branch: str | None = None


@strawberry.input
class ForkTemplateInput:
    owner: str
    name: str
    new_owner: str | None = strawberry.field(default=None, description="defaults to the caller")
    new_name: str | None = strawberry.field(default=None, description="defaults to the parent's name")


@strawberry.input
class OpenPullRequestInput:
    owner: str
    name: str
    title: str
    head: str = strawberry.field(description="a branch, or owner:branch of a fork")
    base: str = "main"
    body: str = ""


@strawberry.input
class UpdatePullRequestInput:
    owner: str
    name: str
    number: int
    title: str | None = None
    body: str | None = None
    state: str | None = strawberry.field(default=None, description="open | closed")


@strawberry.input
class ReviewCommentInput:
    body: str
    path: str
    line: int
    side: str = "RIGHT"


@strawberry.input
class ReviewPullRequestInput:
    owner: str
    name: str
    number: int
    event: str = strawberry.field(description="APPROVE | REQUEST_CHANGES | COMMENT")
    body: str = ""
    comments: list[ReviewCommentInput] | None = None


@strawberry.input
class AddCommentInput:
    owner: str
    name: str
    number: int
    body: str
    path: str | None = None
    line: int | None = None
    side: str | None = strawberry.field(default=None, description="LEFT | RIGHT, with path and line")


@strawberry.input
class MergePullRequestInput:
    owner: str
    name: str
    number: int
    method: str = strawberry.field(default="merge", description="merge | squash | fast-forward")
    expected_head_sha: str | None = strawberry.field(default=None, description="refused (StaleError) if the head "
                                                                               "has moved since")


@strawberry.input(description="A file's new content (text, or contentBase64 for bytes), or its deletion.")
class FileChangeInput:
    path: str
    text: str | None = None
    content_base64: str | None = None
    delete: bool = False


@strawberry.input
class PullRequestSpecInput:
    title: str
    body: str = ""
    base: str | None = strawberry.field(default=None, description="default: the branch committed on")


@strawberry.input
class CommitFilesInput:
    owner: str
    name: str
    branch: str = strawberry.field(description="the branch the changes were made on")
    parent: str | None = strawberry.field(description="the tip of `branch` the changes were made on; null: the "
                                                      "branch does not exist yet (an empty template)")
    message: str
    changes: list[FileChangeInput]
    new_branch: str | None = None
    create_pull: PullRequestSpecInput | None = None


@strawberry.type
class TemplatePayload:
    template: Template | None
    errors: list[MutationError]


@strawberry.type
class DeletePayload:
    deleted: bool
    errors: list[MutationError]


@strawberry.type
class StarPayload:
    starred: bool | None
    stars: int | None
    errors: list[MutationError]


@strawberry.type
class RatePayload:
    rating: float | None = strawberry.field(description="the mean score")
    ratings_count: int | None
    errors: list[MutationError]


@strawberry.type
class PullRequestPayload:
    pull_request: PullRequest | None
    errors: list[MutationError]


@strawberry.type
class ReviewPayload:
    review_id: int | None
    event: str | None
    errors: list[MutationError]


@strawberry.type
class CommentPayload:
    comment: Comment | None
    errors: list[MutationError]


@strawberry.type
class MergePayload:
    sha: str | None
    merged: bool
    errors: list[MutationError]


@strawberry.type
class CommittedFile:
    path: str
    sha: str | None = strawberry.field(description="its new blob id; null where deleted")


@strawberry.type
class CommitFilesPayload:
    sha: str | None
    branch: str | None
    parent: str | None
    template: Template | None = strawberry.field(description="where the commit landed: the template, or the "
                                                           "caller's fork")
    files: list[CommittedFile]
    pull_request: PullRequest | None
    errors: list[MutationError]
