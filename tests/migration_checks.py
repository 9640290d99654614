"""What the migration tests share on SQLite and PostgreSQL: a database taken to one revision,
a few rows in whatever tables it has there, and how a database differs from the schema.

`differences` is Alembic's autogenerate comparison (tables, columns, types, nullability, server
defaults, indexes and unique constraints by name and columns) plus what that comparison leaves
out and the migrations state: foreign keys' ON DELETE, SQLite's AUTOINCREMENT, and PostgreSQL's
index method, operator classes, storage parameters and partial-index predicate. It takes a
second or so (it reflects every table through SQLAlchemy), so a database upgraded from an earlier
revision is compared with a fresh one at head, which `differences` has checked, by `catalogue`:
the schema as the database's own catalogue states it, read in a few queries.
"""
from __future__ import annotations

import re
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, column, inspect, table, text

from registry.meta import accounts_schema, drafts_schema
from registry.meta.db import MIGRATIONS
from registry.meta.schema import metadata
from registry.meta.search_schema import search_metadata


def config(conn: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


ACCOUNT_TABLES = {t.name for t in accounts_schema.TABLES}  # 0010
LATER_TABLES = ACCOUNT_TABLES | {"dependencies", "ref_writes", "eval_results"} | {t.name for t in drafts_schema.TABLES} \
    | {"experiments", "experiment_units"}  # 0010-0017
# Every revision, oldest first.
REVISIONS = [s.revision for s in reversed(list(ScriptDirectory.from_config(config()).walk_revisions()))]
# The revisions the old 0001 could leave a database below while holding what they add (db.PREMADE).
BEFORE_EVENTS = [r for r in REVISIONS if r < "0006"]


def upgrade_to(conn: Connection, revision: str) -> None:
    command.upgrade(config(conn), revision)
    conn.commit()


def schemas(conn: Connection) -> list[MetaData]:
    return [metadata, search_metadata] if conn.dialect.name == "postgresql" else [metadata]


def differences(conn: Connection) -> list[Any]:
    """Every way the database differs from the schema; empty when they match."""
    ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
    found: list[Any] = list(compare_metadata(ctx, schemas(conn)))
    db = inspect(conn)
    for want_table in (t for meta in schemas(conn) for t in meta.sorted_tables):
        want = {(tuple(fk.parent.name for fk in c.elements), c.referred_table.name, c.ondelete)
                for c in want_table.foreign_key_constraints}
        have = {(tuple(fk["constrained_columns"]), fk["referred_table"], fk["options"].get("ondelete"))
                for fk in db.get_foreign_keys(want_table.name)}
        if want != have:
            found.append(("foreign keys", want_table.name, want, have))
        if conn.dialect.name == "sqlite":
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": want_table.name}).scalar()
            if bool(want_table.kwargs.get("sqlite_autoincrement")) != ("AUTOINCREMENT" in str(sql)):
                found.append(("autoincrement", want_table.name))
        else:
            reflected = {ix["name"]: _pg_options(ix["dialect_options"]) for ix in db.get_indexes(want_table.name)}
            for index in want_table.indexes:
                options = _pg_options({f"postgresql_{k}": v for k, v in index.dialect_options["postgresql"].items()})
                if reflected.get(index.name, options) != options:
                    found.append(("index options", index.name, options, reflected[index.name]))
    conn.rollback()
    return found


def _pg_options(options: dict[str, Any]) -> tuple[str, ...]:
    where = options.get("postgresql_where")
    return (options.get("postgresql_using") or "btree",
            str(sorted((k, str(v)) for k, v in (options.get("postgresql_with") or {}).items())),
            str(sorted((options.get("postgresql_ops") or {}).items())),
            re.sub(r"[\s()]", "", str(where)) if where is not None else "")


# A row for each table, in the columns it has at head; a table gets those it has at the revision.
ROWS: dict[str, dict[str, Any]] = {
    "users": {"id": 1, "name": "alice", "email": None, "is_admin": True, "created_at": 1.0},
    "tokens": {"id": 1, "user_id": 1, "hash": "h", "scope": "write", "created_at": 1.0, "revoked": False},
    "templates": {"id": "t1", "owner": "alice", "name": "risk", "visibility": "public", "description": "d",
                  "created_at": 1.0, "updated_at": 1.0},
    "stars": {"template_id": "t1", "user_id": 1, "created_at": 1.0},
    "events": {"id": 1, "time": 1.0, "action": "push", "template_id": "t1", "payload": "{}"},
    "hooks": {"id": 1, "template_id": "t1", "url": "https://example.com/", "events": "[]", "secret": "s",
              "active": True, "created_at": 1.0, "updated_at": 1.0},
    "usage": {"template_id": "t1", "day": "2026-01-01", "views": 3},
}
SEARCH_DOC = ("INSERT INTO search_docs (id, owner, name, title, document) "
              "VALUES ('t1', 'alice', 'risk', 'Risk', to_tsvector('english', 'risk'))")


def seed(conn: Connection) -> dict[str, int]:
    """A row in each table of ROWS (and search_docs) the database has; how many went where."""
    db = inspect(conn)
    present = set(db.get_table_names())
    counts = {}
    for name, row in ROWS.items():
        if name in present:
            columns = {c["name"] for c in db.get_columns(name)}
            values = {k: v for k, v in row.items() if k in columns}
            conn.execute(table(name, *map(column, values)).insert().values(values))
            counts[name] = 1
    if "search_docs" in present:
        conn.execute(text(SEARCH_DOC))
        counts["search_docs"] = 1
    conn.commit()
    return counts


def count(conn: Connection, tables: list[str]) -> dict[str, int]:
    found = {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in tables}
    conn.rollback()
    return found


def old_baseline(conn: Connection) -> None:
    """What the old 0001 left besides the tables of its revision: it built the whole schema.py of
    its day (here today's, without the tables of 0010, 0011, 0014 and 0015, which came long after), so
    0003's column and 0006's tables are there before those ran."""
    of_its_day = [t for t in metadata.sorted_tables if t.name not in LATER_TABLES]
    metadata.create_all(conn, tables=of_its_day)  # the tables missing at this revision
    if "last_used_at" not in {c["name"] for c in inspect(conn).get_columns("tokens")}:
        conn.execute(text("ALTER TABLE tokens ADD COLUMN last_used_at FLOAT"))
    conn.commit()


def catalogue(conn: Connection) -> list[Any]:
    """The schema as the database states it: columns, indexes, constraints (names, definitions,
    defaults), in an order of its own, so two databases with the same schema give the same list."""
    if conn.dialect.name == "postgresql":
        found = [list(conn.execute(text(sql))) for sql in (
            "SELECT table_name, column_name, udt_name, is_nullable, column_default, generation_expression "
            "FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2",
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2")]
    else:
        found = []
        for name, sql in conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                                           "AND name NOT LIKE 'sqlite_%' ORDER BY name")):
            indexes = sorted(tuple(r)[1:] for r in conn.exec_driver_sql(f"PRAGMA index_list('{name}')"))
            found.append((name, "AUTOINCREMENT" in sql,
                          sorted(tuple(r)[1:] for r in conn.exec_driver_sql(f"PRAGMA table_xinfo('{name}')")),
                          [(ix, list(conn.exec_driver_sql(f"PRAGMA index_xinfo('{ix[0]}')"))) for ix in indexes],
                          sorted(tuple(r)[2:] for r in conn.exec_driver_sql(f"PRAGMA foreign_key_list('{name}')"))))
    conn.rollback()
    return found
