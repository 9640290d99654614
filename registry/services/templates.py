"""Templates: create, fork, delete, list, collaborators, branch protection, import."""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import importer, indexing
from ..access import Actor, Level
from ..container import Container
from ..errors import InvalidInput, PermissionDenied, TemplateNotFound
from ..events import recording
from ..events.payloads import push_payload
from ..git.policy import RefUpdate
from ..git.refsdoc import ZERO_SHA
from ..git.write import commit_files
from ..guess import Guess
from ..meta import ROLES, Protection, Template, Visibility
from ..names import check_name
from . import guard

log = logging.getLogger(__name__)


def _owner_for(c: Container, actor: Actor, owner: str | None, doing: str) -> str:
    guard.writer(actor, doing)
    assert actor.user is not None
    owner = owner or actor.user.name
    if owner != actor.user.name and not actor.is_admin:
        raise PermissionDenied(f"{actor.name} may not create templates for {owner}")
    c.meta.users.get(owner)
    return owner


def create(c: Container, actor: Actor, name: str, owner: str | None = None, visibility: str = "public",
           description: str = "") -> Template:
    owner = _owner_for(c, actor, owner, "create templates")
    check_name(name, "template name")
    if visibility not in ("public", "private"):
        raise InvalidInput("visibility must be public or private")
    now = time.time()
    with recording(c) as r:
        template = c.meta.templates.add(Template(uuid.uuid4().hex, owner, name, visibility, description or "",
                                                None, now, now))
        r.add(actor.name, "template.created", template, {"visibility": visibility})
    try:
        c.repos.create(template.id)
    except BaseException:
        _undo_create(c, template)
        raise
    return template


def _undo_create(c: Container, template: Template) -> None:
    """No template row without its repo, and no refs document (a write whose outcome was
    unknown may have landed) without its row. A new repo has no packs of its own."""
    c.meta.templates.delete(template.id)
    c.repos.abandon(template.id)


def fork(c: Container, actor: Actor, owner: str, name: str, new_owner: str | None = None,
         new_name: str | None = None) -> Template:
    """A new template linked to its parent, sharing its packs (cost independent of size). A
    private parent gives a private fork, readable by its owner only."""
    parent = guard.template(c, actor, owner, name, Level.READ)
    new_owner = _owner_for(c, actor, new_owner, "fork templates")
    new_name = check_name(new_name or parent.name, "template name")
    now = time.time()
    with recording(c) as r:
        child = c.meta.templates.add(Template(uuid.uuid4().hex, new_owner, new_name, parent.visibility,
                                             parent.description, parent.id, now, now))
        r.add(actor.name, "template.created", child, {"visibility": child.visibility, "parent": parent.full_name})
        r.add(actor.name, "template.forked", parent, {"forkee": {"full_name": child.full_name, "owner": {
            "login": child.owner}, "name": child.name}})
    try:
        c.repos.fork(parent.id, child.id)
    except BaseException:
        _undo_create(c, child)
        raise
    with c.open_repo(child) as repo:
        tips = [RefUpdate(ref, ZERO_SHA, sha) for ref, sha in sorted(repo.doc.refs.items())]
    c.announce_push(child, tips)  # the fork's tips get their own checks and index entry
    return child


def update(c: Container, actor: Actor, owner: str, name: str, description: str | None = None,
           visibility: str | None = None, default_branch: str | None = None,
           update_pulls: bool | None = None) -> Template:
    """Change a template's description, visibility, default branch, or whether the registry opens
    update pull requests when its parent publishes a version (maintainers and above)."""
    template = guard.template(c, actor, owner, name, Level.MAINTAIN)
    if visibility is not None and visibility not in ("public", "private"):
        raise InvalidInput("visibility must be public or private")
    if description is not None and len(description) > 2000:
        raise InvalidInput("description is longer than 2000 characters")
    if default_branch is not None:
        with c.open_repo(template) as repo:
            repo.set_head(f"refs/heads/{default_branch}")
    with recording(c) as r:
        changed = c.meta.templates.update(template.id, description=description, visibility=visibility,
                                          update_pulls=update_pulls)
        asked = {"description": description, "visibility": visibility, "default_branch": default_branch,
                 "update_pulls": update_pulls}
        r.add(actor.name, "template.updated", changed, {"changes": {k: v for k, v in asked.items() if v is not None}})
    indexing.refresh(c, changed)  # readers, description or the default head may have changed
    return changed


def list_visible(c: Container, actor: Actor, owner: str | None, page: int,
                 per_page: int) -> tuple[list[Template], int]:
    """A page of the templates `actor` may read; the total counts only those."""
    return c.meta.templates.page(owner, (page - 1) * per_page, per_page,
                                 Visibility(actor.name, actor.is_admin))


