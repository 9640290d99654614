"""Metadata: users, tokens, templates, collaborators, protection rules."""
from .base import ROLES, SCOPES, MetaStore, Protection, Status, Template, Token, User
from .sqlite import SqliteMetaStore

__all__ = ["ROLES", "SCOPES", "MetaStore", "Protection", "Status", "Template", "Token", "User", "SqliteMetaStore"]
