"""The drafts' tables (migration 0014), on schema.metadata beside the rest: a draft (a branch and
the commit it stands on), its files' shared documents (a compacted Yjs snapshot and the updates
appended since, numbered per file), who edited it, and the files a rebase left in conflict.

A file's `seq` is the number of its newest update: appending takes the file's row (a row lock on
PostgreSQL, SQLite's write lock), so numbers are given in commit order and "every update after
n" is exact for a reader on any node. registry/meta/sql_drafts.py reads and writes them.
"""
from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Table,
    Text,
)

from .schema import metadata

drafts = Table(
    "drafts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("template_id", Text, ForeignKey("templates.id", ondelete="CASCADE"), nullable=False),
    Column("branch", Text, nullable=False),
    Column("base", Text, nullable=False),  # the commit the draft's text is a change of
    Column("created_by", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("last_commit", Text),  # the newest commit made from it
    Column("pull_number", Integer),  # the pull request it was proposed as
    Column("rebased", Text),  # JSON: the last time the branch moved under it, and what came in
    Index("drafts_by_branch", "template_id", "branch"),
    sqlite_autoincrement=True,  # a number (and refs/drafts/N) is never reused
)

draft_files = Table(
    "draft_files", metadata,
    Column("draft_id", Integer, ForeignKey("drafts.id", ondelete="CASCADE"), nullable=False),
    Column("path", Text, nullable=False),
    Column("seq", Integer, nullable=False),  # the newest update's number (0: none yet)
    Column("snapshot", LargeBinary, nullable=False),  # every update up to snapshot_seq, compacted
    Column("snapshot_seq", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("draft_id", "path"),
)

draft_updates = Table(
    "draft_updates", metadata,
    Column("draft_id", Integer, nullable=False),
    Column("path", Text, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("draft_id", "path", "seq"),
    ForeignKeyConstraint(["draft_id", "path"], ["draft_files.draft_id", "draft_files.path"], ondelete="CASCADE"),
)

draft_editors = Table(
    "draft_editors", metadata,
    Column("draft_id", Integer, ForeignKey("drafts.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("first_at", Float, nullable=False),
    PrimaryKeyConstraint("draft_id", "user_id"),
)

draft_conflicts = Table(
    "draft_conflicts", metadata,
    Column("draft_id", Integer, ForeignKey("drafts.id", ondelete="CASCADE"), nullable=False),
    Column("path", Text, nullable=False),
    Column("base_sha", Text, nullable=False),  # the draft's base before the branch moved
    Column("theirs_sha", Text, nullable=False),  # where the branch moved to
    Column("base", LargeBinary),  # the file at base_sha (None: absent)
    Column("theirs", LargeBinary),  # the file at theirs_sha (None: deleted there)
    Column("ours", LargeBinary, nullable=False),  # the draft's text when the branch moved
    Column("details", Text, nullable=False),  # JSON: the merge's conflicts (paths, JSON paths)
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("draft_id", "path"),
)

TABLES = (drafts, draft_files, draft_updates, draft_editors, draft_conflicts)
