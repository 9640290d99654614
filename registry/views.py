"""The read side for routes and pages: each function checks access through the one guard
before it reads anything, and returns records or plain data (never an open repo)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import jsonsafe
from .access import Actor, Level, level
from .compare import Comparison
from .compare import compare as compare_refs
from .container import Container
from .errors import InvalidInput, NotFound, PathNotFound, RefNotFound
from .git import browse
from .git.repo import TemplateRepo
from .manifest import Checked
from .manifests import manifest_at
from .mcp import client_config
from .meta import Comment, Pull, Rating, Review, Run, Status, Template
from .services import guard
from .services.merging import head_statuses, mergeability
from .services.pulls import commits as pull_commits
from .services.pulls import files as pull_files
from .services.pulls import get_pull
from .versions import Version
from .versions import versions as version_list

README_NAMES = ("README.md", "readme.md", "README")


@dataclass(frozen=True)
class TemplateDetail:
    template: Template
    parent: Template | None
    default_branch: str  # without refs/heads/
    head: str | None
    versions: list[str]
    manifest: Any  # template.json at head as stored (None if absent or not JSON)
    statuses: list[Status]
    stars: int
    rating: float
    ratings: int
    level: Level


@dataclass(frozen=True)
class TemplatePage:
    detail: TemplateDetail
    readme: str | None
    history: list[dict[str, Any]]
    checked: Checked | None  # the resolved manifest and its problems
    runs: list[Run]
    starred: bool  # by the viewer
    reviews: list[Rating]


@dataclass(frozen=True)
class PullPage:
    base: Template
    pull: Pull
    head: Template
    files: list[dict[str, Any]]
    commits: list[dict[str, Any]]
    comments: list[Comment]
    reviews: list[Review]
    statuses: list[Status]
    mergeability: dict[str, Any]
    level: Level
    line_comments: dict[tuple[str, int, str | None], list[Comment]] = field(default_factory=dict)


def _repo(c: Container, actor: Actor, owner: str, name: str) -> TemplateRepo:
    return c.open_repo(guard.template(c, actor, owner, name))


def parent_of(c: Container, template: Template) -> Template | None:
    """A fork's parent, while it exists (a fork outlives it)."""
    if not template.parent_id:
        return None
    try:
        return c.meta.templates.get_by_id(template.parent_id)
    except NotFound:
        return None


def template_detail(c: Container, actor: Actor, owner: str, name: str) -> TemplateDetail:
    template = guard.template(c, actor, owner, name)
    with c.open_repo(template) as repo:
        head = repo.head_sha
        versions = [t["name"] for t in browse.tags(repo)]
        manifest = None
        if head:
            try:
                manifest = jsonsafe.loads(browse.raw(repo, head, "template.json"))
            except (PathNotFound, ValueError):
                manifest = None
        branch = repo.default_branch.removeprefix("refs/heads/")
    stars, rating, ratings = c.meta.activity.social(template.id)
    return TemplateDetail(template, parent_of(c, template), branch, head, versions, manifest,
                          c.meta.checks.get_statuses(template.id, head) if head else [], stars, rating, ratings,
                          level(c.meta, actor, template))


def template_page(c: Container, actor: Actor, owner: str, name: str) -> TemplatePage:
    detail = template_detail(c, actor, owner, name)
    template, head = detail.template, detail.head
    readme, history, checked = None, [], None
    if head:
        with c.open_repo(template) as repo:
            for candidate in README_NAMES:
                try:
                    readme = browse.raw(repo, head, candidate).decode("utf-8", "replace")
                    break
                except NotFound:
                    continue
            history = list(browse.commits(repo, head, 0, 10))
        with manifest_at(c, template, head) as checked:
            pass
    runs, _ = c.meta.checks.list_runs(template.id, 0, 5)
    starred = actor.user is not None and c.meta.activity.has_star(template.id, actor.user.id)
    return TemplatePage(detail, readme, history, checked, runs, starred, c.meta.activity.recent_ratings(template.id, 5))