def all_templates(c: Container, batch: int = 200) -> list[Template]:
    """Every template, read page by page (operators' and workers' full passes)."""
    out: list[Template] = []
    while True:
        items, total = c.meta.templates.page(None, len(out), batch)
        out += items
        if not items or len(out) >= total:
            return out


def _ancestors(c: Container, template: Template) -> list[str]:
    ids, parent_id = [], template.parent_id
    while parent_id and parent_id not in ids:
        ids.append(parent_id)
        try:
            parent_id = c.meta.templates.get_by_id(parent_id).parent_id
        except TemplateNotFound:
            break
    return ids


def delete(c: Container, actor: Actor, owner: str, name: str) -> None:
    template = guard.template(c, actor, owner, name, Level.OWN)
    # Forks read their parent's packs; ancestors read a fork's packs through its pull requests.
    shared = c.repos.packs_named([f.id for f in c.meta.templates.forks_of(template.id)] + _ancestors(c, template))
    with recording(c) as r:
        r.add(actor.name, "template.deleted", template, {})
        c.meta.templates.delete(template.id)
    c.repos.delete(template.id, keep=shared)
    c.search.remove(template.id)


def set_collaborator(c: Container, actor: Actor, owner: str, name: str, user_name: str, role: str) -> None:
    template = guard.template(c, actor, owner, name, Level.OWN)
    if role not in ROLES or role == "owner":
        raise InvalidInput("role must be reader, writer or maintainer")
    with recording(c) as r:
        c.meta.templates.set_collaborator(template.id, c.meta.users.get(user_name).id, role)
        r.add(actor.name, "collaborator.added", template, {"user": user_name, "role": role})
    _refresh_readers(c, template)


def remove_collaborator(c: Container, actor: Actor, owner: str, name: str, user_name: str) -> None:
    template = guard.template(c, actor, owner, name, Level.OWN)
    with recording(c) as r:
        c.meta.templates.remove_collaborator(template.id, c.meta.users.get(user_name).id)
        r.add(actor.name, "collaborator.removed", template, {"user": user_name})
    _refresh_readers(c, template)


def _refresh_readers(c: Container, template: Template) -> None:
    """Who may find a private template, or see a draft, changed with its collaborators."""
    indexing.refresh(c, template)


def set_protection(c: Container, actor: Actor, owner: str, name: str, protection: Protection) -> None:
    template = guard.template(c, actor, owner, name, Level.MAINTAIN)
    with recording(c) as r:
        c.meta.templates.set_protection(template.id, protection)
        r.add(actor.name, "protection.updated", template, {"branch": protection.branch, "rule": asdict(protection)})


def remove_protection(c: Container, actor: Actor, owner: str, name: str, branch: str) -> None:
    template = guard.template(c, actor, owner, name, Level.MAINTAIN)
    with recording(c) as r:
        c.meta.templates.delete_protection(template.id, branch)
        r.add(actor.name, "protection.removed", template, {"branch": branch})


def import_candidates(root: Path) -> list[Path]:
    """The sub-folders of `root` that `import_folder` can turn into templates."""
    return importer.candidates(root)


@dataclass(frozen=True)
class ImportPlan:
    """What importing a folder makes, here or in a remote registry."""

    name: str
    files: dict[str, bytes]
    guessed: Guess  # the metadata in its template.json (guessed but for the fields kept)


def import_plan(folder: Path, keep: frozenset[str] = frozenset()) -> ImportPlan:
    """InvalidInput when the generated manifest would not validate."""
    files, guessed = importer.template_files(folder, keep)
    return ImportPlan(importer.slug(folder), files, guessed)


def import_folder(c: Container, actor: Actor, folder: Path, owner: str | None = None,
                  keep: frozenset[str] = frozenset()) -> tuple[Template, str, Guess]:
    """A template from a folder of prompts (registry.importer); returns it, its commit and the
    metadata it was given."""
    plan = import_plan(folder, keep)
    name, files = plan.name, plan.files
    template = create(c, actor, name, owner, "public", plan.guessed.description)
    try:
        with c.open_repo(template) as repo:
            sha = commit_files(repo, files, f"Import {folder.name}\n", f"{actor.name} <{actor.name}@registry>")
    except BaseException:
        delete(c, actor, template.owner, template.name)  # no half-imported template
        raise
    update = RefUpdate("refs/heads/main", ZERO_SHA, sha)
    with recording(c) as r:
        c.meta.templates.touch(template.id)
        r.add(actor.name, "push", template, push_payload(update))
    c.announce_push(template, [update])
    return template, sha, plan.guessed
