"""What an editor asks around a commit: may this user commit to the branch, or only propose
(`commit_options`); what would the push checks say of the branch with these unsaved changes
(`check_changes`, the live problems); and, when the branch moved while the user edited, their
change merged onto the new tip (`rebase_changes`, for the "file changed while editing" page).

Nothing here stores anything."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dulwich.diff_tree import tree_changes
from dulwich.object_store import MemoryObjectStore, OverlayObjectStore
from dulwich.objects import Blob, Commit, ObjectID, ShaFile

from .. import jsonsafe
from ..access import Actor, Level, level
from ..container import Container
from ..errors import InvalidInput, NotFound, PathNotFound, RefNotFound, TooLarge
from ..git import browse
from ..git.paths import normalise
from ..git.policy import direct_push_problem
from ..git.repo import TemplateRepo
from ..git.write import edit_tree, make_commit
from ..jsonlocate import json_error_line, line_of
from ..manifest import MANIFEST, FileSource, Problem
from ..manifests import check_source
from ..treemerge import merge_commits
from . import guard, push
from .commits import MAX_CHANGES, Change, prepared

PROMPT_KEYS = ("systemPrompt", "userPromptTemplate")
MAX_LOCATED = 100  # problems given a line (each is one pass over template.json)


@dataclass(frozen=True)
class CommitOptions:
    direct: bool  # may commit straight to the branch
    reason: str | None  # why not, when not
    via_fork: bool  # a proposal comes from the user's fork (they may not write here)


@dataclass(frozen=True)
class FileProblem:
    """A problem a push would meet, where an editor shows it: the file, its line when known,
    and for a problem of the manifest its JSON path."""

    path: str
    line: int | None
    message: str
    json_path: str | None = None


@dataclass(frozen=True)
class Rebased:
    tip: str  # the branch's tip now
    conflicts: list[str]  # paths both sides changed apart (template.json:$.path for manifest keys)
    files: dict[str, bytes | None]  # without conflicts: what to commit on `tip` (None deletes)


def commit_options(c: Container, actor: Actor, owner: str, name: str, branch: str) -> CommitOptions:
    """Whether `actor` may commit to `branch` directly (write access, and a branch whose
    protection takes direct pushes), or must propose: a new branch and a pull request, from
    their fork when they may not write."""
    guard.writer(actor, "commit changes")
    template = guard.template(c, actor, owner, name, Level.READ)
    if level(c.meta, actor, template) < Level.WRITE:
        return CommitOptions(False, f"{actor.name} may not write to {template.full_name}", True)
    problem = direct_push_problem(push.context(c, actor, template).rule_for(f"refs/heads/{branch}"))
    return CommitOptions(problem is None, problem, False)


def check_changes(c: Container, actor: Actor, owner: str, name: str, ref: str | None,
                  changes: Sequence[Change]) -> list[FileProblem]:
    """`checked_changes`' problems (the API's live check)."""
    return checked_changes(c, actor, owner, name, ref, changes)[0]


def checked_changes(c: Container, actor: Actor, owner: str, name: str, ref: str | None,
                    changes: Sequence[Change]) -> tuple[list[FileProblem], dict[str, Any] | None]:
    """The problems a push of `ref`'s tree with `changes` applied would meet (`ref` None: an
    empty template): each path by git's fsck rules, each new file by the push's inspector (size,
    secrets), template.json for literal credentials, then the `validate` check, with `extends`
    resolved as at push time; and the resolved manifest it would have (None where it does not
read). Reading the template suffices."""
    template = guard.template(c, actor, owner, name, Level.READ)
    if len(changes) > MAX_CHANGES:
        raise InvalidInput(f"at most {MAX_CHANGES} files change in one commit")
    if sum(len(ch.content or b"") for ch in changes) > c.settings.max_body_bytes:
        raise TooLarge(f"the changes hold more than {c.settings.max_body_bytes} bytes", limit=c.settings.max_body_bytes)
    problems: list[FileProblem] = []
    edits: dict[str, bytes | None] = {}
    for change in changes:
        try:
            path = normalise(change.path)
        except InvalidInput as exc:
            problems.append(FileProblem(str(exc.details.get("path", "")), None, exc.message))
            continue
        if path in edits:
            problems.append(FileProblem(path, None, "the file is changed twice"))
        edits[path] = change.content
    ctx = push.context(c, actor, template)
    with c.open_repo(template) as repo:
        commit = browse.resolve_commit(repo, ref) if ref else None
        try:
            edit_tree(repo.object_store, commit.tree if commit else None, edits, [])
        except (InvalidInput, PathNotFound) as exc:
            problems.append(FileProblem(str(exc.details.get("path", "")), None, exc.message))
        for path, data in edits.items():
            why = ctx.inspect_blob(data) if data is not None and ctx.inspect_blob else None
            if why:
                problems.append(FileProblem(path, None, why))
        manifest = edits.get(MANIFEST)
        where = ctx.inspect_manifest(manifest) if manifest is not None else None
        if manifest is not None and where:
            problems.append(FileProblem(MANIFEST, line_of(manifest, where), f"literal credential in {MANIFEST} at "
                                        f"{where}: use a ${{secrets.NAME}} reference", where))
        files = _overlay(repo, commit, edits)
        checked = check_source(c, files, template.owner)
        problems += located(checked.problems, files)
    return problems, checked.manifest  # the manifest as it would be (resolved): the editor's preview renders it


def located(problems: list[Problem], files: FileSource) -> list[FileProblem]:
    """The manifest check's problems (named by JSON path) at their file and line: a prompt's in
    the prompt file it lives in, at the Jinja2 line; the rest in template.json, at the line of
    the JSON path (or of the JSON syntax error)."""
    raw = files(MANIFEST)
    prompt_files = _prompt_files(raw)
    out = []
    for i, problem in enumerate(problems):
        key = problem.path.removeprefix("$.promptConfig.")
        if key in prompt_files:
            out.append(FileProblem(prompt_files[key], problem.line, problem.message, problem.path))
            continue
        line = None
        if raw is not None and i < MAX_LOCATED:
            line = json_error_line(problem.message) if problem.path == "$" else line_of(raw, problem.path)
        out.append(FileProblem(MANIFEST, line, problem.message, problem.path))
    return out


def rebase_changes(c: Container, actor: Actor, owner: str, name: str, branch: str, parent: str,
                   changes: Sequence[Change]) -> Rebased:
    """`changes`, made on `parent`, merged three ways onto the tip `branch` has now (as a merge
    of the two would, template.json by JSON path): the files to commit on the tip, or the
    paths in conflict. For a commit refused with StaleParent; nothing is stored."""
    template = guard.template(c, actor, owner, name, Level.READ)
    edits = prepared(c, changes)
    with c.open_repo(template) as repo:
        tip = repo.doc.refs.get(f"refs/heads/{branch}")
        if tip is None:
            raise RefNotFound(f"no branch {branch!r}", branch=branch)
        if tip == parent:
            return Rebased(tip, [], edits)
        store = repo.object_store
        base, ours = _commit(repo, parent), _commit(repo, tip)
        objects: list[ShaFile] = []
        tree = edit_tree(store, base.tree, edits, objects)
        scratch = MemoryObjectStore()
        for obj in objects:
            scratch.add_object(obj)
        theirs = make_commit(tree.id, [parent], "editor <editor@registry>", "unsaved changes\n")  # never stored
        overlay = OverlayObjectStore([scratch, store])
        merged, new, conflicts = merge_commits(overlay, base, ours, theirs)
        if conflicts:
            return Rebased(tip, conflicts, {})
        for obj in new:
            scratch.add_object(obj)
        files: dict[str, bytes | None] = {}
        for change in tree_changes(overlay, ours.tree, ObjectID(merged)):
            if change.new is None or change.new.path is None or change.new.sha is None:
                assert change.old is not None and change.old.path is not None
                files[change.old.path.decode("utf-8", "replace")] = None
                continue
            blob = overlay[change.new.sha]
            assert isinstance(blob, Blob)  # edits and merges make files only
            files[change.new.path.decode("utf-8", "replace")] = blob.data
        return Rebased(tip, [], files)


def _commit(repo: TemplateRepo, sha: str) -> Commit:
    try:
        return browse.resolve_commit(repo, sha)
    except RefNotFound:
        raise RefNotFound(f"no commit {sha!r} in this template") from None


def _overlay(repo: TemplateRepo, commit: Commit | None, edits: dict[str, bytes | None]) -> FileSource:
    """The files of `commit` with `edits` applied, read on demand."""
    at = commit.id.decode() if commit is not None else None

    def read(path: str) -> bytes | None:
        if path in edits:
            return edits[path]
        if at is None:
            return None
        try:
            return browse.raw(repo, at, path)
        except (NotFound, InvalidInput):  # absent, a directory, or a path like ../x
            return None

    return read


def _prompt_files(raw: bytes | None) -> dict[str, str]:
    """Which prompts the manifest keeps in files: {"systemPrompt": "prompts/system.md"}."""
    try:
        manifest = jsonsafe.loads(raw) if raw is not None else None
    except ValueError:
        return {}
    config = manifest.get("promptConfig") if isinstance(manifest, dict) else None
    if not isinstance(config, dict):
        return {}
    return {key: value["file"] for key in PROMPT_KEYS
            if isinstance(value := config.get(key), dict) and isinstance(value.get("file"), str)}
