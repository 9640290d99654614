"""The query root: `viewer`, `template(owner:, name:)`, `templates`, `search(q:, ...)`,
`run(id:)` and `node(id:)`/`nodes(ids:)` for any global id."""
from __future__ import annotations

import strawberry

from registry.errors import InvalidInput, NotFound, RegistryError
from registry.services import gallery, guard, templates
from registry.services.gallery import MAX_PAGE, MAX_QUERY

from .context import Context
from .paging import MAX_FIRST, Connection, by_pages, connection, node_id, parse_node_id, window
from .types_common import Node, User
from .types_misc import Facet, FacetValue, Run, SearchEdge, SearchResults, hit
from .types_pulls import PullRequest
from .types_template import Template

Info = strawberry.Info[Context, None]
SORTS = ("relevance", "stars", "updated", "rating", "trending")
STATUSES = ("published", "draft", "archived", "any")


@strawberry.type(description="The caller.")
class Viewer(User):
    @strawberry.field(description="Templates the caller owns.")
    async def templates(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Template]:
        return await _templates(info, self.login, first, after)


async def _templates(info: Info, owner: str | None, first: int | None, after: str | None) -> Connection[Template]:
    offset, limit = window(first, after)
    c, actor = info.context.container, info.context.actor
    if owner is not None and len(owner) > 63:
        raise InvalidInput("owner is longer than 63 characters", field="owner")
    fetch = lambda page, per_page: templates.list_visible(c, actor, owner, page, per_page)  # noqa: E731
    items, total = await info.context.run(by_pages, fetch, offset, limit)
    for t in items:
        info.context.loaders.prime_template(t)
    return connection([Template.of(t) for t in items], offset, total)


async def _node(info: Info, value: str) -> Node:
    kind, key = parse_node_id(value)
    loaders = info.context.loaders
    if kind == "Template":
        return Template.of(await loaders.by_id.load(key))
    if kind == "PullRequest":
        template_id, _, number = key.rpartition(":")
        if not number.isdigit() or not 1 <= int(number) <= 2_147_483_647:
            raise InvalidInput("not a node id", field="id")
        base = await loaders.by_id.load(template_id)
        return PullRequest.of(base, await loaders.pull.load((base.owner, base.name, int(number))))
    if kind == "Run":
        run, template = await loaders.run.load(key)
        return Run.of(run, template.owner, template.name)
    if kind == "User":
        me = info.context.actor.user
        if me is not None and me.name == key:
            return User.of(me, own=True)
        raise NotFound("users are found by their templates; node(id:) resolves the caller only")
    raise NotFound(f"no node of kind {kind!r}")


@strawberry.type
class Query:
    @strawberry.field(description="The caller; null when anonymous.")
    def viewer(self, info: Info) -> Viewer | None:
        me = info.context.actor.user
        if me is None:
            return None
        return Viewer(id=node_id("User", me.name), login=me.name, is_admin=me.is_admin, email=me.email)

    @strawberry.field
    async def template(self, info: Info, owner: str, name: str) -> Template | None:
        if len(owner) > 63 or len(name) > 63:
            raise InvalidInput("owner and name are at most 63 characters", field="name")
        c, actor = info.context.container, info.context.actor
        found = await info.context.run(guard.template, c, actor, owner, name)
        c.usage.count_named(owner, name, "api_reads")  # a read of the template, as REST's GETs count
        info.context.loaders.prime_template(found)
        return Template.of(found)

    @strawberry.field(description="Templates the caller may read, optionally of one owner.")
    async def templates(self, info: Info, owner: str | None = None, first: int | None = None,
                        after: str | None = None) -> Connection[Template]:
        return await _templates(info, owner, first, after)

    @strawberry.field(description="The gallery's search: words, \"phrases\", -exclusions; facets and did-you-mean.")
    async def search(self, info: Info, q: str = "", industry: str | None = None, use_case: str | None = None,
                     tags: list[str] | None = None, owner: str | None = None, sort: str = "relevance",
                     status: str | None = None, first: int | None = None, after: str | None = None) -> SearchResults:
        offset, limit = window(first, after)
        if len(q) > MAX_QUERY or any(v is not None and len(v) > 100 for v in (industry, use_case, owner)):
            raise InvalidInput(f"q is at most {MAX_QUERY} characters, filters 100", field="q")
        if tags is not None and (len(tags) > 20 or any(len(t) > 50 for t in tags)):
            raise InvalidInput("at most 20 tags of 50 characters", field="tags")
        if sort not in SORTS or (status is not None and status not in STATUSES):
            raise InvalidInput(f"sort is one of {', '.join(SORTS)}; status one of {', '.join(STATUSES)}", field="sort")
        per_page = max(limit, 1)
        if offset // per_page + 1 > MAX_PAGE:
            raise InvalidInput("too deep: narrow the search", field="after")
        c, actor = info.context.container, info.context.actor
        found = await info.context.run(lambda: gallery.search(
            c, actor, q=q, industry=industry, use_case=use_case, tags=",".join(tags) if tags else None, owner=owner,
            sort=sort, page=offset // per_page + 1, per_page=per_page, status=status))
        skip = offset % per_page
        hits = [hit(h) for h in found.results[skip:skip + limit]]
        page = connection(hits, offset, found.total)
        return SearchResults(total_count=found.total, total_is_estimate=found.total_is_estimate,
                             suggestion=found.suggestion, page_info=page.page_info,
                             edges=[SearchEdge(cursor=e.cursor, node=e.node) for e in page.edges], nodes=hits,
                             facets=[Facet(field=k, values=[FacetValue(value=v, count=n) for v, n in values.items()])
                                     for k, values in found.facets.items()])

    @strawberry.field(description="A sandbox run by its id (readers of its template).")
    async def run(self, info: Info, id: str) -> Run | None:
        if len(id) > 64:
            raise InvalidInput("id is at most 64 characters", field="id")
        run, template = await info.context.loaders.run.load(id)
        return Run.of(run, template.owner, template.name)

    @strawberry.field(description="Any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await _node(info, id)

    @strawberry.field(description=f"Several objects by their global ids (at most {MAX_FIRST}); null where not found.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_FIRST:
            raise InvalidInput(f"at most {MAX_FIRST} ids", field="ids")
        out: list[Node | None] = []
        for value in ids:
            try:
                out.append(await _node(info, value))
            except RegistryError:
                out.append(None)
        return out

