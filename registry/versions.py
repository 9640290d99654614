"""A template's versions: its semver tags (`1.2.0` or `v1.2.0`), newest first with pre-releases
ordered by semver, each with its tag message, tagger, date, and the structured changes of
template.json since the previous version. `extends.ref` may be a range (`^1.2`, `~1.2.3`, or
comparisons like `>=1.2.0,<2`): it resolves to the highest matching version."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import semver
from dulwich.objects import Commit, ObjectID, Tag

from . import jsonsafe
from .errors import InvalidInput, PathNotFound
from .git import browse
from .git.diff import structured
from .git.repo import TemplateRepo

RANGE = re.compile(r"^\s*([\^~]|[<>]=?|==|!=)")


@dataclass(frozen=True)
class Version:
    version: str  # the tag's name
    sha: str  # the commit it names
    message: str
    tagger: str | None
    date: float
    changes: list[dict[str, Any]] = field(default_factory=list)


def parse(tag: str) -> semver.Version | None:
    try:
        return semver.Version.parse(tag[1:] if tag[:1] in ("v", "V") else tag)
    except ValueError:
        return None


def versions(repo: TemplateRepo) -> list[Version]:
    """Every semver tag, newest first, with the manifest changes since the one before it."""
    tagged = sorted(((v, name) for name in _tag_names(repo) if (v := parse(name)) is not None),
                    key=lambda pair: pair[0])
    out: list[Version] = []
    previous: Any = {}
    for _, name in tagged:
        commit = browse.resolve_commit(repo, f"refs/tags/{name}")
        manifest = _manifest(repo, commit)
        message, tagger, date = _tag_info(repo, name, commit)
        out.append(Version(name, commit.id.decode(), message, tagger, date, _changes(previous, manifest)))
        previous = manifest
    return list(reversed(out))


def _changes(old: Any, new: Any) -> list[dict[str, Any]]:
    """Manifest changes by JSON path; the first version's keys are all `added`."""
    if not old and isinstance(new, dict):
        return [{"path": f"$.{key}", "kind": "added", "old": None, "new": value} for key, value in sorted(new.items())]
    return structured(old, new)


def is_range(ref: str) -> bool:
    return bool(RANGE.match(ref))


def resolve(ref: str, repo: TemplateRepo) -> str:
    """The highest version tag matching the range `ref`."""
    clauses = _clauses(ref)
    matching = [(v, name) for name in _tag_names(repo) if (v := parse(name)) is not None
                and all(v.match(c) for c in clauses)]
    if not matching:
        raise PathNotFound(f"no version matches {ref!r}")
    return max(matching)[1]


def matches(ref: str, tag: str) -> bool:
    """Whether version tag `tag` satisfies the range `ref` (False for a tag that is no version)."""
    v = parse(tag)
    return v is not None and all(v.match(c) for c in _clauses(ref))


def newest(repo: TemplateRepo) -> str | None:
    """The tag of the highest released version (pre-releases only when there is nothing else)."""
    tagged = [(v, name) for name in _tag_names(repo) if (v := parse(name)) is not None]
    released = [pair for pair in tagged if not pair[0].prerelease]
    return max(released or tagged)[1] if tagged else None


def previous(repo: TemplateRepo, tag: str) -> str | None:
    """The tag of the highest released version below `tag` (None for the first version or a
    non-version): what a release, or a pre-release of the next one, is compared with."""
    current = parse(tag)
    if current is None:
        return None
    lower = [(v, name) for name in _tag_names(repo)
             if (v := parse(name)) is not None and v < current and not v.prerelease]
    return max(lower)[1] if lower else None


def _clauses(ref: str) -> list[str]:
    ref = ref.strip()
    if ref[:1] in ("^", "~"):
        parts = (ref[1:].split(".") + ["0", "0"])[:3]
        try:
            major, minor, patch = (int(p) for p in parts)
        except ValueError:
            raise InvalidInput(f"bad version range {ref!r}") from None
        low = f">={major}.{minor}.{patch}"
        if ref[0] == "~":
            return [low, f"<{major}.{minor + 1}.0"]
        if major:
            return [low, f"<{major + 1}.0.0"]
        return [low, f"<0.{minor + 1}.0" if minor else f"<0.0.{patch + 1}"]
    clauses = [c.strip() for c in ref.split(",") if c.strip()]
    for clause in clauses:
        try:
            semver.Version.parse("0.0.0").match(clause)
        except ValueError:
            raise InvalidInput(f"bad version range {ref!r}") from None
    return clauses


def _tag_names(repo: TemplateRepo) -> list[str]:
    return [r.removeprefix("refs/tags/") for r in repo.doc.refs if r.startswith("refs/tags/")]


def _manifest(repo: TemplateRepo, commit: Commit) -> Any:
    try:
        return jsonsafe.loads(browse.raw(repo, commit.id.decode(), "template.json"))
    except (PathNotFound, ValueError):
        return {}


def _tag_info(repo: TemplateRepo, name: str, commit: Commit) -> tuple[str, str | None, float]:
    obj = repo.object_store[ObjectID(repo.doc.refs[f"refs/tags/{name}"].encode())]
    if isinstance(obj, Tag):  # annotated: its own message, tagger and date
        return (obj.message.decode("utf-8", "replace").strip(), obj.tagger.decode("utf-8", "replace"),
                float(obj.tag_time))
    return commit.message.decode("utf-8", "replace").strip(), None, float(commit.commit_time)
