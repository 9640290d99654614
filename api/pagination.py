"""RFC 8288 Link headers for paginated lists (GitHub style: next, prev, first, last)."""
from __future__ import annotations

from fastapi import Request


def link_header(request: Request, page: int, per_page: int, total: int | None, has_next: bool = False) -> str:
    def url(p: int) -> str:
        return str(request.url.include_query_params(page=p, per_page=per_page))

    links = []
    last = max(1, -(-total // per_page)) if total is not None else None
    if (last is not None and page < last) or (last is None and has_next):
        links.append(f'<{url(page + 1)}>; rel="next"')
    if last is not None:
        links.append(f'<{url(last)}>; rel="last"')
    if page > 1:
        links.append(f'<{url(1)}>; rel="first"')
        links.append(f'<{url(page - 1)}>; rel="prev"')
    return ", ".join(links)
