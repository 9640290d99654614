"""The accounts' own tables (migration 0010), on schema.metadata beside the rest: browser
sessions, one-time links, recovery codes, passkeys, single sign-on identities and ceremonies in
progress. The users table itself, with its sign-in columns, is in schema.py. Every secret a
row stands for (a session id, a link's token, a recovery code, a ceremony's handle) is kept as
its SHA-256 only. registry/meta/sql_accounts*.py read and write them.
"""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, PrimaryKeyConstraint, Table, Text

from .schema import metadata


def _user_fk(ondelete: str = "CASCADE") -> ForeignKey:
    return ForeignKey("users.id", ondelete=ondelete)


sessions = Table(
    "sessions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # the public handle
    Column("token_hash", Text, nullable=False, unique=True),
    Column("user_id", Integer, _user_fk(), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_seen_at", Float, nullable=False),
    Column("idle_until", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("ip", Text),
    Column("user_agent", Text),
    Column("second_factor", Boolean, nullable=False, server_default="0"),
    Column("token_id", Integer),  # migration 0013: the API token a /login token sign-in used
    Index("sessions_by_user", "user_id"),
    Index("sessions_by_expiry", "expires_at"),
    sqlite_autoincrement=True,  # a handle is never reused
)

account_links = Table(
    "account_links", metadata,
    Column("token_hash", Text, primary_key=True),
    Column("kind", Text, nullable=False),  # invite, reset, verify
    Column("user_id", Integer, _user_fk()),
    Column("email", Text),
    Column("created_by", Integer, _user_fk("SET NULL")),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float),
    Index("account_links_by_user", "user_id", "kind"),
    Index("account_links_by_expiry", "expires_at"),
)

recovery_codes = Table(
    "recovery_codes", metadata,
    Column("user_id", Integer, _user_fk(), nullable=False),
    Column("code_hash", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("used_at", Float),
    PrimaryKeyConstraint("user_id", "code_hash"),
)

passkeys = Table(
    "passkeys", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, _user_fk(), nullable=False),
    Column("credential_id", Text, nullable=False, unique=True),  # base64url
    Column("public_key", Text, nullable=False),  # base64url COSE key
    Column("sign_count", Integer, nullable=False, server_default="0"),
    Column("user_handle", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("transports", Text, nullable=False, server_default="[]"),  # JSON list
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float),
    Index("passkeys_by_user", "user_id"),
    sqlite_autoincrement=True,
)

oidc_identities = Table(
    "oidc_identities", metadata,
    Column("issuer", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("user_id", Integer, _user_fk(), nullable=False),
    Column("email", Text),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float),
    PrimaryKeyConstraint("issuer", "subject"),
    Index("oidc_identities_by_user", "user_id"),
)

account_challenges = Table(
    "account_challenges", metadata,
    Column("handle_hash", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("user_id", Integer, _user_fk()),
    Column("data", Text, nullable=False),  # JSON
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("account_challenges_by_expiry", "expires_at"),
)

TABLES = (sessions, account_links, recovery_codes, passkeys, oidc_identities, account_challenges)
