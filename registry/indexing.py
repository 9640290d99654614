"""What the search index holds for each template (its default branch head's manifest, README
and prompt, its social figures and who may read it), and keeping that up to date."""
from __future__ import annotations

from typing import Any

from .container import Container
from .manifests import default_head, manifest_at
from .meta import Template
from .search import SearchDoc


def build_doc(c: Container, template: Template) -> SearchDoc | None:
    """The search document of a template's default branch head (None while it has no commits).
    What that head extends is recorded on the way (the dependency graph's edges)."""
    _, head = default_head(c, template)
    if head is None:
        c.meta.templates.set_extends(template.id, None, "", "")
        return None
    with manifest_at(c, template, head) as checked:
        manifest: dict[str, Any] = checked.manifest or {}
        _record_extends(c, template, head, manifest.get("extends"))
        valid = checked.ok
        readme = ((checked.files and checked.files("README.md")) or b"").decode("utf-8", "replace")
    config = manifest.get("promptConfig") if isinstance(manifest.get("promptConfig"), dict) else {}
    assert isinstance(config, dict)
    prompt = " ".join(v for v in (config.get("systemPrompt"), config.get("userPromptTemplate")) if isinstance(v, str))
    stars, rating, _ = c.meta.activity.social(template.id)
    readers = ("*",) if template.visibility == "public" else \
        (template.owner, *c.meta.templates.collaborator_names(template.id))
    tags = manifest.get("tags") if isinstance(manifest.get("tags"), list) else []
    assert isinstance(tags, list)
    roles = c.meta.templates.collaborator_roles(template.id)
    return SearchDoc(
        id=template.id, owner=template.owner, name=template.name,
        title=_text(manifest.get("title")) or template.name,
        description=_text(manifest.get("description")) or template.description,
        readme=readme, prompt=prompt, industry=_text(manifest.get("industry")),
        use_case=_text(manifest.get("useCase")), tags=tuple(t for t in tags if isinstance(t, str)),
        stars=stars, rating=rating, updated_at=template.updated_at, readers=readers,
        status=status if (status := _text(manifest.get("status"))) in ("draft", "archived") else "published",
        valid=valid, writers=(template.owner, *sorted(name for name, role in roles.items()
                                                      if role in ("writer", "maintainer"))))


def _record_extends(c: Container, template: Template, head: str, ext: Any) -> None:
    if isinstance(ext, dict) and isinstance(ext.get("template"), str) and isinstance(ext.get("ref"), str):
        c.meta.templates.set_extends(template.id, ext["template"][:200], ext["ref"][:255], head)
    else:
        c.meta.templates.set_extends(template.id, None, "", head)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def refresh(c: Container, template: Template) -> bool:
    """Bring one template's search document up to date; False if it has nothing to index."""
    doc = build_doc(c, template)
    if doc is None:
        c.search.remove(template.id)
        return False
    c.search.upsert(doc)
    return True


def reindex_all(c: Container, templates: list[Template]) -> int:
    """Rebuild the whole index from storage in one commit (readers see old or new, never half)."""
    docs = [doc for doc in (build_doc(c, t) for t in templates) if doc is not None]
    c.search.upsert_many(docs, replace_all=True)
    return len(docs)
