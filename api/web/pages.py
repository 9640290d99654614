"""Server-rendered pages (readable without JavaScript): gallery, template, pull requests, login."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from registry import access, gallery, merging, pulls
from registry.access import Actor, Level
from registry.errors import InvalidInput, NotFound
from registry.git import browse
from registry.search.base import MAX_QUERY

from . import session as sessions
from .render import page

FACETS = ("industry", "use_case", "tags")


def mark_web(request: Request) -> None:
    request.state.web = True  # errors on these routes are HTML pages (api/errors.py)


router = APIRouter(dependencies=[Depends(mark_web)], include_in_schema=False)


def _actor(request: Request) -> Actor:
    return sessions.actor(request)


@router.get("/", response_class=HTMLResponse)
def gallery_page(request: Request, q: str = Query("", max_length=MAX_QUERY), industry: str | None = None,
                 use_case: str | None = None, tags: str | None = Query(None, max_length=1000),
                 sort: str = "relevance", page_no: int = Query(1, alias="page", ge=1, le=500),
                 actor: Actor = Depends(_actor)):
    if sort not in ("relevance", "stars", "updated", "rating"):
        raise InvalidInput("sort must be relevance, stars, updated or rating")
    found = gallery.search(request.app.state.registry, actor, q=q, industry=industry or None,
                           use_case=use_case or None, tags=tags or None, owner=None, sort=sort, page=page_no,
                           per_page=20)
    chosen = {"industry": industry or "", "use_case": use_case or "", "tags": tags or ""}
    return page(request, "gallery.html", q=q, sort=sort, found=found, chosen=chosen, page_no=page_no,
                title="Prompt template gallery")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, error: str | None = None):
    return page(request, "login.html", title="Sign in", error=None)


@router.get("/{owner}/{name}", response_class=HTMLResponse)
def template_page(request: Request, owner: str, name: str, actor: Actor = Depends(_actor)):
    registry = request.app.state.registry
    info = registry.describe(actor, owner, name)
    template, head = info["template"], info["head"]
    readme = manifest = problems = None
    history: list[dict[str, Any]] = []
    if head:
        repo = registry.open_repo(template)
        try:
            for candidate in ("README.md", "readme.md", "README"):
                try:
                    readme = browse.raw(repo, head, candidate).decode("utf-8", "replace")
                    break
                except NotFound:
                    continue
            history = list(browse.commits(repo, head, 0, 10))
        finally:
            repo.close()
        checked = registry.resolved_manifest(actor, owner, name, head)
        manifest, problems = checked.manifest, checked.problems
    statuses = registry.meta.get_statuses(template.id, head) if head else []
    runs, _ = registry.meta.list_runs(template.id, 0, 5)
    return page(request, "template.html", title=f"{owner}/{name}", t=template, info=info, readme=readme,
                manifest=manifest if isinstance(manifest, dict) else None, problems=problems or [],
                history=history, statuses=statuses, runs=runs)


@router.get("/{owner}/{name}/pulls", response_class=HTMLResponse)
def pulls_page(request: Request, owner: str, name: str, state: str = "open", actor: Actor = Depends(_actor)):
    registry = request.app.state.registry
    items, total = pulls.list_pulls(registry, actor, owner, name, state, 1, 100)
    template = registry.get_template(actor, owner, name)
    repo = registry.open_repo(template)
    try:
        branches = [b["name"] for b in browse.branches(repo)]
    finally:
        repo.close()
    can_open = access.level(registry.meta, actor, template) >= Level.WRITE
    return page(request, "pulls.html", title=f"Pull requests · {owner}/{name}", owner=owner, name=name,
                pulls=items, total=total, state=state, branches=branches, can_open=can_open)


@router.get("/{owner}/{name}/pulls/{number}", response_class=HTMLResponse)
def pull_page(request: Request, owner: str, name: str, number: int, view: str = "unified",
              actor: Actor = Depends(_actor)):
    registry = request.app.state.registry
    base, pull = pulls.get_pull(registry, actor, owner, name, number)
    head = registry.meta.get_template_by_id(pull.head_template_id)
    comments = registry.meta.comments(base.id, number)
    line_comments: dict[tuple, list[dict]] = {}
    for c in comments:
        if c["path"]:
            line_comments.setdefault((c["path"], c["line"], c["side"]), []).append(c)
    level = access.level(registry.meta, actor, base)
    return page(request, "pull.html", title=f"#{number} {pull.title} · {owner}/{name}", owner=owner, name=name,
                pull=pull, head=head, files=pulls.files(registry, actor, owner, name, number),
                commits=pulls.commits(registry, actor, owner, name, number),
                conversation=[c for c in comments if not c["path"]], line_comments=line_comments,
                reviews=registry.meta.reviews(base.id, number),
                statuses=registry.meta.get_statuses(pull.head_template_id, pull.head_sha),
                mergeability=merging.mergeability(registry, actor, owner, name, number),
                can_merge=level >= Level.MAINTAIN, can_review=actor.user is not None and actor.scope != "read",
                view="split" if view == "split" else "unified", methods=merging.METHODS)


@router.get("/{owner}/{name}/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, owner: str, name: str, run_id: str, actor: Actor = Depends(_actor)):
    from registry.sandbox import runs

    run, template = runs.get(request.app.state.registry, actor, run_id)
    if (template.owner, template.name) != (owner, name):
        raise NotFound(f"run {run_id} not found in {owner}/{name}")
    return page(request, "run.html", title=f"Run {run.id} · {owner}/{name}", owner=owner, name=name, run=run)
