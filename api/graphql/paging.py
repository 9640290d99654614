"""Cursor connections as GitHub's GraphQL API has them (`first`/`after`, `edges { cursor node }`,
`nodes`, `pageInfo`, `totalCount`) over the use cases' own paging, and global node ids."""
from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from registry.errors import InvalidInput

T = TypeVar("T")
MAX_FIRST = 100  # the most nodes one connection returns (GitHub's bound too)
DEFAULT_FIRST = 20
MAX_OFFSET = 100_000  # deeper than this, page by narrower filters (REST's PAGE bound)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    total_count: int | None = strawberry.field(description="null where counting would cost a walk of "
                                                           "the whole history (commits)")
    page_info: PageInfo
    edges: list[Edge[T]]
    nodes: list[T]


def cursor(offset: int) -> str:
    return base64.b64encode(f"cursor:{offset}".encode()).decode()


def window(first: int | None, after: str | None) -> tuple[int, int]:
    """(offset, limit) a connection's arguments ask for; refused when out of bounds."""
    limit = DEFAULT_FIRST if first is None else first
    if not 0 <= limit <= MAX_FIRST:
        raise InvalidInput(f"first must be from 0 to {MAX_FIRST}", field="first")
    offset = 0
    if after is not None:
        try:
            kind, _, value = base64.b64decode(after.encode(), validate=True).decode().partition(":")
            offset = int(value) + 1
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidInput("after is not a cursor of this connection", field="after") from None
        if kind != "cursor" or not 0 < offset <= MAX_OFFSET:
            raise InvalidInput("after is not a cursor of this connection", field="after")
    return offset, limit


def by_pages(fetch: Callable[[int, int], tuple[Sequence[T], int]], offset: int, limit: int) -> tuple[list[T], int]:
    """Items [offset, offset + limit) from a use case paged by (page, per_page): one call when
    the window is a page, two when it straddles two pages of that size."""
    if limit == 0:
        return [], fetch(1, 1)[1]
    page = offset // limit + 1
    items, total = fetch(page, limit)
    skip = offset - (page - 1) * limit
    got = list(items[skip:])
    if skip and len(got) < limit and offset + len(got) < total:
        more, total = fetch(page + 1, limit)
        got += list(more[:limit - len(got)])
    return got, total


def connection(items: Sequence[T], offset: int, total: int | None, has_next: bool | None = None) -> Connection[T]:
    edges = [Edge(cursor=cursor(offset + i), node=item) for i, item in enumerate(items)]
    if has_next is None:
        has_next = total is not None and offset + len(items) < total
    return Connection(total_count=total, edges=edges, nodes=list(items),
                      page_info=PageInfo(has_next_page=has_next, has_previous_page=offset > 0,
                                         start_cursor=edges[0].cursor if edges else None,
                                         end_cursor=edges[-1].cursor if edges else None))


def sliced(items: Sequence[T], first: int | None, after: str | None) -> Connection[T]:
    """A connection over a list read whole (branches, tags, versions: a repo's refs document)."""
    offset, limit = window(first, after)
    return connection(items[offset:offset + limit], offset, len(items))


# -- global node ids ---------------------------------------------------------------------------
def node_id(kind: str, key: str) -> strawberry.ID:
    return strawberry.ID(base64.b64encode(f"{kind}:{key}".encode()).decode())


def parse_node_id(value: str) -> tuple[str, str]:
    try:
        kind, sep, key = base64.b64decode(value.encode(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        kind, sep, key = "", "", ""
    if not sep or not kind or not key:
        raise InvalidInput("not a node id", field="id")
    return kind, key
