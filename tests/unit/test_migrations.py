"""Schema migrations on SQLite: a fresh database gets the newest schema, exactly schema.metadata;
a database at any earlier revision, or built by the old baseline, upgrades to it with its rows;
and a data directory made by the SQLite store before migrations existed is stamped as the
baseline and upgraded in place (tests/integration/test_migrations_postgres.py: PostgreSQL)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from registry.meta import Template
from registry.meta.db import HEAD, MIGRATIONS, open_store, upgrade, url_for
from registry.meta.engine import make_engine
from registry.settings import Settings
from tests.migration_checks import BEFORE_EVENTS, REVISIONS, catalogue, count, differences, old_baseline, seed, upgrade_to

LEGACY = (Path(__file__).resolve().parents[1] / "fixtures" / "legacy_sqlite_schema.sql").read_text()


def _version(store) -> str:
    with store.engine.connect() as c:
        return str(c.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def test_a_fresh_database_is_migrated_to_the_newest_schema(tmp_path):
    store = open_store(Settings(data_dir=tmp_path))
    assert _version(store) == HEAD
    assert store.users.add("alice", None, False).name == "alice"
    again = open_store(Settings(data_dir=tmp_path))  # idempotent: already at head
    assert again.users.get("alice").name == "alice"


def test_a_data_dir_from_before_migrations_upgrades_in_place(tmp_path):
    settings = Settings(data_dir=tmp_path)
    tmp_path.mkdir(exist_ok=True)
    conn = sqlite3.connect(settings.metadata_db)
    conn.executescript(LEGACY)
    conn.execute("INSERT INTO users(name, email, is_admin, created_at) VALUES ('alice', NULL, 1, 0)")
    conn.execute("INSERT INTO templates VALUES ('t1', 'alice', 'risk', 'public', 'd', NULL, 0, 0)")
    conn.commit()
    conn.close()
    store = open_store(settings)
    assert _version(store) == HEAD  # stamped as the baseline, then upgraded
    assert store.users.get("alice").is_admin and store.templates.get("alice", "risk").id == "t1"
    store.templates.add(Template("t2", "alice", "other", "public", "", None, 1, 1))
    assert store.templates.page("alice", 0, 10)[1] == 2


def test_head_names_the_newest_migration():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD


# -- frozen migrations: the revisions, run in order, make exactly schema.metadata ---------------

def _sqlite(tmp_path):
    settings = Settings(data_dir=tmp_path)
    return settings, make_engine(url_for(settings))


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Engine:
    """An empty database migrated to head, as every start does it."""
    settings, engine = _sqlite(tmp_path_factory.mktemp("fresh"))
    assert upgrade(engine, settings) == HEAD
    return engine


@pytest.fixture(scope="module")
def at_head(fresh) -> list:
    """The fresh database's schema; each upgraded one is compared with it (migration_checks.catalogue)."""
    with fresh.connect() as conn:
        return catalogue(conn)


def test_an_empty_database_migrated_to_head_is_the_schema(fresh):
    with fresh.connect() as conn:
        assert differences(conn) == []


@pytest.mark.parametrize("revision", REVISIONS)
def test_a_database_at_each_revision_upgrades_to_the_schema_with_its_rows(at_head, tmp_path, revision):
    settings, engine = _sqlite(tmp_path)
    with engine.connect() as conn:
        upgrade_to(conn, revision)
        seeded = seed(conn)
    assert upgrade(engine, settings) == HEAD
    with engine.connect() as conn:
        assert catalogue(conn) == at_head
        assert count(conn, list(seeded)) == seeded


@pytest.mark.parametrize("revision", BEFORE_EVENTS)
def test_a_database_the_old_baseline_built_upgrades_to_the_schema(at_head, tmp_path, revision):
    settings, engine = _sqlite(tmp_path)
    with engine.connect() as conn:
        upgrade_to(conn, revision)
        old_baseline(conn)  # tokens.last_used_at and the events tables before 0003 and 0006
        seeded = seed(conn)
    assert upgrade(engine, settings) == HEAD
    with engine.connect() as conn:
        assert catalogue(conn) == at_head
        assert count(conn, list(seeded)) == seeded


def test_0010_lowers_addresses_and_leaves_a_shared_one_to_the_oldest_account(tmp_path):
    settings, engine = _sqlite(tmp_path)
    with engine.connect() as conn:
        upgrade_to(conn, "0009")
        for uid, email in ((1, "Alice@Example.com"), (2, "alice@example.COM "), (3, "  "), (4, "bob@example.com")):
            conn.execute(text("INSERT INTO users (id, name, email, is_admin, created_at) VALUES (:i, :n, :e, 0, 1)"),
                         {"i": uid, "n": f"u{uid}", "e": email})
        conn.commit()
    assert upgrade(engine, settings) == HEAD
    with engine.connect() as conn:
        emails = dict(conn.execute(text("SELECT id, email FROM users ORDER BY id")).all())
    assert emails == {1: "alice@example.com", 2: None, 3: None, 4: "bob@example.com"}
