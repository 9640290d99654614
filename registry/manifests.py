"""A template's checked manifest at a ref, read from its repository (extends resolved against
public parents or the template's own owner's)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .container import Container
from .errors import InvalidInput, NotFound, TemplateNotFound
from .git import browse
from .git.repo import TemplateRepo
from .manifest import Checked, FileSource, check
from .meta import Template


@contextmanager
def manifest_at(c: Container, template: Template, ref: str) -> Iterator[Checked]:
    """The checked manifest of `template` at `ref`. Each repo involved is opened once for all
    the files read, and closed when the block ends."""
    opened: dict[str, TemplateRepo] = {}

    def files_at(t: Template, at: str) -> FileSource:
        repo = opened.get(t.id) or opened.setdefault(t.id, c.open_repo(t))
        commit_id = browse.resolve_commit(repo, at).id.decode()

        def read(path: str) -> bytes | None:
            try:
                return browse.raw(repo, commit_id, path)
            except (NotFound, InvalidInput):  # absent, a directory, or a path like ../x
                return None

        return read

    def parents(full_name: str, at: str) -> FileSource:
        owner, _, name = full_name.partition("/")
        parent = c.meta.get_template(owner, name)
        if parent.visibility != "public" and parent.owner != template.owner:
            raise TemplateNotFound(f"template {full_name} not found")
        return files_at(parent, at)

    try:
        files = files_at(template, ref)
        result = check(files, parents)
        result.files = files
        yield result
    finally:
        for repo in opened.values():
            repo.close()


def default_head(c: Container, template: Template) -> tuple[str, str | None]:
    """(default branch ref, its tip or None while it has no commits)."""
    with c.open_repo(template) as repo:
        return repo.default_branch, repo.head_sha
