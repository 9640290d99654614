"""What the drafts repository keeps and returns (meta.drafts): plain frozen values."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Draft:
    """A shared draft: `branch` as it was at `base`, changed by the text of its files' documents."""

    id: int
    template_id: str
    branch: str
    base: str
    created_by: str
    created_at: float
    updated_at: float
    last_commit: str | None = None
    pull_number: int | None = None
    rebased: dict[str, Any] | None = None  # {from, to, at, merged: [path], conflicts: [path]}

    @property
    def ref(self) -> str:
        """The hidden ref that keeps the draft's base commit (never advertised to git clients)."""
        return f"refs/drafts/{self.id}/base"


@dataclass(frozen=True)
class DraftFile:
    draft_id: int
    path: str
    seq: int  # the newest update's number
    snapshot_seq: int  # updates up to here are in the snapshot
    created_at: float


@dataclass(frozen=True)
class StoredDoc:
    """A file's document as stored: the snapshot, and every update after it, in order."""

    snapshot: bytes
    snapshot_seq: int
    updates: list[tuple[int, bytes]] = field(default_factory=list)  # (seq, update)

    @property
    def seq(self) -> int:
        return self.updates[-1][0] if self.updates else self.snapshot_seq

    @property
    def size(self) -> int:
        return len(self.snapshot) + sum(len(u) for _, u in self.updates)


@dataclass(frozen=True)
class DraftConflict:
    """A file the branch and the draft both changed apart: every side's text is kept."""

    draft_id: int
    path: str
    base_sha: str
    theirs_sha: str
    base: bytes | None
    theirs: bytes | None
    ours: bytes
    details: list[str]  # what conflicts: the path, or template.json:$.json.path
    created_at: float
