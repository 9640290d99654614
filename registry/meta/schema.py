"""The metadata schema as SQLAlchemy Core tables, one definition for SQLite and PostgreSQL.

It matches, column for column, what the embedded SQLite store created before migrations
existed, so such a data directory upgrades in place (migrations/ stamps it as the baseline).
Alembic migrations (registry/meta/migrations) are the only way the schema changes: each states
its own DDL, so a change here needs a new revision (tests/unit/test_migrations.py compares a
database migrated to head with this metadata, and fails until they agree).
"""
from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()


def _template_fk() -> ForeignKey:
    return ForeignKey("templates.id", ondelete="CASCADE")


def _user_fk() -> ForeignKey:
    return ForeignKey("users.id", ondelete="CASCADE")


users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    Column("email", Text),
    Column("is_admin", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    # signing in (migration 0010; the accounts' own tables are in accounts_schema.py)
    Column("password_hash", Text),  # argon2id
    Column("email_verified", Boolean, nullable=False, server_default="0"),
    Column("disabled", Boolean, nullable=False, server_default="0"),
    Column("totp_secret", Text),  # set = TOTP enrolled
    Column("totp_last_step", Integer),  # the last time step a code was accepted for (no replay)
    Column("display_name", Text),
    Index("users_email", "email", unique=True),  # lower case; sign-in by email finds one account
)

