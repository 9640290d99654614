"""The use cases the adapters call. Each takes an Actor and plain values, returns plain data."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from . import access, secrets_scan
from .access import Actor, Level
from .errors import InvalidInput, PermissionDenied, TemplateNotFound
from .git import RepoStore, TemplateRepo, browse
from .git.policy import BranchRule, RefUpdate
from .git.service import PushContext
from .meta import ROLES, MetaStore, Protection, Status, Template, User
from .names import check_name
from .settings import Settings
from .storage import BlobStore, open_blob_store

PushListener = Callable[[Template, list[RefUpdate]], None]


@dataclass
class Registry:
    settings: Settings
    meta: MetaStore
    blobs: BlobStore
    repos: RepoStore
    push_listeners: list[PushListener]
    run_listeners: list[Callable[[Any], None]] = field(default_factory=list)  # manual sandbox runs to queue

    @property
    def search_index(self):
        """The gallery's search index, opened on first use (it lives under data_dir)."""
        if getattr(self, "_search_index", None) is None:
            from .search import WhooshIndex

            self._search_index = WhooshIndex(self.settings.data_dir / "search")
        return self._search_index

    @classmethod
    def from_settings(cls, settings: Settings) -> "Registry":
        from .meta import SqliteMetaStore

        blobs = open_blob_store(settings)
        return cls(settings, SqliteMetaStore(settings.metadata_db), blobs,
                   RepoStore(blobs, settings.pack_cache), [])

    # -- users and tokens -----------------------------------------------------------
    def add_user(self, name: str, email: str | None = None, is_admin: bool = False) -> User:
        return self.meta.add_user(check_name(name, "user name"), email, is_admin)

    def create_token(self, user_name: str, scope: str = "write", expires_days: float | None = None) -> str:
        return access.issue_token(self.meta, self.meta.get_user(user_name), scope, expires_days)

    def authenticate(self, token: str) -> Actor:
        return access.authenticate(self.meta, token)

    # -- templates -----------------------------------------------------------------
    def create_template(self, actor: Actor, name: str, owner: str | None = None,
                        visibility: str = "public", description: str = "") -> Template:
        if actor.user is None:
            raise access.Unauthenticated("sign in to create templates")
        owner = owner or actor.user.name
        check_name(name, "template name")
        if visibility not in ("public", "private"):
            raise InvalidInput("visibility must be public or private")
        if actor.scope == "read":
            raise PermissionDenied("a read-scoped token cannot create templates")
        if owner != actor.user.name and not actor.is_admin:
            raise PermissionDenied(f"{actor.name} may not create templates for {owner}")
        self.meta.get_user(owner)
        now = time.time()
        template = self.meta.add_template(Template(uuid.uuid4().hex, owner, name, visibility,
                                                   description or "", None, now, now))
        try:
            self.repos.create(template.id)
        except BaseException:
            self._undo_create(template)
            raise
        return template

    def _undo_create(self, template: Template) -> None:
        """No template row without its repo, and no refs document (a write whose outcome was
        unknown may have landed) without its row. Packs: a new repo has none of its own."""
        self.meta.delete_template(template.id)
        self.repos.abandon(template.id)

    def _ancestors(self, template: Template) -> list[str]:
        ids, parent_id = [], template.parent_id
        while parent_id and parent_id not in ids:
            ids.append(parent_id)
            try:
                parent_id = self.meta.get_template_by_id(parent_id).parent_id
            except TemplateNotFound:
                break
        return ids

    def fork_template(self, actor: Actor, owner: str, name: str, new_owner: str | None = None,
                      new_name: str | None = None) -> Template:
        """Fork: a new template linked to its parent, sharing its packs (cost independent of size)."""
        parent = self.get_template(actor, owner, name, Level.READ)
        if actor.user is None:
            raise access.Unauthenticated("sign in to fork templates")
        if actor.scope == "read":
            raise PermissionDenied("a read-scoped token cannot fork templates")
        new_owner = new_owner or actor.user.name
        new_name = check_name(new_name or parent.name, "template name")
        if new_owner != actor.user.name and not actor.is_admin:
            raise PermissionDenied(f"{actor.name} may not create templates for {new_owner}")
        self.meta.get_user(new_owner)
        now = time.time()
        fork = self.meta.add_template(Template(uuid.uuid4().hex, new_owner, new_name, parent.visibility,
                                               parent.description, parent.id, now, now))
        try:
            self.repos.fork(parent.id, fork.id)
        except BaseException:
            self._undo_create(fork)
            raise
        repo = self.open_repo(fork)
        tips = [RefUpdate(ref, "0" * 40, sha) for ref, sha in sorted(repo.doc.refs.items())]
        repo.close()
        for listener in self.push_listeners:  # the fork's tips get their own checks and index entry
            listener(fork, tips)
        return fork  # a private parent gives a private fork, readable by its owner only

    def get_template(self, actor: Actor, owner: str, name: str, needed: Level = Level.READ) -> Template:
        template = self.meta.get_template(owner, name)
        access.require(self.meta, actor, template, needed)
        return template

    def list_templates(self, actor: Actor, owner: str | None, page: int, per_page: int) -> tuple[list[Template], int]:
        # Visibility filtering happens after the page is read; good enough until search lands.
        items, total = self.meta.list_templates(owner, (page - 1) * per_page, per_page)
        return [t for t in items if access.level(self.meta, actor, t) >= Level.READ], total

    def delete_template(self, actor: Actor, owner: str, name: str) -> None:
        template = self.get_template(actor, owner, name, Level.OWN)
        # Forks read their parent's packs; ancestors read a fork's packs through its pull requests.
        shared = self.repos.packs_named([f.id for f in self.meta.forks_of(template.id)] + self._ancestors(template))
        self.meta.delete_template(template.id)
        self.repos.delete(template.id, keep=shared)
        self.search_index.remove(template.id)

    def open_repo(self, template: Template) -> TemplateRepo:
        return self.repos.open(template.id)

    def describe(self, actor: Actor, owner: str, name: str) -> dict[str, Any]:
        template = self.get_template(actor, owner, name)
        repo = self.open_repo(template)
        try:
            tags = browse.tags(repo)
            head = repo.doc.refs.get(repo.default_branch)
        finally:
            repo.close()
        return {"template": template, "default_branch": repo.default_branch.removeprefix("refs/heads/"),
                "head": head, "versions": [t["name"] for t in tags]}

    def statuses(self, actor: Actor, owner: str, name: str, ref: str) -> list[Status]:
        """The checks of a commit (a full sha, or a ref resolved to its commit)."""
        template = self.get_template(actor, owner, name)
        sha = ref.lower()
        if not (len(sha) == 40 and all(c in "0123456789abcdef" for c in sha)):
            repo = self.open_repo(template)
            try:
                sha = browse.resolve_commit(repo, ref).id.decode()
            finally:
                repo.close()
        return self.meta.get_statuses(template.id, sha)

    def import_folder(self, actor: Actor, folder, owner: str | None = None) -> tuple[Template, str]:
        """Create a template from a folder of prompts (registry.importer); returns it and its commit."""
        from . import importer
        from .git.write import commit_files

        files = importer.template_files(folder)
        template = self.create_template(actor, importer.slug(folder), owner, "public",
                                        f"Imported from {folder.name}")
        repo = self.open_repo(template)
        try:
            sha = commit_files(repo, files, f"Import {folder.name}\n", f"{actor.name} <{actor.name}@registry>")
        except BaseException:
            repo.close()
            self.delete_template(actor, template.owner, template.name)  # no half-imported template
            raise
        repo.close()
        self.meta.touch_template(template.id)
        updates = [RefUpdate("refs/heads/main", "0" * 40, sha)]
        for listener in self.push_listeners:
            listener(template, updates)
        return template, sha

    def resolved_manifest(self, actor: Actor, owner: str, name: str, ref: str | None):
        """The manifest at `ref` with extends merged and prompt files read (see registry.manifest)."""
        from .checks import manifest_at

        template = self.get_template(actor, owner, name)
        if ref is None:
            repo = self.open_repo(template)
            ref = repo.default_branch
            repo.close()
        with manifest_at(self, template, ref) as checked:
            return checked

    # -- collaborators and protection ---------------------------------------------------
    def set_collaborator(self, actor: Actor, owner: str, name: str, user_name: str, role: str) -> None:
        template = self.get_template(actor, owner, name, Level.OWN)
        if role not in ROLES or role == "owner":
            raise InvalidInput("role must be reader, writer or maintainer")
        self.meta.set_collaborator(template.id, self.meta.get_user(user_name).id, role)
        self._refresh_readers(template)

    def remove_collaborator(self, actor: Actor, owner: str, name: str, user_name: str) -> None:
        template = self.get_template(actor, owner, name, Level.OWN)
        self.meta.remove_collaborator(template.id, self.meta.get_user(user_name).id)
        self._refresh_readers(template)

    def _refresh_readers(self, template: Template) -> None:
        """Who may find a private template in search changed with its collaborators."""
        if template.visibility != "public":
            from . import gallery

            gallery.refresh(self, template)

    def set_protection(self, actor: Actor, owner: str, name: str, protection: Protection) -> None:
        template = self.get_template(actor, owner, name, Level.MAINTAIN)
        self.meta.set_protection(template.id, protection)

    def remove_protection(self, actor: Actor, owner: str, name: str, branch: str) -> None:
        template = self.get_template(actor, owner, name, Level.MAINTAIN)
        self.meta.delete_protection(template.id, branch)

    # -- git ------------------------------------------------------------------------
    def push_context(self, template: Template) -> PushContext:
        def rule_for(ref: str) -> BranchRule | None:
            if not ref.startswith("refs/heads/"):
                return None
            p = self.meta.get_protection(template.id, ref.removeprefix("refs/heads/"))
            return BranchRule(p.allow_force_push, p.allow_deletion) if p else None

        def on_pushed(updates: list[RefUpdate]) -> None:
            from . import pulls

            self.meta.touch_template(template.id)
            pulls.refresh_from_push(self, template, updates)
            for listener in self.push_listeners:
                listener(template, updates)

        limit = self.settings.max_file_bytes

        def inspect_blob(data: bytes) -> str | None:
            if len(data) > limit:
                return f"file of {len(data)} bytes exceeds the limit of {limit} bytes"
            kind = secrets_scan.find_secret(data)
            return f"secret detected ({kind})" if kind else None

        return PushContext(max_push_bytes=self.settings.max_push_bytes, rule_for=rule_for, on_pushed=on_pushed,
                           inspect_blob=inspect_blob, inspect_manifest=secrets_scan.manifest_literal_secret)


def page_args(page: int, per_page: int) -> tuple[int, int]:
    if page < 1 or page > 100_000:
        raise InvalidInput("page must be between 1 and 100000")
    if per_page < 1 or per_page > 100:
        raise InvalidInput("per_page must be between 1 and 100")
    return page, per_page

