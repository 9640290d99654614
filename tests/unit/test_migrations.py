"""Schema migrations: a fresh database gets the newest schema, and a data directory made by the
SQLite store before migrations existed is stamped as the baseline and upgraded in place."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text

from registry.meta import Template
from registry.meta.db import HEAD, MIGRATIONS, open_store
from registry.settings import Settings

LEGACY = (Path(__file__).resolve().parents[1] / "fixtures" / "legacy_sqlite_schema.sql").read_text()


def _version(store) -> str:
    with store.engine.connect() as c:
        return str(c.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def test_a_fresh_database_is_migrated_to_the_newest_schema(tmp_path):
    store = open_store(Settings(data_dir=tmp_path))
    assert _version(store) == HEAD
    assert store.add_user("alice", None, False).name == "alice"
    again = open_store(Settings(data_dir=tmp_path))  # idempotent: already at head
    assert again.get_user("alice").name == "alice"


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
    assert store.get_user("alice").is_admin and store.get_template("alice", "risk").id == "t1"
    store.add_template(Template("t2", "alice", "other", "public", "", None, 1, 1))
    assert store.list_templates("alice", 0, 10)[1] == 2


def test_head_names_the_newest_migration():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD
