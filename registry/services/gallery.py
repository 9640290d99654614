"""The gallery's use cases: search (privacy by reader), stars and ratings, reindexing."""
from __future__ import annotations

import time
from dataclasses import replace

from .. import indexing
from ..access import Actor, Level
from ..container import Container
from ..errors import InvalidInput
from ..events import recording
from ..search import SearchQuery, SearchResults
from ..search.base import MAX_PAGE, MAX_QUERY, SORTS, STATUSES
from . import audit, guard, templates

__all__ = ["MAX_PAGE", "MAX_QUERY", "SORTS", "STATUSES", "rate", "reindex", "search", "star"]


def search(c: Container, actor: Actor, q: str = "", industry: str | None = None, use_case: str | None = None,
           tags: str | None = None, owner: str | None = None, sort: str = "relevance", page: int = 1,
           per_page: int = 20, status: str | None = None) -> SearchResults:
    """Published templates whose head passes validate, unless `status` asks for others (drafts
    only of the caller's own); with owner = the caller, all of the caller's, failing ones marked."""
    wanted = tuple(t.strip() for t in (tags or "").split(",") if t.strip())
    query = SearchQuery(q=q, industry=industry, use_case=use_case, tags=wanted, owner=owner, sort=sort, page=page,
                        per_page=per_page, reader=actor.name, see_all=actor.is_admin, status=status)
    if sort == "trending":
        query = replace(query, trending=audit.trending_scores(c))
    return c.search.search(query)


def ensure_index(c: Container) -> int | None:
    """Rebuild a search index made anew by a schema change (at start); how many it indexed."""
    return reindex(c) if c.search.needs_rebuild else None  # the full reindex clears the flag


def star(c: Container, actor: Actor, owner: str, name: str, starred: bool) -> int:
    guard.writer(actor, "star templates")
    template = guard.template(c, actor, owner, name, Level.READ)
    assert actor.user is not None
    with recording(c) as r:
        had = c.meta.activity.has_star(template.id, actor.user.id)
        c.meta.activity.set_star(template.id, actor.user.id, starred)
        if had != starred:
            r.add(actor.name, "star.created" if starred else "star.deleted", template,
                  {"starred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) if starred else None})
    indexing.refresh(c, template)
    return c.meta.activity.social(template.id)[0]


def rate(c: Container, actor: Actor, owner: str, name: str, score: int, review: str | None) -> tuple[float, int]:
    guard.writer(actor, "rate templates")
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidInput("score must be an integer from 1 to 5")
    template = guard.template(c, actor, owner, name, Level.READ)
    assert actor.user is not None
    with recording(c) as r:
        c.meta.activity.rate(template.id, actor.user.id, score, review)
        r.add(actor.name, "rating.created", template, {"rating": {"score": score, "review": review}})
    indexing.refresh(c, template)
    _, mean, count = c.meta.activity.social(template.id)
    return mean, count


def reindex(c: Container) -> int:
    """Operators only (the CLI; no route): rebuild the index from storage."""
    return indexing.reindex_all(c, templates.all_templates(c))
