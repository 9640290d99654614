"""Metadata: the MetaStore protocol, its records, and the SQLite store (the embedded default)."""
from .base import MetaStore
from .records import (
    FINAL,
    ROLES,
    SCOPES,
    Comment,
    Protection,
    Pull,
    Review,
    Run,
    Status,
    Template,
    Token,
    User,
)
from .sqlite import SqliteMetaStore

__all__ = ["FINAL", "ROLES", "SCOPES", "Comment", "MetaStore", "Protection", "Pull", "Review", "Run", "Status",
           "Template", "Token", "User", "SqliteMetaStore"]
