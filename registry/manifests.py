"""A template's checked manifest at a ref, read from its repository (extends resolved against
public parents or the template's own owner's)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from . import versions
from .container import Container
from .errors import InvalidInput, NotFound, TemplateNotFound
from .git import browse
from .git.repo import TemplateRepo
from .manifest import Checked, FileSource, ParentLoader, check
from .meta import Template


class _Repos:
    """The repos one check reads, each opened once and closed together."""

    def __init__(self, c: Container) -> None:
        self.c, self.opened = c, dict[str, TemplateRepo]()
        self.resolved: dict[str, str] = {}  # "owner/name@range" -> the version it resolved to

    def files_at(self, t: Template, at: str) -> FileSource:
        repo = self.opened.get(t.id) or self.opened.setdefault(t.id, self.c.open_repo(t))
        if versions.is_range(at):  # extends.ref "^1.2": the highest version that matches
            tag = versions.resolve(at, repo)
            self.resolved[f"{t.full_name}@{at}"] = tag
            at = f"refs/tags/{tag}"
        commit_id = browse.resolve_commit(repo, at).id.decode()

        def read(path: str) -> bytes | None:
            try:
                return browse.raw(repo, commit_id, path)
            except (NotFound, InvalidInput):  # absent, a directory, or a path like ../x
                return None

        return read

    def parents(self, owner: str | None) -> ParentLoader:
        """`extends` targets: public templates, and private ones of `owner`."""
        def load(full_name: str, at: str) -> FileSource:
            parent_owner, _, name = full_name.partition("/")
            parent = self.c.meta.templates.get(parent_owner, name)
            if parent.visibility != "public" and parent.owner != owner:
                raise TemplateNotFound(f"template {full_name} not found")
            return self.files_at(parent, at)
        return load

    def close(self) -> None:
        for repo in self.opened.values():
            repo.close()


@contextmanager
def manifest_at(c: Container, template: Template, ref: str) -> Iterator[Checked]:
    """The checked manifest of `template` at `ref`. Each repo involved is opened once for all
    the files read, and closed when the block ends."""
    repos = _Repos(c)
    try:
        files = repos.files_at(template, ref)
        result = check(files, repos.parents(template.owner))
        result.files = files
        result.resolved = dict(repos.resolved)
        yield result
    finally:
        repos.close()


def check_files(c: Container, files: dict[str, bytes], owner: str | None) -> Checked:
    """The push-time check of `template.json` on files not yet pushed (pre-push validation):
    the same `check`, with `extends` resolved the same way, for templates of `owner`."""
    return check_source(c, files.get, owner)


def check_source(c: Container, files: FileSource, owner: str | None) -> Checked:
    """As `check_files`, on files read through `files` (a commit with changes applied)."""
    repos = _Repos(c)
    try:
        return check(files, repos.parents(owner))
    finally:
        repos.close()


def default_head(c: Container, template: Template) -> tuple[str, str | None]:
    """(default branch ref, its tip or None while it has no commits)."""
    with c.open_repo(template) as repo:
        return repo.default_branch, repo.head_sha
