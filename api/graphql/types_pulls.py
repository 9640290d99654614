"""Pull requests: the conversation (comments, reviews), what they change (files with the
structured manifest diff, commits), their checks and whether they can be merged."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from registry import views
from registry.meta.records import Comment as CommentRecord
from registry.meta.records import Pull
from registry.meta.records import Review as ReviewRecord
from registry.meta.records import Template as TemplateRecord

from .context import Context
from .paging import node_id
from .types_common import Check, Commit, FileChange, Node

if TYPE_CHECKING:
    from .types_template import Template

Info = strawberry.Info[Context, None]
LazyTemplate = Annotated["Template", strawberry.lazy("api.graphql.types_template")]


@strawberry.type
class Review:
    id: int
    author: str
    event: str = strawberry.field(description="APPROVE | REQUEST_CHANGES | COMMENT")
    body: str
    sha: str = strawberry.field(description="the head it looked at: a new push makes an approval stale")
    created_at: float

    @staticmethod
    def of(r: ReviewRecord) -> Review:
        return Review(id=r["id"], author=r["author"], event=r["event"], body=r["body"], sha=r["sha"],
                      created_at=r["created_at"])


@strawberry.type
class Comment:
    id: int
    author: str
    body: str
    path: str | None
    line: int | None
    side: str | None = strawberry.field(description="LEFT | RIGHT for a line comment")
    review_id: int | None
    sha: str
    created_at: float

    @staticmethod
    def of(c: CommentRecord) -> Comment:
        return Comment(id=c["id"], author=c["author"], body=c["body"], path=c["path"], line=c["line"],
                       side=c["side"], review_id=c["review_id"], sha=c["sha"], created_at=c["created_at"])


@strawberry.type
class Mergeability:
    mergeable: bool
    conflicts: list[str]
    blocked_by: list[str]


@strawberry.type(description="Where a pull request's changes come from: a branch of the template or of a fork.")
class PullHead:
    owner: str
    name: str
    branch: str
    sha: str
    ref: str = strawberry.field(description="refs/pull/N/head, fetchable from the base template")


@strawberry.type
class PullBase:
    branch: str


@strawberry.type
class PullRequest(Node):
    _base: strawberry.Private[TemplateRecord]
    _pull: strawberry.Private[Pull]
    number: int
    title: str
    body: str
    state: str = strawberry.field(description="open | closed | merged")
    author: str
    base: PullBase
    merged_sha: str | None
    created_at: float
    updated_at: float

    @staticmethod
    def of(base: TemplateRecord, p: Pull) -> PullRequest:
        return PullRequest(id=node_id("PullRequest", f"{base.id}:{p.number}"), _base=base, _pull=p, number=p.number,
                           title=p.title, body=p.body, state=p.state, author=p.author,
                           base=PullBase(branch=p.base_branch), merged_sha=p.merged_sha, created_at=p.created_at,
                           updated_at=p.updated_at)

    def _key(self) -> tuple[str, str, int]:
        return self._base.owner, self._base.name, self.number

    @strawberry.field
    async def head(self, info: Info) -> PullHead:
        head = await info.context.loaders.pull_head.load(self._pull)
        return PullHead(owner=head.owner, name=head.name, branch=self._pull.head_branch, sha=self._pull.head_sha,
                        ref=f"refs/pull/{self.number}/head")

    @strawberry.field(description="The template the pull request asks to merge into.")
    def template(self) -> LazyTemplate:
        from .types_template import Template

        return Template.of(self._base)

    @strawberry.field
    async def files(self, info: Info) -> list[FileChange] | None:
        return [FileChange.of(f) for f in await info.context.loaders.pull_files.load(self._key())]

    @strawberry.field
    async def commits(self, info: Info) -> list[Commit] | None:
        return [Commit.of(c) for c in await info.context.loaders.pull_commits.load(self._key())]

    @strawberry.field
    async def reviews(self, info: Info) -> list[Review]:
        return [Review.of(r) for r in await info.context.loaders.reviews.load(self._key())]

    @strawberry.field
    async def comments(self, info: Info) -> list[Comment]:
        return [Comment.of(c) for c in await info.context.loaders.comments.load(self._key())]

    @strawberry.field
    async def mergeability(self, info: Info) -> Mergeability | None:
        found: dict[str, Any] = await info.context.loaders.mergeability.load(self._key())
        return Mergeability(mergeable=found["mergeable"], conflicts=list(found["conflicts"]),
                            blocked_by=list(found["blocked_by"]))

    @strawberry.field(description="The head commit's checks.")
    async def checks(self, info: Info) -> list[Check] | None:
        head = await info.context.loaders.pull_head.load(self._pull)
        found = await info.context.run(views.statuses, info.context.container, info.context.actor, head.owner,
                                       head.name, self._pull.head_sha)
        return [Check.of(s) for s in found]
