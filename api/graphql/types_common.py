"""Plain value types shared by templates and pull requests: checks, refs, commits, versions and
their manifest changes, files, usage days, ratings, users. Names follow REST's in camelCase;
times are what REST gives (epoch seconds), so the two answer the same data."""
from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from registry.meta.records import Rating as RatingRecord
from registry.meta.records import Status
from registry.meta.records import User as UserRecord
from registry.meta.records_events import UsageDay as UsageDayRecord

from .paging import node_id


def js(value: Any) -> JSON:
    """A value as the JSON scalar (a typing cast: JSON is any value JSON can hold)."""
    return cast(JSON, value)


@strawberry.interface(description="An object with a global id, fetchable again by `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.type(description="A commit status: the latest state of one check (validate, index, sandbox, ...).")
class Check:
    context: str
    state: str = strawberry.field(description="pending | success | failure | error")
    description: str
    target_url: str | None
    problems: list[JSON]
    updated_at: float

    @staticmethod
    def of(s: Status) -> Check:
        return Check(context=s.context, state=s.state, description=s.description, target_url=s.target_url,
                     problems=[js(p) for p in s.problems], updated_at=s.updated_at)


@strawberry.type
class Branch:
    name: str
    sha: str
    default: bool


@strawberry.type
class Tag:
    name: str
    sha: str = strawberry.field(description="the tag object, or the commit of a lightweight tag")
    commit: str


@strawberry.type
class Commit:
    sha: str
    message: str
    author: str
    committer: str
    authored_at: int
    committed_at: int
    parents: list[str]

    @staticmethod
    def of(d: dict[str, Any]) -> Commit:
        return Commit(sha=d["sha"], message=d["message"], author=d["author"], committer=d["committer"],
                      authored_at=d["authored_at"], committed_at=d["committed_at"], parents=list(d["parents"]))


@strawberry.type(description="One change of template.json, by JSON path.")
class ManifestChange:
    path: str
    kind: str = strawberry.field(description="added | removed | changed")
    old: JSON | None
    new: JSON | None

    @staticmethod
    def of(d: dict[str, Any]) -> ManifestChange:
        return ManifestChange(path=d["path"], kind=d["kind"], old=d.get("old"), new=d.get("new"))


@strawberry.type(description="A semver tag and the manifest changes since the version before it.")
class Version:
    version: str
    sha: str
    message: str
    tagger: str | None
    date: float
    changes: list[ManifestChange]

    @staticmethod
    def of(v: Any) -> Version:
        return Version(version=v.version, sha=v.sha, message=v.message, tagger=v.tagger, date=v.date,
                       changes=[ManifestChange.of(c) for c in v.changes])


@strawberry.type
class TreeEntry:
    name: str
    path: str
    type: str = strawberry.field(description="dir | file | submodule")
    sha: str
    mode: str


@strawberry.type(description="A file (its text, or base64 when it is not UTF-8) or a directory at a ref.")
class Contents:
    type: str = strawberry.field(description="file | dir")
    name: str
    path: str
    sha: str
    size: int | None
    text: str | None = strawberry.field(description="files that are UTF-8 text")
    content_base64: str | None = strawberry.field(description="files: the bytes, base64")
    entries: list[TreeEntry] | None = strawberry.field(description="directories")


@strawberry.type(description="A file a pull request or comparison changes; template.json also by JSON path.")
class FileChange:
    path: str
    previous_path: str | None
    status: str = strawberry.field(description="added | removed | modified | renamed | copied")
    binary: bool
    patch: str | None
    manifest_changes: list[ManifestChange] | None

    @staticmethod
    def of(d: dict[str, Any]) -> FileChange:
        changes = d.get("manifest_changes")
        return FileChange(path=d["path"], previous_path=d.get("previous_path"), status=d["status"],
                          binary=bool(d.get("binary", False)), patch=d.get("patch"),
                          manifest_changes=[ManifestChange.of(c) for c in changes] if changes is not None else None)


@strawberry.type(description="Usage of a template on one UTC day.")
class UsageDay:
    date: str
    views: int
    clones: int
    fetches: int
    api_reads: int
    runs: int
    stars: int
    forks: int
    cost_usd: float = strawberry.field(description="what models cost the template that day (USD)")

    @staticmethod
    def of(d: UsageDayRecord) -> UsageDay:
        return UsageDay(date=d.day, cost_usd=d.cost_usd, **{k: int(d.counts.get(k, 0)) for k in (
            "views", "clones", "fetches", "api_reads", "runs", "stars", "forks")})


@strawberry.type
class Rating:
    user: str
    score: int
    review: str | None
    created_at: float

    @staticmethod
    def of(r: RatingRecord) -> Rating:
        return Rating(user=r.user, score=r.score, review=r.review, created_at=r.created_at)


@strawberry.type(description="A problem with a manifest: where (a JSON path or a file) and what.")
class Problem:
    path: str
    message: str


@strawberry.type(description="A user. The address is shown to that user only.")
class User(Node):
    login: str
    is_admin: bool
    email: str | None

    @staticmethod
    def of(u: UserRecord, own: bool) -> User:
        return User(id=node_id("User", u.name), login=u.name, is_admin=u.is_admin, email=u.email if own else None)
