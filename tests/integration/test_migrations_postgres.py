"""Schema migrations on PostgreSQL (tests/unit/test_migrations.py: SQLite): an empty database
migrated to head is exactly schema.metadata and the search index's tables (search_schema), and a
database at any earlier revision, or built by the old baseline, upgrades to it with its rows.
Two databases on the server tests/pg.py names: one migrated to head once, one emptied for each
earlier revision in turn; each upgraded one is compared with the fresh one at head (migration_checks.catalogue), which is compared with the schema.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from registry.meta.db import HEAD, LOCK_ID, upgrade
from registry.meta.engine import make_engine
from registry.settings import Settings
from tests.migration_checks import REVISIONS, catalogue, count, differences, old_baseline, seed, upgrade_to
from tests.pg import pg_database


@pytest.fixture(scope="module")
def database() -> Iterator[Engine]:
    with pg_database() as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def engine(database) -> Engine:
    """The module's database, emptied: dropping the schema (extensions and all) is quicker than
    making a database, which a loaded machine takes a second or two over."""
    with database.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    return database


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Iterator[Engine]:
    """An empty database migrated to head, as every start does it."""
    with pg_database() as url:
        engine = make_engine(url)
        assert upgrade(engine, Settings(data_dir=tmp_path_factory.mktemp("fresh"))) == HEAD
        yield engine
        engine.dispose()


@pytest.fixture(scope="module")
def at_head(fresh) -> list:
    with fresh.connect() as conn:
        return catalogue(conn)


def test_an_empty_database_migrated_to_head_is_the_schema(fresh):
    with fresh.connect() as conn:
        assert differences(conn) == []


@pytest.mark.parametrize("revision", REVISIONS)
def test_a_database_at_each_revision_upgrades_to_the_schema_with_its_rows(engine, at_head, tmp_path, revision):
    with engine.connect() as conn:
        upgrade_to(conn, revision)
        seeded = seed(conn)
    assert upgrade(engine, Settings(data_dir=tmp_path)) == HEAD
    with engine.connect() as conn:
        assert catalogue(conn) == at_head
        assert count(conn, list(seeded)) == seeded


# Below 0003 (both stamped, not run) and between 0003 and 0006 (0006 stamped); SQLite takes each.
@pytest.mark.parametrize("revision", ["0002", "0005"])
def test_a_database_the_old_baseline_built_upgrades_to_the_schema(engine, at_head, tmp_path, revision):
    with engine.connect() as conn:
        upgrade_to(conn, revision)
        old_baseline(conn)  # tokens.last_used_at and the events tables before 0003 and 0006
        seeded = seed(conn)
    assert upgrade(engine, Settings(data_dir=tmp_path)) == HEAD
    with engine.connect() as conn:
        assert catalogue(conn) == at_head
        assert count(conn, list(seeded)) == seeded


def test_nodes_starting_together_migrate_once_without_deadlock(engine, at_head, tmp_path):
    """Two nodes wait for the migration lock; the one that takes it builds indexes CONCURRENTLY,
    which waits for every older snapshot in the database: a node blocked in pg_advisory_lock held
    one, so each waited on the other for ever (db._pg_lock polls instead)."""
    results: list[str] = []
    url = engine.url.render_as_string(hide_password=False)

    def start() -> None:  # what each node does first
        node = make_engine(url)
        results.append(upgrade(node, Settings(data_dir=tmp_path)))
        node.dispose()

    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_ID})
        holder.commit()
        nodes = [threading.Thread(target=start, daemon=True) for _ in range(2)]
        for node in nodes:
            node.start()
        time.sleep(0.5)  # both are waiting for the lock
        holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_ID})
        holder.commit()
    deadline = time.monotonic() + 60
    for node in nodes:
        node.join(timeout=max(0.0, deadline - time.monotonic()))
    assert results == [HEAD, HEAD]
    with engine.connect() as conn:
        assert catalogue(conn) == at_head


def test_0010_lowers_addresses_and_leaves_a_shared_one_to_the_oldest_account(engine, tmp_path):
    with engine.connect() as conn:
        upgrade_to(conn, "0009")
        for uid, email in ((1, "Alice@Example.com"), (2, "alice@example.COM "), (3, "  "), (4, "bob@example.com")):
            conn.execute(text("INSERT INTO users (id, name, email, is_admin, created_at) VALUES (:i, :n, :e, false, 1)"),
                         {"i": uid, "n": f"u{uid}", "e": email})
        conn.commit()
    assert upgrade(engine, Settings(data_dir=tmp_path)) == HEAD
    with engine.connect() as conn:
        emails = dict(conn.execute(text("SELECT id, email FROM users ORDER BY id")).all())
    assert emails == {1: "alice@example.com", 2: None, 3: None, 4: "bob@example.com"}
