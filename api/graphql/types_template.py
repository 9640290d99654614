"""A template: its record, what its default branch holds (manifest, checks, versions), its
repository (branches, tags, commits, files), its people (stars, ratings, forks), its pull
requests, runs, usage and events. Each field reads through a loader or one view, so a field not
asked for costs nothing and one asked for twice is read once."""
from __future__ import annotations

import base64
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from registry import views
from registry.meta.records import Template as TemplateRecord
from registry.meta.records_events import EventFilter
from registry.services import audit, pulls

from .context import Context
from .paging import Connection, by_pages, connection, node_id, sliced, window
from .types_common import Branch, Check, Commit, Contents, Node, Problem, Rating, Tag, TreeEntry, UsageDay, Version, js
from .types_misc import Event, Run
from .types_pulls import PullRequest

Info = strawberry.Info[Context, None]


@strawberry.type
class ForkParent:
    owner: str
    name: str
    full_name: str


@strawberry.type(description="The manifest with `extends` merged and prompt files read, and its problems.")
class ResolvedManifest:
    manifest: JSON | None
    valid: bool
    problems: list[Problem]


@strawberry.type(description="A prompt template: a git repository with a template.json manifest.")
class Template(Node):
    _t: strawberry.Private[TemplateRecord]
    database_id: str = strawberry.field(description="the id REST answers with")
    owner: str
    name: str
    full_name: str
    visibility: str
    description: str
    created_at: float
    updated_at: float

    @staticmethod
    def of(t: TemplateRecord) -> Template:
        return Template(id=node_id("Template", t.id), _t=t, database_id=t.id, owner=t.owner, name=t.name,
                        full_name=t.full_name, visibility=t.visibility, description=t.description,
                        created_at=t.created_at, updated_at=t.updated_at)

    def _named(self) -> tuple[str, str]:
        return self._t.owner, self._t.name

    async def _detail(self, info: Info) -> views.TemplateDetail:
        return await info.context.loaders.detail.load(self._named())

    async def _page(self, info: Info) -> views.TemplatePage:
        return await info.context.loaders.page.load(self._named())

    @strawberry.field
    def clone_url(self, info: Info) -> str:
        return f"{info.context.base_url}/{self._t.owner}/{self._t.name}.git"

    @strawberry.field(description="The template this one was forked from, while it exists.")
    async def fork_parent(self, info: Info) -> ForkParent | None:
        parent = (await self._detail(info)).parent
        return ForkParent(owner=parent.owner, name=parent.name, full_name=parent.full_name) if parent else None

    @strawberry.field
    async def default_branch(self, info: Info) -> str:
        return (await self._detail(info)).default_branch

    @strawberry.field(description="The default branch's commit; null while the template is empty.")
    async def head_sha(self, info: Info) -> str | None:
        return (await self._detail(info)).head

    @strawberry.field(description="template.json at the head, as stored.")
    async def manifest(self, info: Info) -> JSON | None:
        return (await self._detail(info)).manifest

    @strawberry.field(description="The manifest's title, else the name.")
    async def title(self, info: Info) -> str:
        manifest = (await self._detail(info)).manifest
        title = manifest.get("title") if isinstance(manifest, dict) else None
        return title if isinstance(title, str) and title else self._t.name

    @strawberry.field
    async def stars(self, info: Info) -> int:
        return (await self._detail(info)).stars

    @strawberry.field(description="The mean score (0 without ratings).")
    async def rating(self, info: Info) -> float:
        return (await self._detail(info)).rating

    @strawberry.field
    async def ratings_count(self, info: Info) -> int:
        return (await self._detail(info)).ratings

    @strawberry.field(description="The latest status of each check of the head commit.")
    async def checks(self, info: Info) -> list[Check]:
        return [Check.of(s) for s in (await self._detail(info)).statuses]

    @strawberry.field(description="none | read | write | maintain | own: what the caller may do here.")
    async def viewer_permission(self, info: Info) -> str:
        return (await self._detail(info)).level.name.lower()

    @strawberry.field
    async def viewer_has_starred(self, info: Info) -> bool:
        return (await self._page(info)).starred

    @strawberry.field(description="The README of the default branch, as text.")
    async def readme(self, info: Info) -> str | None:
        return (await self._page(info)).readme

    @strawberry.field
    async def recent_ratings(self, info: Info) -> list[Rating]:
        return [Rating.of(r) for r in (await self._page(info)).reviews]

    @strawberry.field(description="The manifest at `ref` (default branch) with extends merged.")
    async def resolved_manifest(self, info: Info, ref: str | None = None) -> ResolvedManifest | None:
        c, actor = info.context.container, info.context.actor
        checked = await info.context.run(views.resolved_manifest, c, actor, *self._named(), _ref(ref))
        return ResolvedManifest(manifest=js(checked.manifest), valid=checked.ok,
                                problems=[Problem(path=p.path, message=p.message) for p in checked.problems])

    @strawberry.field(description="Semver tags, newest first, each with the manifest changes since the one before "
                                   "(a list, as SPEC names it: a repository's tags are read whole).")
    async def versions(self, info: Info) -> list[Version]:
        return [Version.of(v) for v in await info.context.loaders.versions.load(self._named())]

    @strawberry.field
    async def branches(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Branch]:
        found = await info.context.loaders.branches.load(self._named())
        return sliced([Branch(name=b["name"], sha=b["sha"], default=b["default"]) for b in found], first, after)

    @strawberry.field
    async def tags(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Tag]:
        found = await info.context.loaders.tags.load(self._named())
        return sliced([Tag(name=t["name"], sha=t["sha"], commit=t["commit"]) for t in found], first, after)

    @strawberry.field(description="History from `ref` (default branch), newest first; totalCount is null.")
    async def commits(self, info: Info, ref: str | None = None, first: int | None = None,
                      after: str | None = None) -> Connection[Commit] | None:
        offset, limit = window(first, after)
        c, actor = info.context.container, info.context.actor
        found = await info.context.run(views.commits, c, actor, *self._named(), _ref(ref), offset, limit + 1)
        return connection([Commit.of(d) for d in found[:limit]], offset, None, has_next=len(found) > limit)

    @strawberry.field(description="A file or directory at `ref` (default branch).")
    async def contents(self, info: Info, path: str = "", ref: str | None = None) -> Contents | None:
        if len(path) > 4096:
            raise _invalid("path is longer than 4096 characters", "path")
        c, actor = info.context.container, info.context.actor
        found: dict[str, Any] = await info.context.run(views.contents, c, actor, *self._named(), path, _ref(ref))
        name = found["path"].rsplit("/", 1)[-1]
        if found["type"] == "dir":
            return Contents(type="dir", name=name, path=found["path"], sha=found["sha"], size=None, text=None,
                            content_base64=None, entries=[TreeEntry(**e) for e in found["entries"]])
        data: bytes = found["content"]
        try:
            text: str | None = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return Contents(type="file", name=name, path=found["path"], sha=found["sha"], size=found["size"], text=text,
                        content_base64=base64.b64encode(data).decode(), entries=None)

    @strawberry.field(description="The checks of a commit (a full sha, or a ref).")
    async def statuses(self, info: Info, ref: str) -> list[Check] | None:
        c, actor = info.context.container, info.context.actor
        return [Check.of(s) for s in await info.context.run(views.statuses, c, actor, *self._named(), _ref(ref))]

    @strawberry.field(description="The forks of this template that the caller may read.")
    async def forks(self, info: Info, first: int | None = None,
                    after: str | None = None) -> Connection[Template]:
        found = await info.context.loaders.forks.load(self._named())
        return sliced([Template.of(t) for t in found], first, after)

    @strawberry.field(description="Pull requests, newest first; state open (default) | closed | merged | all.")
    async def pulls(self, info: Info, state: str = "open", first: int | None = None,
                    after: str | None = None) -> Connection[PullRequest]:
        offset, limit = window(first, after)
        c, actor = info.context.container, info.context.actor
        fetch = lambda page, per_page: pulls.list_pulls(c, actor, *self._named(), state, page, per_page)  # noqa: E731
        items, total = await info.context.run(by_pages, fetch, offset, limit)
        return connection([PullRequest.of(self._t, p) for p in items], offset, total)

    @strawberry.field
    async def pull(self, info: Info, number: int) -> PullRequest | None:
        if not 1 <= number <= 2_147_483_647:
            raise _invalid("number must be a pull request number", "number")
        found = await info.context.loaders.pull.load((*self._named(), number))
        return PullRequest.of(self._t, found)

    @strawberry.field(description="Sandbox runs, newest first.")
    async def runs(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Run]:
        offset, limit = window(first, after)
        c, actor = info.context.container, info.context.actor
        items, total = await info.context.run(views.runs, c, actor, *self._named(), offset, limit)
        return connection([Run.of(r, *self._named()) for r in items], offset, total)

    @strawberry.field(description="Usage per UTC day from `from` to `to` (default: the last 30 days).")
    async def analytics(self, info: Info,
                        from_: Annotated[str | None, strawberry.argument(name="from")] = None,
                        to: str | None = None) -> list[UsageDay] | None:
        c, actor = info.context.container, info.context.actor
        return [UsageDay.of(d) for d in await info.context.run(audit.analytics, c, actor, *self._named(),
                                                                _bounded(from_, 10), _bounded(to, 10))]

    @strawberry.field(description="The audit log of this template, newest first (maintainers and above).")
    async def events(self, info: Info, action: str | None = None, actor: str | None = None,
                     since: str | None = None, until: str | None = None, first: int | None = None,
                     after: str | None = None) -> Connection[Event] | None:
        offset, limit = window(first, after)
        c, who = info.context.container, info.context.actor
        where = EventFilter(None, _bounded(action, 100), _bounded(actor, 100),
                            audit.parse_time(_bounded(since, 40), "since"), audit.parse_time(_bounded(until, 40), "until"))
        fetch = lambda page, per_page: audit.template_events(c, who, *self._named(), where, page, per_page)  # noqa: E731
        items, total = await info.context.run(by_pages, fetch, offset, limit)
        return connection([Event.of(e) for e in items], offset, total)

    @strawberry.field(description="The MCP servers as a client's `mcpServers` block (secrets stay references).")
    async def mcp_config(self, info: Info, ref: str | None = None) -> JSON | None:
        c, actor = info.context.container, info.context.actor
        return js(await info.context.run(views.mcp_config, c, actor, *self._named(), _ref(ref)))


def _invalid(message: str, field: str) -> Exception:
    from registry.errors import InvalidInput

    return InvalidInput(message, field=field)


def _bounded(value: str | None, most: int) -> str | None:
    if value is not None and len(value) > most:
        raise _invalid(f"at most {most} characters", "argument")
    return value


def _ref(ref: str | None) -> str | None:
    return _bounded(ref, 255)

