"""Dependency graph: the `extends` chain, the templates that extend one, its fork network."""
from __future__ import annotations

from pydantic import BaseModel, Field

from .common import TemplateRef


class ResolvedOut(BaseModel):
    ref: str | None = Field(description="the version tag a range or tag chose; null for a sha or branch")
    sha: str = Field(description="the commit it names now")


class DependencyOut(BaseModel):
    template: TemplateRef
    asked: str = Field(description="extends.ref as written: a tag, sha, branch or range such as ^1.2")
    resolved: ResolvedOut | None = Field(description="what it resolves to now; null when nothing matches")


class DependentOut(DependencyOut):
    satisfied_by_latest: bool | None = Field(
        description="whether the parent's newest version satisfies `asked`; null while it has no version")


class ForkOut(BaseModel):
    template: TemplateRef
    parent: TemplateRef | None = Field(description="the template it was forked from; null for the network's root")
    created_at: float