def resolved_manifest(c: Container, actor: Actor, owner: str, name: str, ref: str | None) -> Checked:
    """The manifest at `ref` (default branch) with extends merged and prompt files read."""
    template = guard.template(c, actor, owner, name)
    if ref is None:
        with c.open_repo(template) as repo:
            ref = repo.default_branch
    with manifest_at(c, template, ref) as checked:
        return checked


def mcp_config(c: Container, actor: Actor, owner: str, name: str, ref: str | None) -> dict[str, Any]:
    """The template's MCP servers as a client `mcpServers` block (secrets stay references)."""
    result = resolved_manifest(c, actor, owner, name, ref)
    if result.manifest is None or not result.ok:
        first = result.problems[0]
        raise InvalidInput(f"the manifest is invalid at {first.path}: {first.message}")
    return client_config(result.manifest)


def statuses(c: Container, actor: Actor, owner: str, name: str, ref: str) -> list[Status]:
    """The checks of a commit (a full sha, or a ref resolved to its commit)."""
    template = guard.template(c, actor, owner, name)
    sha = ref.lower()
    if not (len(sha) == 40 and all(ch in "0123456789abcdef" for ch in sha)):
        with c.open_repo(template) as repo:
            sha = browse.resolve_commit(repo, ref).id.decode()
    return c.meta.checks.get_statuses(template.id, sha)


def versions(c: Container, actor: Actor, owner: str, name: str) -> list[Version]:
    """Semver tags newest first, each with the manifest changes since the one before."""
    with _repo(c, actor, owner, name) as repo:
        return version_list(repo)


def version(c: Container, actor: Actor, owner: str, name: str, tag: str) -> tuple[Version, Checked]:
    """One version and its resolved manifest (extends merged, prompt files read)."""
    template = guard.template(c, actor, owner, name)
    with c.open_repo(template) as repo:
        found = next((v for v in version_list(repo) if v.version == tag), None)
    if found is None:
        raise RefNotFound(f"no version {tag!r} of {owner}/{name}")
    with manifest_at(c, template, found.sha) as checked:
        return found, checked


def compare(c: Container, actor: Actor, owner: str, name: str, spec: str) -> Comparison:
    """`base...head`: refs, versions or shas of this template; `head` may be `owner:ref` of a
    fork of it (or of its parent)."""
    base_ref, sep, head_ref = spec.partition("...")
    if not sep or not base_ref or not head_ref:
        raise InvalidInput("compare needs BASE...HEAD")
    template = guard.template(c, actor, owner, name)
    head_template = template
    head_owner, colon, ref = head_ref.rpartition(":")
    if colon:
        head_ref = ref
        if head_owner != template.owner:
            related = c.meta.templates.forks_of(template.id) + ([p] if (p := parent_of(c, template)) else [])
            found = next((t for t in related if t.owner == head_owner), None)
            if found is None:
                raise NotFound(f"{head_owner} has no fork of {template.full_name}")
            head_template = guard.template(c, actor, found.owner, found.name)
    with c.open_repo(template) as base_repo:
        if head_template.id == template.id:
            return compare_refs(base_repo, base_ref, base_repo, head_ref)
        with c.open_repo(head_template) as head_repo:
            return compare_refs(base_repo, base_ref, head_repo, head_ref)


def fork_status(c: Container, actor: Actor, template: Template) -> tuple[Template, Comparison] | None:
    """How a fork's default branch stands against its parent's: None for a template that is no
    fork, or whose parent is gone or not readable."""
    parent = parent_of(c, template)
    if parent is None or level(c.meta, actor, parent) < Level.READ:
        return None
    with c.open_repo(parent) as parent_repo, c.open_repo(template) as repo:
        if parent_repo.head_sha is None or repo.head_sha is None:
            return None
        return parent, compare_refs(parent_repo, parent_repo.default_branch, repo, repo.default_branch)


def branches(c: Container, actor: Actor, owner: str, name: str) -> list[dict[str, Any]]:
    with _repo(c, actor, owner, name) as repo:
        return browse.branches(repo)


def tags(c: Container, actor: Actor, owner: str, name: str) -> list[dict[str, Any]]:
    with _repo(c, actor, owner, name) as repo:
        return browse.tags(repo)


