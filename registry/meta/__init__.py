"""Metadata: the MetaStore protocol, its records, and its one implementation over SQLAlchemy Core
(SQLite, the embedded default, or PostgreSQL; registry.meta.db opens and migrates it)."""
from . import accounts_schema  # noqa: F401  (puts the accounts' tables on schema.metadata)
from .base import MetaStore
from .records import (
    FINAL,
    ROLES,
    SCOPES,
    Comment,
    Protection,
    Pull,
    Rating,
    Review,
    Run,
    RunChanges,
    Status,
    Template,
    Token,
    User,
    Visibility,
)
from .records_events import USAGE_KINDS, Delivery, Event, EventFilter, Hook, HookChanges, Outgoing, UsageDay
from .sql import SqlMetaStore

__all__ = ["FINAL", "ROLES", "SCOPES", "Comment", "MetaStore", "Protection", "Pull", "Rating", "Review", "Run",
           "RunChanges", "Status", "Template", "Token", "User", "Visibility", "SqlMetaStore", "USAGE_KINDS", "Delivery",
           "Event", "EventFilter", "Hook", "HookChanges", "Outgoing", "UsageDay"]
