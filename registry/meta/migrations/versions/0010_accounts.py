"""Accounts: the users table's sign-in columns (password hash, verified address, disabled, TOTP,
display name) and a unique index on the email address (sign-in by email finds one account), and
the accounts' own tables: sessions, one-time links, recovery codes, passkeys, single sign-on
identities and ceremonies in progress.

Addresses are compared in lower case from now on, so they are lowered here; where two accounts
shared one (nothing checked before), the older account keeps it and the others' is cleared.

Frozen: the tables are spelled out here, not read from schema.py or accounts_schema.py.

Revision ID: 0010
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

USER_COLUMNS = ("password_hash", "email_verified", "disabled", "totp_secret", "totp_last_step", "display_name")


def _user_fk(ondelete: str = "CASCADE") -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete=ondelete)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("password_hash", sa.Text()))
        batch.add_column(sa.Column("email_verified", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("disabled", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("totp_secret", sa.Text()))
        batch.add_column(sa.Column("totp_last_step", sa.Integer()))
        batch.add_column(sa.Column("display_name", sa.Text()))
    op.execute("UPDATE users SET email = lower(trim(email)) WHERE email IS NOT NULL")
    op.execute("UPDATE users SET email = NULL WHERE email = ''")
    op.execute("UPDATE users SET email = NULL WHERE email IS NOT NULL AND id > "
               "(SELECT min(u2.id) FROM users u2 WHERE u2.email = users.email)")
    op.create_index("users_email", "users", ["email"], unique=True)

    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, _user_fk(), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_seen_at", sa.Float, nullable=False),
        sa.Column("idle_until", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("ip", sa.Text),
        sa.Column("user_agent", sa.Text),
        sa.Column("second_factor", sa.Boolean, nullable=False, server_default="0"),
        sa.Index("sessions_by_user", "user_id"),
        sa.Index("sessions_by_expiry", "expires_at"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "account_links",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("user_id", sa.Integer, _user_fk()),
        sa.Column("email", sa.Text),
        sa.Column("created_by", sa.Integer, _user_fk("SET NULL")),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("used_at", sa.Float),
        sa.Index("account_links_by_user", "user_id", "kind"),
        sa.Index("account_links_by_expiry", "expires_at"),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("user_id", sa.Integer, _user_fk(), nullable=False),
        sa.Column("code_hash", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("used_at", sa.Float),
        sa.PrimaryKeyConstraint("user_id", "code_hash"),
    )
    op.create_table(
        "passkeys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, _user_fk(), nullable=False),
        sa.Column("credential_id", sa.Text, nullable=False, unique=True),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("sign_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("user_handle", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("transports", sa.Text, nullable=False, server_default="[]"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_used_at", sa.Float),
        sa.Index("passkeys_by_user", "user_id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "oidc_identities",
        sa.Column("issuer", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("user_id", sa.Integer, _user_fk(), nullable=False),
        sa.Column("email", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_used_at", sa.Float),
        sa.PrimaryKeyConstraint("issuer", "subject"),
        sa.Index("oidc_identities_by_user", "user_id"),
    )
    op.create_table(
        "account_challenges",
        sa.Column("handle_hash", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("user_id", sa.Integer, _user_fk()),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Index("account_challenges_by_expiry", "expires_at"),
    )


def downgrade() -> None:
    for name in ("account_challenges", "oidc_identities", "passkeys", "recovery_codes", "account_links", "sessions"):
        op.drop_table(name)
    op.drop_index("users_email", "users")
    with op.batch_alter_table("users") as batch:
        for column in USER_COLUMNS:
            batch.drop_column(column)