def commits(c: Container, actor: Actor, owner: str, name: str, ref: str | None, offset: int,
            limit: int) -> list[dict[str, Any]]:
    with _repo(c, actor, owner, name) as repo:
        return list(browse.commits(repo, ref or repo.default_branch, offset, limit))


def tree(c: Container, actor: Actor, owner: str, name: str, rest: str) -> dict[str, Any]:
    """A directory listing; `rest` is `REF/PATH` (the longest ref that matches wins)."""
    with _repo(c, actor, owner, name) as repo:
        ref, path = browse.split_ref_path(repo, rest)
        return browse.tree(repo, ref, path)


def raw(c: Container, actor: Actor, owner: str, name: str, rest: str) -> bytes:
    with _repo(c, actor, owner, name) as repo:
        ref, path = browse.split_ref_path(repo, rest)
        return browse.raw(repo, ref, path)


def level_on(c: Container, actor: Actor, owner: str, name: str) -> Level:
    return level(c.meta, actor, guard.template(c, actor, owner, name))


def pull_head(c: Container, pull: Pull) -> Template:
    """The template a pull request's head lives in (the base itself, or a fork of it)."""
    return c.meta.templates.get_by_id(pull.head_template_id)


def pull_comments(c: Container, actor: Actor, owner: str, name: str, number: int) -> list[Comment]:
    base, _ = get_pull(c, actor, owner, name, number)
    return c.meta.pulls.comments(base.id, number)


def pull_reviews(c: Container, actor: Actor, owner: str, name: str, number: int) -> list[Review]:
    base, _ = get_pull(c, actor, owner, name, number)
    return c.meta.pulls.reviews(base.id, number)


def pulls_talk(c: Container, actor: Actor, owner: str, name: str,
               numbers: list[int]) -> tuple[dict[int, list[Review]], dict[int, list[Comment]]]:
    """The reviews and comments of several pull requests of one template, in two statements."""
    base = guard.template(c, actor, owner, name)
    return c.meta.pulls.reviews_of(base.id, numbers), c.meta.pulls.comments_of(base.id, numbers)


def forks(c: Container, actor: Actor, owner: str, name: str) -> list[Template]:
    """The forks of a template that `actor` may read (a private fork is its owner's)."""
    template = guard.template(c, actor, owner, name)
    return [f for f in c.meta.templates.forks_of(template.id) if level(c.meta, actor, f) >= Level.READ]


def pull_page(c: Container, actor: Actor, owner: str, name: str, number: int) -> PullPage:
    base, pull = get_pull(c, actor, owner, name, number)
    comments = c.meta.pulls.comments(base.id, number)
    line_comments: dict[tuple[str, int, str | None], list[Comment]] = {}
    for cm in comments:
        if cm["path"] and cm["line"] is not None:
            line_comments.setdefault((cm["path"], cm["line"], cm["side"]), []).append(cm)
    return PullPage(base, pull, pull_head(c, pull), pull_files(c, actor, owner, name, number),
                    pull_commits(c, actor, owner, name, number), comments, c.meta.pulls.reviews(base.id, number),
                    head_statuses(c, base, pull),
                    mergeability(c, actor, owner, name, number), level(c.meta, actor, base), line_comments)


def runs(c: Container, actor: Actor, owner: str, name: str, offset: int, limit: int) -> tuple[list[Run], int]:
    template = guard.template(c, actor, owner, name)
    return c.meta.checks.list_runs(template.id, offset, limit)


def run(c: Container, actor: Actor, run_id: str) -> tuple[Run, Template]:
    """A run and its template, for readers of the template only (404 to others)."""
    found = c.meta.checks.get_run(run_id)
    return found, guard.template_by_id(c, actor, found.template_id)


def contents(c: Container, actor: Actor, owner: str, name: str, path: str, ref: str | None) -> dict[str, Any]:
    """A file (with its bytes as `content`) or a directory listing at `ref` (default: the default
    branch), as GitHub's contents API answers."""
    with _repo(c, actor, owner, name) as repo:
        at = browse.resolve_commit(repo, ref or repo.default_branch).id.decode()
        found = browse.tree(repo, at, path.strip("/"))
        if found["type"] == "file":
            found["content"] = browse.raw(repo, at, found["path"])
        return found