tokens = Table(
    "tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, _user_fk(), nullable=False),
    Column("hash", Text, nullable=False, unique=True),
    Column("scope", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    Column("revoked", Boolean, nullable=False, server_default="0"),
    Column("last_used_at", Float),  # migration 0003
)

templates = Table(
    "templates", metadata,
    Column("id", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("visibility", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("parent_id", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("update_pulls", Boolean, nullable=False, server_default="1"),  # migration 0011
    UniqueConstraint("owner", "name"),
)

dependencies = Table(  # migration 0011: what each template's default head extends
    "dependencies", metadata,
    Column("template_id", Text, _template_fk(), primary_key=True),
    Column("parent", Text, nullable=False),
    Column("ref", Text, nullable=False),
    Column("sha", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("dependencies_by_parent", "parent"),
)

collaborators = Table(
    "collaborators", metadata,
    Column("template_id", Text, _template_fk(), nullable=False),
    Column("user_id", Integer, _user_fk(), nullable=False),
    Column("role", Text, nullable=False),
    PrimaryKeyConstraint("template_id", "user_id"),
)

protections = Table(
    "protections", metadata,
    Column("template_id", Text, _template_fk(), nullable=False),
    Column("branch", Text, nullable=False),
    Column("rule", Text, nullable=False),  # JSON
    PrimaryKeyConstraint("template_id", "branch"),
)

statuses = Table(
    "statuses", metadata,
    Column("template_id", Text, _template_fk(), nullable=False),
    Column("sha", Text, nullable=False),
    Column("context", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("problems", Text, nullable=False),  # JSON
    Column("target_url", Text),
    Column("enqueued", Integer, nullable=False, server_default="0"),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    PrimaryKeyConstraint("template_id", "sha", "context"),
    Index("statuses_waiting", "state", "enqueued", "updated_at"),
)

stars = Table(
    "stars", metadata,
    Column("template_id", Text, _template_fk(), nullable=False),
    Column("user_id", Integer, _user_fk(), nullable=False),
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("template_id", "user_id"),
)

ratings = Table(
    "ratings", metadata,
    Column("template_id", Text, _template_fk(), nullable=False),
    Column("user_id", Integer, _user_fk(), nullable=False),
    Column("score", Integer, nullable=False),
    Column("review", Text),
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("template_id", "user_id"),
)

pulls = Table(
    "pulls", metadata,
    Column("template_id", Text, _template_fk(), nullable=False),
    Column("number", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("author", Text, nullable=False),
    Column("head_template_id", Text, nullable=False),
    Column("head_branch", Text, nullable=False),
    Column("base_branch", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("head_sha", Text, nullable=False),
    Column("merged_sha", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    PrimaryKeyConstraint("template_id", "number"),
    Index("pulls_by_head", "head_template_id", "head_branch", "state"),
)

reviews = Table(
    "reviews", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("template_id", Text, _template_fk(), nullable=False),
    Column("number", Integer, nullable=False),
    Column("author", Text, nullable=False),
    Column("event", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("sha", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

comments = Table(
    "comments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("template_id", Text, _template_fk(), nullable=False),
    Column("number", Integer, nullable=False),
    Column("author", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("path", Text),
    Column("line", Integer),
    Column("side", Text),
    Column("review_id", Integer),
    Column("sha", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

runs = Table(
    "runs", metadata,
    Column("id", Text, primary_key=True),
    Column("template_id", Text, _template_fk(), nullable=False),
    Column("sha", Text, nullable=False),
    Column("ref", Text),
    Column("trigger", Text, nullable=False),
    Column("requested_by", Text),
    Column("state", Text, nullable=False),
    Column("backend", Text, nullable=False),
    Column("task_arn", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("summary", Text, nullable=False),
    Column("logs", Text, nullable=False),
    Column("report", Text),  # JSON
    Column("metrics", Text, nullable=False),  # JSON
    Column("cost", Text, nullable=False),  # JSON
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Index("runs_by_template", "template_id", "created_at"),
    Index("runs_by_sha", "template_id", "sha", "trigger"),
)

# -- events (migration 0006): the append-only record, webhooks and their deliveries, usage per day
events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", Float, nullable=False),
    Column("actor", Text),
    Column("action", Text, nullable=False),
    Column("template_id", Text),  # no foreign key: the record outlives a deleted template
    Column("template", Text),  # owner/name when it happened
    Column("payload", Text, nullable=False),  # JSON
    Column("request_id", Text),
    Column("client_ip", Text),
    Index("events_by_template", "template_id", "id"),
    Index("events_by_time", "time"),
    Index("events_by_actor", "actor", "id"),
    Index("events_by_action", "action", "id"),
    sqlite_autoincrement=True,  # ids are never reused, as PostgreSQL's sequences
)

hooks = Table(
    "hooks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("template_id", Text, _template_fk(), nullable=False),
    Column("url", Text, nullable=False),
    Column("events", Text, nullable=False),  # JSON list
    Column("secret", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_by", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("hooks_by_template", "template_id"),
    sqlite_autoincrement=True,
)

deliveries = Table(
    "deliveries", metadata,
    Column("id", Text, primary_key=True),
    Column("hook_id", Integer, ForeignKey("hooks.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", Integer),
    Column("event", Text, nullable=False),  # the hook event name: push, pull_request, ...
    Column("body", Text, nullable=False),  # the JSON sent, fixed when the event happened
    Column("status", Text, nullable=False),  # pending, delivered, failed, refused
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("response_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer),
    Column("next_attempt_at", Float, nullable=False),
    Column("lease_until", Float),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("deliveries_by_hook", "hook_id", "created_at"),
    Index("deliveries_due", "status", "next_attempt_at"),
)

usage = Table(
    "usage", metadata,
    Column("template_id", Text, _template_fk(), nullable=False),
    Column("day", Text, nullable=False),  # YYYY-MM-DD, UTC
    Column("views", Integer, nullable=False, server_default="0"),
    Column("clones", Integer, nullable=False, server_default="0"),
    Column("fetches", Integer, nullable=False, server_default="0"),
    Column("api_reads", Integer, nullable=False, server_default="0"),
    Column("runs", Integer, nullable=False, server_default="0"),
    Column("stars", Integer, nullable=False, server_default="0"),
    Column("forks", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint("template_id", "day"),
    Index("usage_by_day", "day"),
)

# -- writes of refs journalled before they are made (migration 0015; services/landing.py)
ref_writes = Table(
    "ref_writes", metadata,
    Column("id", Text, primary_key=True),  # the write id in the refs document
    Column("template_id", Text, _template_fk(), nullable=False),
    Column("kind", Text, nullable=False),  # push | merge
    Column("actor", Text),
    Column("updates", Text, nullable=False),  # JSON [[ref, old, new], ...]
    Column("details", Text, nullable=False),  # JSON
    Column("state", Text, nullable=False),  # pending | recorded
    Column("created_at", Float, nullable=False),
    Index("ref_writes_by_time", "created_at"),
)

# -- evaluation results of pull requests, per commit and case (migration 0016; services/evaluations.py)
eval_results = Table(
    "eval_results", metadata,
    Column("template_id", Text, _template_fk(), nullable=False),
    Column("sha", Text, nullable=False),
    Column("file", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("params", Text, nullable=False),  # sha256 of the case's parameters, canonical JSON
    Column("provider", Text, nullable=False),  # kind, or "" without a provider
    Column("model", Text, nullable=False),
    Column("digest", Text, nullable=False),  # of the whole input: a result of another commit with the same is reused
    Column("result", Text, nullable=False),  # JSON
    Column("spent_usd", Float, nullable=False, server_default="0"),  # what its model calls cost when made
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("template_id", "sha", "file", "name", "params", "provider", "model"),
    Index("eval_results_by_digest", "template_id", "digest", "provider", "model"),
    Index("eval_results_by_time", "created_at"),
)
