"""The gallery: what the search index holds for each template, searching it, stars and ratings."""
from __future__ import annotations

from typing import Any

from . import access
from .access import Actor, Level
from .errors import InvalidInput, PermissionDenied
from .meta import Template
from .search import SearchDoc, SearchQuery, SearchResults


def build_doc(registry, template: Template) -> SearchDoc | None:
    """The search document of a template's default branch head (None while it has no commits)."""
    from .checks import manifest_at

    repo = registry.open_repo(template)
    try:
        head = repo.doc.refs.get(repo.default_branch)
    finally:
        repo.close()
    if head is None:
        return None
    with manifest_at(registry, template, head) as checked:
        manifest: dict[str, Any] = checked.manifest or {}
        readme = (checked.files("README.md") or b"").decode("utf-8", "replace")
    config = manifest.get("promptConfig") if isinstance(manifest.get("promptConfig"), dict) else {}
    prompt = " ".join(v for v in (config.get("systemPrompt"), config.get("userPromptTemplate")) if isinstance(v, str))
    stars, rating, _ = registry.meta.social(template.id)
    readers = ("*",) if template.visibility == "public" else \
        (template.owner, *registry.meta.collaborator_names(template.id))
    tags = manifest.get("tags") if isinstance(manifest.get("tags"), list) else []
    return SearchDoc(
        id=template.id, owner=template.owner, name=template.name,
        title=_text(manifest.get("title")) or template.name,
        description=_text(manifest.get("description")) or template.description,
        readme=readme, prompt=prompt, industry=_text(manifest.get("industry")),
        use_case=_text(manifest.get("useCase")), tags=tuple(t for t in tags if isinstance(t, str)),
        stars=stars, rating=rating, updated_at=template.updated_at, readers=readers)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def refresh(registry, template: Template) -> bool:
    """Bring one template's search document up to date; False if it has nothing to index."""
    doc = build_doc(registry, template)
    if doc is None:
        registry.search_index.remove(template.id)
        return False
    registry.search_index.upsert(doc)
    return True


def reindex_all(registry) -> int:
    """Rebuild the whole index from storage in one commit (readers see old or new, never half)."""
    docs = []
    offset = 0
    while True:
        items, total = registry.meta.list_templates(None, offset, 200)
        for template in items:
            doc = build_doc(registry, template)
            if doc is not None:
                docs.append(doc)
        offset += 200
        if offset >= total:
            break
    registry.search_index.upsert_many(docs, replace_all=True)
    return len(docs)


def search(registry, actor: Actor, **params: Any) -> SearchResults:
    tags = tuple(t for t in (params.pop("tags", None) or "").split(",") if t.strip())
    return registry.search_index.search(SearchQuery(tags=tuple(t.strip() for t in tags), reader=actor.name,
                                                    see_all=actor.is_admin, **params))


def star(registry, actor: Actor, owner: str, name: str, starred: bool) -> int:
    if actor.user is None:
        raise access.Unauthenticated("sign in to star templates")
    if actor.scope == "read":
        raise PermissionDenied("a read-scoped token cannot star templates")
    template = registry.get_template(actor, owner, name, Level.READ)
    registry.meta.set_star(template.id, actor.user.id, starred)
    refresh(registry, template)
    return registry.meta.social(template.id)[0]


def rate(registry, actor: Actor, owner: str, name: str, score: int, review: str | None) -> tuple[float, int]:
    if actor.user is None:
        raise access.Unauthenticated("sign in to rate templates")
    if actor.scope == "read":
        raise PermissionDenied("a read-scoped token cannot rate templates")
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidInput("score must be an integer from 1 to 5")
    template = registry.get_template(actor, owner, name, Level.READ)
    registry.meta.rate(template.id, actor.user.id, score, review)
    refresh(registry, template)
    _, mean, count = registry.meta.social(template.id)
    return mean, count
